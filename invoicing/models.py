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
        SENT = "sent", "Sent"
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
    amount_paid = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Collected and kept: payments less their refunds and disputed amounts.",
    )
    credited = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="The sum of this invoice's credit notes.",
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Raised by every revision after the invoice was sent."
    )
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
                condition=Q(amount_paid__gte=0) & Q(credited__gte=0),
                name="invoicing_invoice_paid_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__lte=Round(F("total") - F("credited"), 2)),
                name="invoicing_invoice_not_overpaid",
                violation_error_message="The payments exceed what the invoice asks for.",
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
        """What the customer still owes: total − credit notes − what was collected."""
        return self.total - self.credited - self.amount_paid

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.SENT, self.Status.PARTIALLY_PAID)


class InvoiceEvent(TenantModel):
    """The invoice's history, append-only: creation, sending, every revision (with the lines
    before it), payments, refunds, credit notes, voiding and link rotation."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        REVISED = "revised", "Revised"
        SENT = "sent", "Sent"
        PAYMENT = "payment", "Payment recorded"
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute"
        CREDIT_NOTE = "credit_note", "Credit note"
        VOIDED = "voided", "Voided"
        LINK_ROTATED = "link_rotated", "Public link replaced"
        PAID = "paid", "Paid in full"

    invoice = models.ForeignKey("Invoice", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.PositiveIntegerField(default=1)
    note = models.CharField(max_length=500, blank=True)
    snapshot = models.JSONField(
        default=dict, blank=True, help_text="Lines and totals before a revision."
    )
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.kind}"


class CreditNote(TenantModel):
    """Money the customer no longer owes on an invoice: a refund or a price reduction after the
    invoice was sent. Numbered `CN-<year>-<000001>` per organisation."""

    number = models.CharField(max_length=20)
    invoice = models.ForeignKey("Invoice", on_delete=models.PROTECT, related_name="credit_notes")
    payment = models.ForeignKey(
        "Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    reason = models.CharField(max_length=300)
    provider_refund_id = models.CharField(
        max_length=100, blank=True, help_text="The gateway's refund id, when it refunded money."
    )
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="invoicing_cn_number"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoicing_cn_positive"),
            models.UniqueConstraint(
                fields=["organization", "provider_refund_id"],
                condition=~Q(provider_refund_id=""),
                name="invoicing_cn_refund_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PaymentRequest(TenantModel):
    """A pay link made by a gateway for an invoice's balance (a Stripe Checkout Session); our
    invoice id travels in the gateway's metadata and comes back with the payment."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"
        EXPIRED = "expired", "Expired"

    invoice = models.ForeignKey("Invoice", on_delete=models.CASCADE, related_name="pay_requests")
    provider = models.CharField(max_length=30)
    provider_id = models.CharField(max_length=200)
    url = models.URLField(max_length=2000)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "provider_id"],
                name="invoicing_payreq_provider_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_id}"


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
        DISPUTED = "disputed", "Disputed"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    method = models.CharField(max_length=12, choices=Method.choices, default=Method.CARD)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUCCEEDED)
    refunded_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), help_text="Given back so far."
    )
    disputed_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Held by an open or lost card dispute.",
    )
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
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0)
                & Q(disputed_amount__gte=0)
                & Q(refunded_amount__lte=F("amount") - F("disputed_amount")),
                name="invoicing_payment_refund_within",
            ),
            models.UniqueConstraint(
                fields=["organization", "provider", "provider_payment_id"],
                condition=~Q(provider_payment_id=""),
                name="invoicing_payment_provider_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.invoice}"

    @property
    def kept(self) -> Decimal:
        """What this payment still contributes to the invoice."""
        return self.amount - self.refunded_amount - self.disputed_amount
