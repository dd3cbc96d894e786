from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round

from bookings.models import CATEGORY_CHOICES
from dispatchnode.core.models import TenantModel


def new_public_token() -> str:
    return secrets.token_urlsafe(24)


class PriceBookItem(TenantModel):
    class Kind(models.TextChoices):
        SERVICE = "service", "Service"
        LABOR = "labor", "Labour"
        PART = "part", "Part"
        EQUIPMENT = "equipment", "Equipment"
        FEE = "fee", "Fee"
        DISCOUNT = "discount", "Discount"

    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SERVICE)
    category = models.CharField(max_length=20, choices=CATEGORY_CHOICES, default="general")
    unit = models.CharField(max_length=20, default="each")
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    taxable = models.BooleanField(default=True)
    service_type = models.ForeignKey(
        "bookings.ServiceType",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="price_book_items",
        help_text="The default line when a job of this service type is completed.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="invoicing_pbi_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Invoice(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        PARTIALLY_PAID = "partially_paid", "Partially paid"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    number = models.CharField(max_length=20)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="invoices"
    )
    job = models.ForeignKey(
        "bookings.Job", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3, default="USD")
    tax_rate = models.DecimalField(max_digits=6, decimal_places=4, default=Decimal("0"))
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    issued_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    public_token = models.CharField(max_length=64, unique=True, default=new_public_token)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "status", "due_date"])]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="invoicing_number"),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0) & Q(tax_total__gte=0) & Q(total__gte=0),
                name="invoicing_invoice_totals_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0), name="invoicing_invoice_paid_nonnegative"
            ),
            # Rounded to cents: SQLite adds decimals as floats (39.98 + 3.30 ≠ 43.28 there).
            models.CheckConstraint(
                condition=Q(total=Round(F("subtotal") + F("tax_total"), 2)),
                name="invoicing_invoice_total_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def balance(self) -> Decimal:
        return self.total - self.amount_paid


class InvoiceLine(TenantModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    item = models.ForeignKey(
        PriceBookItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    taxable = models.BooleanField(default=True)
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="quantity × unit price, rounded to cents."
    )

    class Meta:
        ordering = ["invoice_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="invoicing_line_qty_positive"),
        ]

    def __str__(self) -> str:
        return self.description


class Payment(TenantModel):
    class Method(models.TextChoices):
        CARD = "card", "Card"
        ACH = "ach", "Bank transfer"
        CASH = "cash", "Cash"
        CHECK = "check", "Check"
        FINANCING = "financing", "Financing"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    method = models.CharField(max_length=12, choices=Method.choices, default=Method.CARD)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUCCEEDED)
    received_at = models.DateTimeField()
    provider = models.CharField(max_length=30, default="manual")
    provider_payment_id = models.CharField(max_length=100, blank=True)
    reference = models.CharField(max_length=100, blank=True, help_text="Check number, memo…")
    recorded_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoicing_payment_positive"),
            models.UniqueConstraint(
                fields=["organization", "provider", "provider_payment_id"],
                condition=~Q(provider_payment_id=""),
                name="invoicing_payment_provider_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.invoice}"
