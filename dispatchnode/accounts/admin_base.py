"""Tenant-aware Django admin: one base for every tenant-owned model, so no admin can forget it.

Who sees what
- A superuser sees every organisation. Changelists get an *organisation* column and filter.
- A staff user who is not a superuser (`is_staff` is what lets them log in to the admin) sees only
  rows of organisations where they hold an active `Membership` with one of the admin's roles
  (owner or dispatcher by default; some admins are owner-only or read-only). The role *is* the
  permission: Django's per-model permissions are not consulted for tenant data. Another
  organisation's row is unreachable: the changelist does not list it and its change page
  behaves like a missing object.
- Foreign-key and many-to-many choices are limited to the row's organisation (to the
  organisations the user administers on an add page). `TenantModel.clean()` still refuses a
  cross-tenant link that reaches the form some other way.

Which organisation a new row gets
- `organization` is `editable=False` on `TenantModel`, so it never comes from a model form.
- A non-superuser administering exactly one organisation: the row gets it, with no field shown.
- A superuser, or a user administering several organisations: the add page shows a required
  *Organisation* select (only their organisations for a non-superuser) as its first field.
- On a change page the organisation is shown read-only; a row never moves between tenants.
- Inline rows take their parent's organisation.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_user_model
from django.db import models
from django.forms.models import BaseInlineFormSet

from dispatchnode.accounts.models import Membership, Organization
from dispatchnode.core.models import TenantModel

ADMIN_ROLES: tuple[str, ...] = (Membership.Role.OWNER, Membership.Role.DISPATCHER)
OWNER_ONLY: tuple[str, ...] = (Membership.Role.OWNER,)

_CACHE_ATTR = "_dispatchnode_admin_orgs"
_SCOPE_ATTR = "_dispatchnode_admin_choice_scope"
_UNSET = object()


def admin_organization_ids(request, roles: Iterable[str] = ADMIN_ROLES) -> frozenset[int] | None:
    """Organisations whose rows `request.user` may handle in the admin; None means all (superuser).

    Cached on the request per role set: a changelist asks many times.
    """
    user = request.user
    if user.is_superuser:
        return None
    if not (user.is_active and user.is_staff):
        return frozenset()
    key = tuple(sorted(set(roles)))
    cache = request.__dict__.setdefault(_CACHE_ATTR, {})
    if key not in cache:
        cache[key] = frozenset(
            Membership.objects.filter(
                user=user, is_active=True, role__in=key, organization__is_active=True
            ).values_list("organization_id", flat=True)
        )
    return cache[key]


def organization_id_of(obj) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, Organization):
        return obj.pk
    return getattr(obj, "organization_id", None)


def may_act(request, roles: Iterable[str], obj=None) -> bool:
    """Whether the user holds one of `roles` in some organisation (in `obj`'s, when given)."""
    if request.user.is_superuser:
        return True
    roles = tuple(roles)
    if not roles:
        return False
    ids = admin_organization_ids(request, roles)
    if obj is None:
        return bool(ids)
    return organization_id_of(obj) in ids


def _choice_scope(request) -> frozenset[int] | None:
    scope = getattr(request, _SCOPE_ATTR, _UNSET)
    return admin_organization_ids(request) if scope is _UNSET else scope


def scoped_choices(model, request):
    """The queryset a related-object choice may come from, or None when unrestricted."""
    scope = _choice_scope(request)
    if isinstance(model, type) and issubclass(model, TenantModel):
        if scope is None:
            return None
        return model._default_manager.filter(organization_id__in=scope)
    if model is Organization:
        return None if scope is None else Organization.objects.filter(pk__in=scope)
    if model is get_user_model():
        if request.user.is_superuser:
            return None  # platform staff may link any login
        ids = scope if scope is not None else admin_organization_ids(request)
        return (
            model._default_manager.filter(
                memberships__organization_id__in=ids, memberships__is_active=True
            )
            .distinct()
            .order_by("username")
        )
    return None


class ScopedChoicesMixin:
    """Limits FK and M2M choices (and autocomplete widgets) to the organisation in scope."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = scoped_choices(db_field.related_model, request)
        if queryset is not None and "queryset" not in kwargs:
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        queryset = scoped_choices(db_field.related_model, request)
        if queryset is not None and "queryset" not in kwargs:
            kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_autocomplete_fields(self, request):
        fields = tuple(super().get_autocomplete_fields(request))
        if request.user.is_superuser:
            return fields
        # Only superusers may browse logins; others pick from a short, scoped select.
        user_model = get_user_model()
        return tuple(
            f for f in fields if self.model._meta.get_field(f).related_model is not user_model
        )

    def get_raw_id_fields(self, request):
        fields = tuple(super().get_raw_id_fields(request))
        if request.user.is_superuser:
            return fields
        user_model = get_user_model()
        return tuple(
            f for f in fields if self.model._meta.get_field(f).related_model is not user_model
        )


class TenantAdminForm(forms.ModelForm):
    """Gives a new row its organisation before model validation runs.

    `TenantModel.clean()` compares every related row's organisation with the instance's, and the
    unique constraints include the organisation, so both need it set first.
    """

    tenant_organization: Organization | None = None  # set per request by TenantAdmin.get_form

    def clean(self):
        cleaned = super().clean()
        if self.instance.organization_id is None:
            organization = (
                cleaned.get("organization")
                if "organization" in self.fields
                else self.tenant_organization
            )
            if organization is not None:
                self.instance.organization = organization
        return cleaned

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        if self.instance.organization_id is not None:
            exclude.discard("organization")  # validate (organization, …) unique constraints
        return exclude


class TenantAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """Base of every tenant-owned model's admin. See the module docstring."""

    form = TenantAdminForm
    view_roles: tuple[str, ...] = ADMIN_ROLES
    edit_roles: tuple[str, ...] = ADMIN_ROLES
    read_only = False  # True: nobody adds or changes rows here; only superusers delete

    # --- who may see and do what -------------------------------------------------------------

    def _visible_roles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.view_roles, *self.edit_roles)))

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        ids = admin_organization_ids(request, self._visible_roles())
        return queryset if ids is None else queryset.filter(organization_id__in=ids)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return may_act(request, self._visible_roles(), obj)

    def has_add_permission(self, request):
        return not self.read_only and may_act(request, self.edit_roles)

    def has_change_permission(self, request, obj=None):
        return not self.read_only and may_act(request, self.edit_roles, obj)

    def has_delete_permission(self, request, obj=None):
        if self.read_only:
            return request.user.is_superuser
        return may_act(request, self.edit_roles, obj)

    # --- the organisation column, filter and field -------------------------------------------

    def shows_organization(self, request) -> bool:
        ids = admin_organization_ids(request, self._visible_roles())
        return ids is None or len(ids) > 1

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if self.shows_organization(request) and "organization" not in columns:
            columns.append("organization")
        return columns

    def get_list_filter(self, request):
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and "__" not in item:
                field = self.opts.get_field(item)
                if field.many_to_one or field.many_to_many:
                    # List only related rows that appear in this (tenant-scoped) changelist.
                    item = (item, admin.RelatedOnlyFieldListFilter)
            filters.append(item)
        if self.shows_organization(request):
            # A member of several organisations must not see the names of all the others.
            filters.insert(
                0,
                "organization"
                if request.user.is_superuser
                else ("organization", admin.RelatedOnlyFieldListFilter),
            )
        return filters

    def get_list_select_related(self, request):
        related = super().get_list_select_related(request)
        if self.shows_organization(request) and isinstance(related, list | tuple):
            return (*related, "organization")
        return related

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and "organization" not in fields:
            fields = ("organization", *fields)
        return fields

    def get_exclude(self, request, obj=None):
        # `organization` is not editable; on an add page it may come back as a plain form field.
        return [*(super().get_exclude(request, obj) or ()), "organization"]

    def _organization_choice_needed(self, request, obj) -> bool:
        if obj is not None:
            return False
        ids = admin_organization_ids(request, self.edit_roles)
        return ids is None or len(ids) > 1

    def organization_choices(self, request):
        ids = admin_organization_ids(request, self.edit_roles)
        organizations = Organization.objects.order_by("name")
        return organizations if ids is None else organizations.filter(pk__in=ids)

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "organization"]
        if obj is not None or self._organization_choice_needed(request, obj):
            fields.insert(0, "organization")
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        wanted = obj is not None or self._organization_choice_needed(request, obj)
        if wanted and "organization" not in flatten_fieldsets(fieldsets):
            fieldsets.insert(0, (None, {"fields": ["organization"]}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        fixed = None
        if obj is not None:
            scope = frozenset({obj.organization_id})
        else:
            scope = admin_organization_ids(request, self.edit_roles)
            if scope is not None and len(scope) == 1:
                fixed = Organization.objects.get(pk=next(iter(scope)))
        setattr(request, _SCOPE_ATTR, scope)
        form = super().get_form(request, obj, change=change, **kwargs)
        attrs = {"tenant_organization": fixed}
        if self._organization_choice_needed(request, obj):
            attrs["organization"] = forms.ModelChoiceField(
                queryset=self.organization_choices(request),
                label="Organisation",
                help_text="The organisation this row belongs to; it cannot be changed later.",
            )
        return type(form.__name__, (form,), attrs)


class TenantInlineForm(forms.ModelForm):
    """An inline row takes its parent's organisation before model validation."""

    tenant_parent = None  # set by TenantInlineFormSet

    def clean(self):
        cleaned = super().clean()
        org_id = organization_id_of(self.tenant_parent)
        if self.instance.organization_id is None and org_id is not None:
            self.instance.organization_id = org_id
        return cleaned

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        if self.instance.organization_id is not None:
            exclude.discard("organization")
        return exclude


class TenantInlineFormSet(BaseInlineFormSet):
    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.tenant_parent = self.instance  # the parent's organisation is known only at clean()
        return form


class TenantInlineMixin(ScopedChoicesMixin):
    """Inline of a tenant-owned model; `obj` in the permission hooks is the parent row."""

    form = TenantInlineForm
    formset = TenantInlineFormSet
    extra = 0
    view_roles: tuple[str, ...] = ADMIN_ROLES
    edit_roles: tuple[str, ...] = ADMIN_ROLES
    read_only = False

    def has_view_permission(self, request, obj=None):
        return may_act(request, (*self.view_roles, *self.edit_roles), obj)

    def has_add_permission(self, request, obj):
        return not self.read_only and may_act(request, self.edit_roles, obj)

    def has_change_permission(self, request, obj=None):
        return not self.read_only and may_act(request, self.edit_roles, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.read_only and may_act(request, self.edit_roles, obj)

    def get_formset(self, request, obj=None, **kwargs):
        org_id = organization_id_of(obj)
        if org_id is not None:
            setattr(request, _SCOPE_ATTR, frozenset({org_id}))
        else:
            setattr(request, _SCOPE_ATTR, admin_organization_ids(request, self.edit_roles))
        return super().get_formset(request, obj, **kwargs)


class TenantTabularInline(TenantInlineMixin, admin.TabularInline):
    pass


class TenantStackedInline(TenantInlineMixin, admin.StackedInline):
    pass
