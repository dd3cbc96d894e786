"""Admin for customers and what hangs off them: contact points, locations, equipment, notes and
the message timeline. Every admin here is tenant-scoped through `TenantAdmin`."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.text import Truncator

from customers.models import (
    ContactPoint,
    Customer,
    CustomerNote,
    Equipment,
    Message,
    ServiceLocation,
)
from dispatchnode.core.admin_base import (
    TenantAdmin,
    TenantAdminForm,
    TenantInlineForm,
    TenantStackedInline,
    TenantTabularInline,
)
from dispatchnode.core.phones import InvalidPhoneNumber, phone_to_e164


def _normalise_contact(form: forms.ModelForm, cleaned: dict) -> dict:
    """Phones become E.164 and emails lower case, as on every other intake path."""
    kind, value = cleaned.get("kind"), (cleaned.get("value") or "").strip()
    if not value:
        return cleaned
    if "raw_value" in form.fields:
        cleaned["raw_value"] = cleaned.get("raw_value") or value
    elif not form.instance.raw_value:
        form.instance.raw_value = value  # as typed, kept next to the normalised value
    if kind == ContactPoint.Kind.PHONE:
        try:
            cleaned["value"] = phone_to_e164(value)
        except InvalidPhoneNumber as exc:
            form.add_error("value", exc.message)
    elif kind == ContactPoint.Kind.EMAIL:
        cleaned["value"] = value.lower()
        try:
            forms.EmailField().clean(cleaned["value"])
        except forms.ValidationError as exc:
            form.add_error("value", exc)
    return cleaned


class ContactPointAdminForm(TenantAdminForm):
    def clean(self):
        return _normalise_contact(self, super().clean())


class ContactPointInlineForm(TenantInlineForm):
    def clean(self):
        return _normalise_contact(self, super().clean())


class ContactPointInline(TenantTabularInline):
    model = ContactPoint
    form = ContactPointInlineForm
    fields = (
        "kind",
        "value",
        "extension",
        "label",
        "is_primary",
        "sms_opt_out",
        "email_opt_out",
        "is_valid",
    )


class ServiceLocationInline(TenantStackedInline):
    model = ServiceLocation
    fields = (
        ("label", "is_primary"),
        "raw_address",
        ("street", "unit"),
        ("city", "state", "postal_code"),
        ("gate_code", "pets", "parking"),
        "access_notes",
    )
    show_change_link = True


class CustomerNoteInline(TenantTabularInline):
    model = CustomerNote
    fields = ("kind", "body", "visible_to_agent", "author")
    readonly_fields = ("author",)


def _stamp_note_authors(request, instances) -> None:
    for instance in instances:
        if isinstance(instance, CustomerNote) and instance.author_id is None:
            instance.author = request.user


@admin.register(Customer)
class CustomerAdmin(TenantAdmin):
    list_display = (
        "name",
        "company_name",
        "kind",
        "lead_status",
        "source",
        "do_not_service",
        "created_at",
    )
    list_display_links = ("name",)
    list_filter = ("kind", "lead_status", "source", "do_not_service")
    search_fields = ("first_name", "last_name", "company_name", "contacts__value", "=id")
    date_hierarchy = "created_at"
    list_select_related = ()
    autocomplete_fields = ("merged_into",)
    inlines = [ContactPointInline, ServiceLocationInline, CustomerNoteInline]
    fieldsets = (
        (None, {"fields": (("first_name", "last_name"), "company_name", "kind")}),
        ("Status", {"fields": ("lead_status", "source", "tags")}),
        ("Do not service", {"fields": ("do_not_service", "do_not_service_reason")}),
        ("Merge", {"fields": ("merged_into",), "classes": ("collapse",)}),
    )

    @admin.display(description="Name", ordering="last_name")
    def name(self, customer: Customer) -> str:
        return customer.display_name

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        _stamp_note_authors(request, instances)
        for instance in instances:
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(ContactPoint)
class ContactPointAdmin(TenantAdmin):
    form = ContactPointAdminForm
    list_display = ("value", "kind", "customer", "label", "is_primary", "sms_opt_out", "is_valid")
    list_filter = ("kind", "label", "is_primary", "sms_opt_out", "email_opt_out", "is_valid")
    search_fields = ("value", "raw_value", "customer__first_name", "customer__last_name")
    autocomplete_fields = ("customer",)
    list_select_related = ("customer",)


class EquipmentInline(TenantTabularInline):
    model = Equipment
    fields = (
        "kind",
        "category",
        "make",
        "model_number",
        "serial_number",
        "installed_on",
        "warranty_expires_on",
    )


@admin.register(ServiceLocation)
class ServiceLocationAdmin(TenantAdmin):
    list_display = (
        "one_line",
        "customer",
        "label",
        "postal_code",
        "geocode_quality",
        "needs_review",
        "is_primary",
    )
    list_filter = ("needs_review", "geocode_quality", "state", "is_primary")
    search_fields = (
        "raw_address",
        "street",
        "city",
        "postal_code",
        "customer__first_name",
        "customer__last_name",
        "customer__company_name",
    )
    autocomplete_fields = ("customer",)
    list_select_related = ("customer",)
    readonly_fields = ("match_key", "components")
    inlines = [EquipmentInline]
    fieldsets = (
        (None, {"fields": ("customer", ("label", "is_primary"), "raw_address")}),
        (
            "Normalised address",
            {
                "fields": (
                    ("street", "unit"),
                    ("city", "state", "postal_code", "country"),
                    "components",
                    "match_key",
                    "needs_review",
                )
            },
        ),
        ("Geocode", {"fields": (("latitude", "longitude"), "geocode_quality")}),
        ("Access", {"fields": (("gate_code", "pets", "parking"), "access_notes")}),
    )

    @admin.display(description="Address", ordering="street")
    def one_line(self, location: ServiceLocation) -> str:
        return location.one_line


@admin.register(Equipment)
class EquipmentAdmin(TenantAdmin):
    list_display = ("__str__", "kind", "location", "model_number", "installed_on")
    list_filter = ("kind", "category")
    search_fields = ("make", "model_number", "serial_number", "location__street")
    autocomplete_fields = ("location",)
    list_select_related = ("location",)


@admin.register(CustomerNote)
class CustomerNoteAdmin(TenantAdmin):
    list_display = ("customer", "kind", "excerpt", "visible_to_agent", "author", "created_at")
    list_filter = ("kind", "visible_to_agent")
    search_fields = ("body", "customer__first_name", "customer__last_name")
    autocomplete_fields = ("customer",)
    readonly_fields = ("author",)
    list_select_related = ("customer", "author")
    date_hierarchy = "created_at"

    @admin.display(description="Note")
    def excerpt(self, note: CustomerNote) -> str:
        return Truncator(note.body).chars(60)

    def save_model(self, request, obj, form, change):
        _stamp_note_authors(request, [obj])
        super().save_model(request, obj, form, change)


@admin.register(Message)
class MessageAdmin(TenantAdmin):
    """The timeline is a record of what was sent and received: read-only here."""

    read_only = True
    list_display = (
        "created_at",
        "channel",
        "direction",
        "to_address",
        "customer",
        "status",
        "purpose",
        "excerpt",
    )
    list_filter = ("channel", "direction", "status", "purpose")
    search_fields = ("to_address", "from_address", "body", "=provider_message_id")
    list_select_related = ("customer",)
    date_hierarchy = "created_at"

    @admin.display(description="Body")
    def excerpt(self, message: Message) -> str:
        return Truncator(message.body).chars(60)
