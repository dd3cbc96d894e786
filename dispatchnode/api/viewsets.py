"""The tenant-scoped viewset base. Every API resource is built on it.

`get_queryset` is final: it takes the subclass's `get_base_queryset()` and filters it by the
request's organisation. A subclass that tries to override `get_queryset` fails at import time,
so no endpoint can forget the filter, and another tenant's id is a 404 exactly like a missing one.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, viewsets

from dispatchnode.api.tenancy import request_organization


class TenantScopedMixin:
    scope_family: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset(); override get_base_queryset() instead "
                "so the organisation filter always applies."
            )

    @property
    def organization(self):
        return request_organization(self.request)

    def get_base_queryset(self) -> QuerySet:
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
        context["organization"] = None if getattr(self, "swagger_fake_view", False) else (
            self.organization
        )
        return context


class TenantReadOnlyViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class TenantViewSet(TenantScopedMixin, viewsets.ModelViewSet):
    pass


class TenantCreateReadViewSet(
    TenantScopedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    pass
