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

# No docstrings on these bases: drf-spectacular would show them as every subclass's description.


class OrganizationDateTimeField(serializers.DateTimeField):
    # A DateTimeField in the timezone of `context["organization"]` (UTC without one).

    def default_timezone(self) -> dt.tzinfo:
        organization = self.context.get("organization")
        if organization is not None:
            return organization.tzinfo
        return timezone.get_current_timezone()


class TenantModelSerializer(serializers.ModelSerializer):
    # A ModelSerializer whose datetimes speak the organisation's timezone.

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: OrganizationDateTimeField,
    }
