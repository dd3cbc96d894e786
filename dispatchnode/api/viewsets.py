"""The tenant-scoped viewset base. Every API resource is built on it.

`get_queryset` is final: it takes the subclass's `get_base_queryset()` and filters it by the
request's organisation. A subclass that tries to override `get_queryset` fails at import time,
so no endpoint can forget the filter, and another tenant's id is a 404 exactly like a missing one.

A subclass names its model in `queryset` (for the schema and the tenant meta-test), its scope
family in `scope_family` (what an API token needs), and loads rows through its app's selector:

    class JobViewSet(TenantReadOnlyViewSet):
        queryset = Job.objects.all()
        scope_family = "bookings"

        def get_base_queryset(self):
            return job_list(organization=self.organization)
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets

from dispatchnode.accounts.models import SCOPE_FAMILIES, Organization
from dispatchnode.api.schema import TenantAutoSchema
from dispatchnode.api.tenancy import principal_apply, request_organization, request_principal
from dispatchnode.core.scoping import current_scope, scope_reset, scope_set


class TenantScopedMixin:
    scope_family: str = ""
    # Set per action through @action(...) (see HasOrganizationAccess).
    action_reads: bool = False
    action_writes: bool = False
    schema = TenantAutoSchema()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset(); override get_base_queryset() instead "
                "so the organisation filter always applies."
            )
        if cls.scope_family and cls.scope_family not in SCOPE_FAMILIES:
            raise TypeError(
                f"{cls.__name__}.scope_family {cls.scope_family!r} is not one of {SCOPE_FAMILIES}."
            )

    def dispatch(self, request, *args, **kwargs):
        # The scope set in `initial()` lasts for this view only.
        token = scope_set(current_scope())
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            scope_reset(token)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication (the API token) runs here
        principal_apply(request, request_principal(request))

    @property
    def organization(self) -> Organization | None:
        return request_organization(self.request)

    def get_base_queryset(self) -> QuerySet:
        """The rows before the organisation filter; override to call the app's selector."""
        return self.queryset.all()

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request org
            return self.queryset.none()
        organization = self.organization
        if organization is None:
            return self.queryset.none()
        return self.get_base_queryset().filter(organization=organization)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        fake = getattr(self, "swagger_fake_view", False)
        context["organization"] = None if fake else self.organization
        return context


class TenantReadOnlyViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    # The only base: writes are explicit @action verbs that call one service. The generic
    # write bases (ModelViewSet, create/update/destroy mixins) were unused and are removed.
    pass
