"""Read API for invoices, payments and the price book. Money is a string with two decimals."""

from __future__ import annotations

from rest_framework import serializers

from dispatchnode.api.serializers import TenantModelSerializer
from dispatchnode.api.viewsets import TenantReadOnlyViewSet
from invoicing import selectors
from invoicing.filters import InvoiceFilter, PaymentFilter, PriceBookItemFilter
from invoicing.models import Invoice, InvoiceLine, Payment, PriceBookItem


class InvoiceLineOutputSerializer(TenantModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "position",
            "item",
            "description",
            "quantity",
            "unit_price",
            "taxable",
            "amount",
        ]
        read_only_fields = fields


class InvoiceOutputSerializer(TenantModelSerializer):
    balance = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, help_text="total − amount_paid."
    )
    lines = InvoiceLineOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "status",
            "customer",
            "job",
            "currency",
            "tax_rate",
            "subtotal",
            "tax_total",
            "total",
            "amount_paid",
            "balance",
            "due_date",
            "issued_at",
            "sent_at",
            "paid_at",
            "notes",
            "lines",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class InvoiceViewSet(TenantReadOnlyViewSet):
    """Invoices with their lines, totals and open balance."""

    queryset = Invoice.objects.all()
    scope_family = "invoicing"
    serializer_class = InvoiceOutputSerializer
    filterset_class = InvoiceFilter

    def get_base_queryset(self):
        return selectors.invoice_list(organization=self.organization)


class PaymentOutputSerializer(TenantModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "amount",
            "currency",
            "method",
            "status",
            "received_at",
            "provider",
            "provider_payment_id",
            "reference",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PaymentViewSet(TenantReadOnlyViewSet):
    """Payments recorded against invoices (card, manual, accounting sync)."""

    queryset = Payment.objects.all()
    scope_family = "invoicing"
    serializer_class = PaymentOutputSerializer
    filterset_class = PaymentFilter

    def get_base_queryset(self):
        return selectors.payment_list(organization=self.organization)


class PriceBookItemOutputSerializer(TenantModelSerializer):
    class Meta:
        model = PriceBookItem
        fields = [
            "id",
            "code",
            "name",
            "description",
            "kind",
            "category",
            "unit",
            "unit_price",
            "unit_cost",
            "taxable",
            "service_type",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PriceBookItemViewSet(TenantReadOnlyViewSet):
    """The price book: services, labour, parts and fees an invoice line can come from."""

    queryset = PriceBookItem.objects.all()
    scope_family = "invoicing"
    serializer_class = PriceBookItemOutputSerializer
    filterset_class = PriceBookItemFilter

    def get_base_queryset(self):
        return selectors.price_book_item_list(organization=self.organization)
