"""Admin for the price book, invoices (with lines and payments) and payments (tenant-scoped)."""

from __future__ import annotations

from django.contrib import admin

from dispatchnode.accounts.admin_base import TenantAdmin, TenantTabularInline
from invoicing.models import (
    CreditNote,
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    Payment,
    PaymentRequest,
    PriceBookItem,
)


@admin.register(PriceBookItem)
class PriceBookItemAdmin(TenantAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "category",
        "unit",
        "unit_price",
        "taxable",
        "is_active",
    )
    list_filter = ("kind", "category", "taxable", "is_active")
    search_fields = ("code", "name", "description")
    list_select_related = ()


class InvoiceLineInline(TenantTabularInline):
    model = InvoiceLine
    fields = ("position", "item", "description", "quantity", "unit_price", "taxable", "amount")


class PaymentInline(TenantTabularInline):
    model = Payment
    fields = (
        "amount",
        "currency",
        "method",
        "status",
        "received_at",
        "provider",
        "provider_payment_id",
        "reference",
        "recorded_by",
    )
    readonly_fields = ("recorded_by",)


def _stamp_recorded_by(request, instances) -> None:
    for instance in instances:
        if isinstance(instance, Payment) and instance.recorded_by_id is None:
            instance.recorded_by = request.user


@admin.register(Invoice)
class InvoiceAdmin(TenantAdmin):
    list_display = (
        "number",
        "customer",
        "status",
        "total",
        "amount_paid",
        "balance",
        "due_date",
        "issued_at",
    )
    list_filter = ("status", "currency")
    search_fields = (
        "=number",
        "customer__first_name",
        "customer__last_name",
        "customer__company_name",
    )
    autocomplete_fields = ("customer", "job")
    readonly_fields = ("public_token",)
    list_select_related = ("customer",)
    date_hierarchy = "created_at"
    inlines = [InvoiceLineInline, PaymentInline]

    @admin.display(description="Balance")
    def balance(self, invoice: Invoice):
        return invoice.balance

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        _stamp_recorded_by(request, instances)
        for instance in instances:
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(InvoiceLine)
class InvoiceLineAdmin(TenantAdmin):
    list_display = ("invoice", "position", "description", "quantity", "unit_price", "amount")
    search_fields = ("=invoice__number", "description")
    autocomplete_fields = ("invoice",)
    list_select_related = ("invoice",)


@admin.register(Payment)
class PaymentAdmin(TenantAdmin):
    list_display = ("received_at", "invoice", "amount", "currency", "method", "status", "provider")
    list_filter = ("method", "status", "provider")
    search_fields = ("=invoice__number", "provider_payment_id", "reference")
    autocomplete_fields = ("invoice",)
    readonly_fields = ("recorded_by",)
    list_select_related = ("invoice",)
    date_hierarchy = "received_at"

    def save_model(self, request, obj, form, change):
        _stamp_recorded_by(request, [obj])
        super().save_model(request, obj, form, change)


@admin.register(CreditNote)
class CreditNoteAdmin(TenantAdmin):
    """Credit notes are written by the refund and credit services; here they are read."""

    list_display = ("number", "invoice", "amount", "currency", "reason", "created_at")
    search_fields = ("number", "invoice__number", "reason", "provider_refund_id")
    list_select_related = ("invoice",)
    readonly_fields = ("invoice", "payment", "actor")


@admin.register(InvoiceEvent)
class InvoiceEventAdmin(TenantAdmin):
    """The invoices' history, append-only."""

    list_display = ("invoice", "kind", "version", "note", "created_at")
    list_filter = ("kind",)
    search_fields = ("invoice__number", "note")
    list_select_related = ("invoice",)
    readonly_fields = ("invoice", "actor")


@admin.register(PaymentRequest)
class PaymentRequestAdmin(TenantAdmin):
    list_display = ("invoice", "provider", "provider_id", "amount", "status", "expires_at")
    list_filter = ("provider", "status")
    search_fields = ("invoice__number", "provider_id")
    list_select_related = ("invoice",)
    readonly_fields = ("invoice",)
