"""Admin for customers and what hangs off them: contact points, locations, equipment, notes,
the message timeline, merges (with undo) and the duplicate review queue. Every admin here is
tenant-scoped through `TenantAdmin`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.text import Truncator

from customers import selectors
from customers.merge import (
    customer_merge,
    customer_unmerge,
    duplicate_review_merge,
    merge_kept_counts,
    merge_moved_counts,
    merge_refusal,
    merge_undo_missing,
)
from customers.models import (
    Consent,
    ContactPoint,
    Customer,
    CustomerMerge,
    CustomerNote,
    DuplicateReview,
    Equipment,
    FollowUp,
    FollowUpRule,
    Message,
    ServiceLocation,
)
from customers.reviews import duplicate_review_dismiss
from customers.selectors_office import CustomerCard, customer_card, evidence_rows
from customers.services import consent_mirror_sync
from dispatchnode.accounts.admin_base import (
    TenantAdmin,
    TenantAdminForm,
    TenantInlineForm,
    TenantStackedInline,
    TenantTabularInline,
)
from dispatchnode.core.errors import ApplicationError
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
    readonly_fields = ("sms_opt_out", "email_opt_out")  # mirrors of Consent: change it there
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
    readonly_fields = ("sms_opt_out", "email_opt_out")  # mirrors of Consent: change it there


class ConsentAdminForm(TenantAdminForm):
    def clean(self):
        cleaned = super().clean()
        channel, address = cleaned.get("channel"), (cleaned.get("address") or "").strip()
        if channel == Consent.Channel.SMS and address:
            organization = self.instance.organization if self.instance.organization_id else None
            try:
                cleaned["address"] = phone_to_e164(
                    address, region=(organization.country if organization else "") or "US"
                )
            except InvalidPhoneNumber as exc:
                self.add_error("address", exc.message)
        elif channel == Consent.Channel.EMAIL:
            cleaned["address"] = address.lower()
        return cleaned


@admin.register(Consent)
class ConsentAdmin(TenantAdmin):
    """Opt-outs per organisation and address. A change made here is the office's (source
    "staff", stamped now) and is copied onto the customers' contact points with that value."""

    form = ConsentAdminForm
    list_display = ("address", "channel", "status", "source", "changed_at", "note")
    list_filter = ("channel", "status", "source")
    search_fields = ("=address", "note")
    list_select_related = ()
    date_hierarchy = "changed_at"
    fields = ("channel", "address", "status", "note", "source", "changed_at")
    readonly_fields = ("source", "changed_at")

    def get_readonly_fields(self, request, obj=None):
        keys = ("channel", "address") if obj is not None else ()  # the key never changes
        return (*super().get_readonly_fields(request, obj), *keys)

    def save_model(self, request, obj, form, change):
        if not change or "status" in form.changed_data:
            obj.source, obj.changed_at = Consent.Source.STAFF, timezone.now()
        super().save_model(request, obj, form, change)
        consent_mirror_sync(consent=obj)


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


# --- Merges and the duplicate review queue ------------------------------------------------------


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{label.split('.')[-1]}: {n}" for label, n in sorted(counts.items())) or "—"


class CustomerMergeAddForm(TenantAdminForm):
    """The add page performs a merge (through the service); a merge record is never edited."""

    class Meta:
        model = CustomerMerge
        fields = ("survivor", "duplicate")
        help_texts = {
            "survivor": "The customer that stays.",
            "duplicate": "Its rows move to the survivor; it is hidden afterwards.",
        }

    def clean(self):
        cleaned = super().clean()
        survivor, duplicate = cleaned.get("survivor"), cleaned.get("duplicate")
        refusal = (
            merge_refusal(survivor=survivor, duplicate=duplicate)
            if survivor is not None and duplicate is not None
            else None
        )
        if refusal is not None:
            raise forms.ValidationError(refusal.message)
        return cleaned


@admin.register(CustomerMerge)
class CustomerMergeAdmin(TenantAdmin):
    """Merges, read-only; "Undo merge" reverses them. The add page merges two customers."""

    form = CustomerMergeAddForm
    list_display = (
        "id",
        "survivor",
        "duplicate",
        "source",
        "probability",
        "moved",
        "performed_by",
        "created_at",
        "undone_at",
    )
    list_display_links = ("id",)
    list_filter = ("source", ("undone_at", admin.EmptyFieldListFilter))
    search_fields = (
        "=id",
        "survivor__first_name",
        "survivor__last_name",
        "duplicate__first_name",
        "duplicate__last_name",
    )
    list_select_related = ("survivor", "duplicate", "performed_by")
    autocomplete_fields = ("survivor", "duplicate")
    date_hierarchy = "created_at"
    actions = ["undo_merge"]
    readonly_fields = ("moved", "kept", "missing_on_undo")
    detail_fields = (
        "survivor",
        "duplicate",
        "source",
        "probability",
        "moved",
        "kept",
        "evidence",
        "performed_by",
        "created_at",
        "undone_at",
        "undone_by",
        "missing_on_undo",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return super().get_fields(request, obj)
        return ["organization", *self.detail_fields]

    def has_change_permission(self, request, obj=None):
        """A merge record is never edited (its page is read-only); acting on merges in general
        (the undo action) is for the admin's roles."""
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        """Only an undone merge may be deleted: a live one is the only way back."""
        live = obj is not None and obj.undone_at is None
        return not live and super().has_delete_permission(request, obj)

    @admin.display(description="Moved")
    def moved(self, merge: CustomerMerge) -> str:
        return _counts(merge_moved_counts(merge))

    @admin.display(description="Left on the duplicate")
    def kept(self, merge: CustomerMerge) -> str:
        return _counts(merge_kept_counts(merge))

    @admin.display(description="Not found on undo")
    def missing_on_undo(self, merge: CustomerMerge) -> str:
        return _counts({label: len(ids) for label, ids in merge_undo_missing(merge).items()})

    def save_model(self, request, obj, form, change):
        merge = customer_merge(survivor=obj.survivor, duplicate=obj.duplicate, actor=request.user)
        obj.pk = merge.pk
        obj.refresh_from_db()

    @admin.action(description="Undo merge", permissions=["change"])
    def undo_merge(self, request, queryset):
        """Newest first, so a chain selected together unwinds in the only order that works."""
        undone, refused = 0, []
        for merge in queryset.filter(undone_at__isnull=True).order_by("-id"):
            try:
                customer_unmerge(merge=merge, actor=request.user)
            except ApplicationError as exc:
                refused.append(f"#{merge.pk}: {exc.message}")
            else:
                undone += 1
        self.message_user(request, f"Undid {undone} merge(s).", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)


def _cards(review: DuplicateReview) -> list[CustomerCard]:
    selectors.duplicate_review_customers_load([review])
    return [
        customer_card(
            customer,
            # Through the reverse relation: bookings (above customers) owns the jobs.
            job_count=customer.jobs.filter(organization=review.organization).count(),
        )
        for customer in (review.customer_a, review.customer_b)
    ]


class DuplicateReviewAdminForm(TenantAdminForm):
    def clean(self):
        """A pair is stored in id order; whoever adds one by hand may pick them in any order."""
        cleaned = super().clean()
        a, b = cleaned.get("customer_a"), cleaned.get("customer_b")
        if a is not None and b is not None and a.pk > b.pk:
            cleaned["customer_a"], cleaned["customer_b"] = b, a
            self.instance.customer_a, self.instance.customer_b = b, a
        return cleaned


@admin.register(DuplicateReview)
class DuplicateReviewAdmin(TenantAdmin):
    """The review queue: both customers side by side with the matcher's evidence."""

    form = DuplicateReviewAdminForm
    change_form_template = "admin/customers/duplicatereview/change_form.html"
    list_display = ("pair", "status", "probability", "name_a", "name_b", "source", "created_at")
    list_display_links = ("pair",)
    list_filter = ("status", "source")
    search_fields = (
        "customer_a__first_name",
        "customer_a__last_name",
        "customer_b__first_name",
        "customer_b__last_name",
    )
    list_select_related = ("customer_a", "customer_b")
    autocomplete_fields = ("customer_a", "customer_b")
    actions = ["merge_keep_older", "not_the_same_person"]
    # A decision is made by the actions (through the services), never by editing the row.
    detail_fields = (
        "customer_a",
        "customer_b",
        "probability",
        "source",
        "status",
        "decided_by",
        "decided_at",
        "merge",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["customer_a", "customer_b", "probability", "source", "evidence"]
        return ["organization", *self.detail_fields]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return readonly if obj is None else (*readonly, *self.detail_fields)

    @admin.display(description="Pair", ordering="id")
    def pair(self, review: DuplicateReview) -> str:
        return f"#{review.customer_a_id} / #{review.customer_b_id}"

    @admin.display(description="Customer A (older)", ordering="customer_a__last_name")
    def name_a(self, review: DuplicateReview) -> str:
        return review.customer_a.display_name

    @admin.display(description="Customer B", ordering="customer_b__last_name")
    def name_b(self, review: DuplicateReview) -> str:
        return review.customer_b.display_name

    def change_view(self, request, object_id, form_url="", extra_context=None):
        review = self.get_object(request, object_id)
        if review is not None:
            extra_context = {
                **(extra_context or {}),
                "cards": _cards(review),
                "evidence_rows": evidence_rows(review.evidence),
                "review": review,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _decide(self, request, queryset, decide, done: str) -> None:
        decided, refused = 0, []
        for review in queryset.filter(status=DuplicateReview.Status.OPEN):
            try:
                decide(review=review, actor=request.user)
            except ApplicationError as exc:
                refused.append(f"{self.pair(review)}: {exc.message}")
            else:
                decided += 1
        self.message_user(request, f"{done} {decided} pair(s).", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)

    @admin.action(description="Merge (keep older)", permissions=["change"])
    def merge_keep_older(self, request, queryset):
        self._decide(request, queryset, duplicate_review_merge, "Merged")

    @admin.action(description="Not the same person", permissions=["change"])
    def not_the_same_person(self, request, queryset):
        self._decide(request, queryset, duplicate_review_dismiss, "Dismissed")


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(TenantAdmin):
    list_display = ("name", "trigger", "category", "channel", "delay", "max_count", "is_active")
    list_filter = ("trigger", "channel", "is_active")
    search_fields = ("name", "body")
    list_select_related = ()


@admin.register(FollowUp)
class FollowUpAdmin(TenantAdmin):
    """Written by the scan and the send; read here."""

    list_display = ("rule", "customer", "object_type", "object_id", "status", "scheduled_for")
    list_filter = ("status", "object_type")
    search_fields = ("reason", "customer__last_name")
    list_select_related = ("rule", "customer")
    readonly_fields = ("rule", "customer", "job", "message")
