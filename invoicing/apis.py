"""API for invoices, payments and the price book. Money is a string with two decimals.

Reads are the tenant viewsets; writes are explicit actions that call one service each:
`POST /invoices/{id}/payments/` (a manual payment), `/send/`, `/void/`, `/credit-notes/`,
`/rotate-link/`, and `POST /payments/{id}/refund/`.
"""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from dispatchnode.api.serializers import TenantModelSerializer
from dispatchnode.api.viewsets import TenantReadOnlyViewSet
from invoicing import selectors, services_payments, services_sending
from invoicing.filters import InvoiceFilter, PaymentFilter, PriceBookItemFilter
from invoicing.models import CreditNote, Invoice, InvoiceLine, Payment, PriceBookItem


def _actor(request):
    user = request.user
    return user if user is not None and user.is_authenticated else None


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


class CreditNoteOutputSerializer(TenantModelSerializer):
    class Meta:
        model = CreditNote
        fields = ["id", "number", "amount", "currency", "reason", "payment", "created_at"]
        read_only_fields = fields


class InvoiceOutputSerializer(TenantModelSerializer):
    balance = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        read_only=True,
        help_text="total − credited − amount_paid: what the customer still owes.",
    )
    public_url = serializers.SerializerMethodField(
        help_text="The customer's page (no login; the token is the key): lines, totals, Pay."
    )
    lines = InvoiceLineOutputSerializer(many=True, read_only=True)
    credit_notes = CreditNoteOutputSerializer(many=True, read_only=True)

    def get_public_url(self, invoice: Invoice) -> str:
        return services_sending.invoice_public_url(invoice)

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
            "credited",
            "balance",
            "version",
            "public_url",
            "due_date",
            "issued_at",
            "sent_at",
            "paid_at",
            "notes",
            "lines",
            "credit_notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PaymentInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    method = serializers.ChoiceField(choices=services_payments.MANUAL_METHODS)
    currency = serializers.CharField(
        max_length=3, required=False, help_text="The invoice's currency by default."
    )
    reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="Check number…"
    )
    received_at = serializers.DateTimeField(required=False, help_text="Now by default.")


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class CreditNoteInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reason = serializers.CharField(max_length=300)


class SendInputSerializer(serializers.Serializer):
    channels = serializers.MultipleChoiceField(
        choices=services_sending.CHANNELS, required=False, default=set(services_sending.CHANNELS)
    )


class InvoiceViewSet(TenantReadOnlyViewSet):
    """Invoices with their lines, totals, open balance and public page."""

    queryset = Invoice.objects.all()
    scope_family = "invoicing"
    serializer_class = InvoiceOutputSerializer
    filterset_class = InvoiceFilter

    def get_base_queryset(self):
        return selectors.invoice_list(organization=self.organization)

    def _fresh(self, invoice: Invoice) -> Response:
        invoice = self.get_base_queryset().get(pk=invoice.pk)
        return Response(self.get_serializer(invoice).data)

    @extend_schema(
        request=PaymentInputSerializer,
        responses={201: None},
        summary="Record a manual payment",
        description=(
            "Cash, check, card in person, bank transfer or other. 400 for a bad amount or "
            "another currency than the invoice's; 409 for more than the balance (`balance` in "
            "the body) or a void invoice. A payment that pays the invoice closes its job."
        ),
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def payments(self, request, pk=None):
        invoice = self.get_object()
        data = PaymentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        payment = services_payments.payment_record(
            invoice=invoice,
            amount=fields["amount"],
            currency=fields.get("currency") or invoice.currency,
            method=fields["method"],
            reference=fields["reference"],
            received_at=fields.get("received_at"),
            actor=_actor(request),
        )
        output = PaymentOutputSerializer(payment, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SendInputSerializer,
        responses={200: InvoiceOutputSerializer},
        summary="Send (or resend) the invoice",
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def send(self, request, pk=None):
        invoice = self.get_object()
        data = SendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services_sending.invoice_send(
            invoice=invoice, channels=sorted(data.validated_data["channels"]), actor=_actor(request)
        )
        return self._fresh(invoice)

    @extend_schema(
        request=ReasonInputSerializer,
        responses={200: InvoiceOutputSerializer},
        summary="Void the invoice (409 when something was paid)",
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def void(self, request, pk=None):
        invoice = self.get_object()
        data = ReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services_sending.invoice_void(
            invoice=invoice, reason=data.validated_data["reason"], actor=_actor(request)
        )
        return self._fresh(invoice)

    @extend_schema(
        request=CreditNoteInputSerializer,
        responses={201: CreditNoteOutputSerializer},
        summary="Credit part of the balance",
        description="Lowers what is owed, at most the balance (409 otherwise: refund instead).",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="credit-notes",
        filterset_class=None,
        pagination_class=None,
    )
    def credit_notes(self, request, pk=None):
        invoice = self.get_object()
        data = CreditNoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = services_payments.credit_note_issue(
            invoice=invoice,
            amount=data.validated_data["amount"],
            reason=data.validated_data["reason"],
            actor=_actor(request),
        )
        output = CreditNoteOutputSerializer(note, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: InvoiceOutputSerializer},
        summary="Replace the public link (the old one stops working)",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="rotate-link",
        filterset_class=None,
        pagination_class=None,
    )
    def rotate_link(self, request, pk=None):
        invoice = self.get_object()
        services_sending.invoice_link_rotate(invoice=invoice, actor=_actor(request))
        return self._fresh(invoice)


class PaymentOutputSerializer(TenantModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "amount",
            "refunded_amount",
            "disputed_amount",
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

    @extend_schema(
        request=CreditNoteInputSerializer,
        responses={201: CreditNoteOutputSerializer},
        summary="Refund part or all of a payment",
        description=(
            "A card payment is refunded through its gateway; a manual one is recorded as "
            "handed back. Either way a credit note of the amount is issued, so the balance "
            "does not reopen. 409 for more than the payment still holds."
        ),
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def refund(self, request, pk=None):
        payment = self.get_object()
        data = CreditNoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = services_payments.refund_issue(
            payment=payment,
            amount=data.validated_data["amount"],
            reason=data.validated_data["reason"],
            actor=_actor(request),
        )
        output = CreditNoteOutputSerializer(note, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)


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
