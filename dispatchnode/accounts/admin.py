"""Admin for organisations, logins, memberships, Twilio numbers and API tokens.

Secrets never appear in plain text: the Twilio auth token is a write-only field (blank keeps the
stored value), and an API token's key is shown once, in the message after it is created; only its
SHA-256 is stored.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.html import format_html

from dispatchnode.accounts import admin_core  # noqa: F401  (registers the kernel's pages)
from dispatchnode.accounts.admin_base import (
    ADMIN_ROLES,
    OWNER_ONLY,
    ScopedChoicesMixin,
    TenantAdmin,
    TenantAdminForm,
    TenantTabularInline,
    admin_organization_ids,
    may_act,
)
from dispatchnode.accounts.models import (
    SCOPE_FAMILIES,
    SCOPE_LEVELS,
    ApiToken,
    Membership,
    Organization,
    PhoneNumber,
    User,
)
from dispatchnode.accounts.services import api_token_revoke

# --- Organisation ---------------------------------------------------------------------------


class OrganizationAdminForm(forms.ModelForm):
    twilio_auth_token = forms.CharField(
        label="Twilio auth token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave blank to keep the stored token; it is encrypted at rest.",
    )
    clear_twilio_auth_token = forms.BooleanField(
        label="Remove the stored Twilio auth token", required=False
    )

    class Meta:
        model = Organization
        fields = (
            "name",
            "slug",
            "is_active",
            "timezone",
            "country",
            "currency",
            "tax_rate",
            "business_hours",
            "office_phone",
            "email",
            "website",
            "address",
            "caller_privacy",
            "twilio_account_sid",
            "twilio_auth_token",
            "match_auto_threshold",
            "match_review_threshold",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.pop("twilio_auth_token", None)  # the secret never goes to the browser

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_twilio_auth_token"):
            cleaned["twilio_auth_token"] = ""
        elif not cleaned.get("twilio_auth_token"):
            cleaned["twilio_auth_token"] = self.instance.twilio_auth_token or ""
        return cleaned


class PhoneNumberInline(TenantTabularInline):
    model = PhoneNumber
    fields = ("e164", "label", "twilio_sid", "is_active")
    view_roles = ADMIN_ROLES
    edit_roles = ()  # numbers route calls between tenants: platform staff only


class MembershipInline(TenantTabularInline):
    model = Membership
    fields = ("user", "role", "is_active")
    autocomplete_fields = ("user",)
    view_roles = OWNER_ONLY
    edit_roles = OWNER_ONLY


@admin.register(Organization)
class OrganizationAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """Not a tenant row itself: owners change their own organisation, only superusers add one."""

    form = OrganizationAdminForm
    list_display = (
        "name",
        "slug",
        "timezone",
        "office_phone",
        "caller_privacy",
        "twilio_token_stored",
        "is_active",
        "created_at",
    )
    list_filter = ("is_active", "caller_privacy", "country")
    search_fields = ("name", "slug", "email", "office_phone")
    readonly_fields = ("twilio_token_stored", "created_at", "updated_at")
    prepopulated_fields = {"slug": ("name",)}
    date_hierarchy = "created_at"
    inlines = [PhoneNumberInline, MembershipInline]
    fieldsets = (
        (None, {"fields": ("name", "slug", "is_active")}),
        (
            "Locale and billing",
            {"fields": ("timezone", "country", "currency", "tax_rate", "business_hours")},
        ),
        ("Contact", {"fields": ("office_phone", "email", "website", "address")}),
        (
            "Phone agent",
            {
                "fields": (
                    "caller_privacy",
                    "twilio_account_sid",
                    "twilio_auth_token",
                    "clear_twilio_auth_token",
                    "twilio_token_stored",
                )
            },
        ),
        (
            "Duplicate customers",
            {
                "fields": ("match_auto_threshold", "match_review_threshold"),
                "description": (
                    "How sure the matcher must be (0-1) before a new record is attached to an "
                    "existing customer automatically, and from where a person reviews the pair."
                ),
            },
        ),
        ("History", {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(boolean=True, description="Twilio token stored")
    def twilio_token_stored(self, organization: Organization) -> bool:
        return bool(organization.twilio_auth_token)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        ids = admin_organization_ids(request, ADMIN_ROLES)
        return queryset if ids is None else queryset.filter(pk__in=ids)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ("slug", "is_active")
        return fields

    def get_prepopulated_fields(self, request, obj=None):
        return self.prepopulated_fields if request.user.is_superuser else {}

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return may_act(request, ADMIN_ROLES, obj)

    def has_change_permission(self, request, obj=None):
        return may_act(request, OWNER_ONLY, obj)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


# --- Logins ---------------------------------------------------------------------------------


class UserMembershipInline(admin.TabularInline):
    """What a login may do where; granted from the organisation's page."""

    model = Membership
    fk_name = "user"
    fields = ("organization", "role", "is_active")
    readonly_fields = ("organization", "role", "is_active")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Logins span organisations, so only superusers manage them."""

    fieldsets = (*DjangoUserAdmin.fieldsets, ("Contact", {"fields": ("phone",)}))
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_superuser",
        "is_active",
        "last_login",
    )
    search_fields = ("username", "first_name", "last_name", "email", "phone")
    inlines = [UserMembershipInline]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


# --- Tenant rows ------------------------------------------------------------------------------


@admin.register(PhoneNumber)
class PhoneNumberAdmin(TenantAdmin):
    view_roles = ADMIN_ROLES
    edit_roles = ()  # platform staff only: a number decides which tenant answers a call
    list_display = ("e164", "label", "twilio_sid", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("e164", "label", "twilio_sid")
    list_select_related = ()


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    view_roles = OWNER_ONLY
    edit_roles = OWNER_ONLY
    list_display = ("user", "role", "is_active", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name")
    autocomplete_fields = ("user",)
    list_select_related = ("user",)


SCOPE_CHOICES = [
    (f"{family}:{level}", f"{family}:{level}")
    for family in ("*", *SCOPE_FAMILIES)
    for level in SCOPE_LEVELS
]


class ApiTokenAdminForm(TenantAdminForm):
    scopes = forms.MultipleChoiceField(
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="write implies read; * covers every family.",
    )


@admin.register(ApiToken)
class ApiTokenAdmin(TenantAdmin):
    """Keys are generated here and shown once after saving; only their hash is stored."""

    form = ApiTokenAdminForm
    view_roles = OWNER_ONLY
    edit_roles = OWNER_ONLY
    list_display = (
        "name",
        "prefix",
        "scope_list",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "created_by",
        "created_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "expires_at", "last_used_at")
    search_fields = ("name", "prefix")
    list_select_related = ("created_by",)
    readonly_fields = ("prefix", "last_used_at", "revoked_at", "created_by", "created_at")
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        fields = ["name", "scopes", "expires_at"]
        if obj is not None:
            fields += ["prefix", "last_used_at", "revoked_at", "created_by", "created_at"]
        if obj is not None or self._organization_choice_needed(request, obj):
            fields.insert(0, "organization")
        return fields

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if obj is not None else ()

    @admin.display(description="Scopes")
    def scope_list(self, token: ApiToken) -> str:
        return ", ".join(token.scopes)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        key = ApiToken.generate_key()
        obj.set_key(key)
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            format_html(
                "The key of “{}” is <code>{}</code>. Copy it now: only its hash is stored and "
                "it cannot be shown again.",
                obj.name,
                key,
            ),
            messages.WARNING,
        )

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            api_token_revoke(token=token)
        self.message_user(request, f"Revoked {len(tokens)} token(s).", messages.SUCCESS)
