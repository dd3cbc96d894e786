"""Serializer bases shared by every app's API.

Datetimes are written in ISO 8601 with the organisation's UTC offset (an appointment at 9:00 in
Austin reads `2025-06-02T09:00:00-05:00`), so a client sees the same wall-clock time the office
and the phone agent speak. Naive input datetimes are read in the organisation's timezone.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from rest_framework import serializers

from dispatchnode.core.models import TenantModel

# No docstrings on these bases: drf-spectacular would show them as every subclass's description.


class OrganizationDateTimeField(serializers.DateTimeField):
    # A DateTimeField in the timezone of `context["organization"]` (UTC without one).

    def default_timezone(self) -> dt.tzinfo:
        organization = self.context.get("organization")
        if organization is not None:
            return organization.tzinfo
        return timezone.get_current_timezone()


class TenantScopedRelatedMixin:
    # A writable related field whose choices are the organisation's rows only: another
    # tenant's id fails exactly like a missing one ("object does not exist").

    def get_queryset(self):
        queryset = super().get_queryset()
        if not _is_tenant_model(queryset.model):
            return queryset
        organization = self.context.get("organization")
        if organization is None:
            return queryset.none()
        return queryset.filter(organization=organization)


def _is_tenant_model(model) -> bool:
    return isinstance(model, type) and issubclass(model, TenantModel)


_SCOPED_CLASSES: dict[type, type] = {}


def scoped_related_field(field: serializers.Field) -> serializers.Field:
    """Give a writable related field (or a many=True field's child) the organisation's rows."""
    target = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
    if not isinstance(target, serializers.RelatedField) or target.read_only:
        return field
    if isinstance(target, TenantScopedRelatedMixin):
        return field
    base = type(target)
    if base not in _SCOPED_CLASSES:
        _SCOPED_CLASSES[base] = type(
            f"TenantScoped{base.__name__}", (TenantScopedRelatedMixin, base), {}
        )
    target.__class__ = _SCOPED_CLASSES[base]
    return field


class TenantModelSerializer(serializers.ModelSerializer):
    # A ModelSerializer whose datetimes speak the organisation's timezone and whose writable
    # related fields (PrimaryKeyRelatedField, SlugRelatedField, many=True too) accept only rows
    # of `context["organization"]` (none without one).

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: OrganizationDateTimeField,
    }

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            scoped_related_field(field)
        return fields
