"""Filter bases for the API's query parameters.

A bad value (an id that is not a whole number, an unknown status, a date that is not a date)
is a 400 in the error envelope with the parameter under `errors`; an id of another
organisation's row simply matches nothing, because the queryset is already scoped.
"""

from __future__ import annotations

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from dispatchnode.accounts.models import Organization
from dispatchnode.api.tenancy import request_organization

_MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", _MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A related object's id: a positive whole number (not a model choice, so another tenant's
    id is not revealed by a different error: it matches nothing)."""

    field_class = IdField


class TenantFilterSet(django_filters.FilterSet):
    """A FilterSet that knows the request's organisation (for its country, timezone…)."""

    @property
    def organization(self) -> Organization:
        organization = request_organization(self.request) if self.request is not None else None
        if organization is None:  # the permission check runs first; this is a programming error
            raise RuntimeError("A tenant filter needs a request with an organisation.")
        return organization

    @staticmethod
    def invalid(name: str, message: str) -> ValidationError:
        """The envelope's field error for a parameter whose value cannot be used."""
        return ValidationError({name: [message]})
