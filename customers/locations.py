"""A service location's position: asked of a geocoder, kept only when it is no worse.

Below intake (which positions each new location) and the tasks (which retry the providers).
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction

from customers.geocoding import (
    QUALITY_RANK,
    GeocodeQuality,
    Geocoder,
    GeocodeResult,
    geocoder_from_settings,
)
from customers.models import ServiceLocation

logger = logging.getLogger(__name__)

_GEOCODE_FIELDS = ["latitude", "longitude", "geocode_quality", "updated_at"]
_SIX_PLACES = Decimal("0.000001")


def _degrees(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_SIX_PLACES)


def location_geocode(
    *, location: ServiceLocation, geocoder: Geocoder | None = None
) -> ServiceLocation:
    """Position a service location and record how good the position is.

    A better or equal answer replaces the stored one; a worse one is ignored, so a rooftop
    position is not traded for a ZIP centroid because a later provider knew less. When nothing
    matches the address as it now stands, the old coordinates are kept for reference but the
    quality becomes "none": nothing vouches for them any more.

    The provider is asked outside any transaction (it may take seconds); the decision is made
    on the row locked afresh, so two concurrent geocodes cannot overwrite a better result.
    Provider trouble raises `ProviderError` (see `dispatchnode.core.http`).
    """
    geocoder = geocoder or geocoder_from_settings()
    result = geocoder.geocode(
        street=location.street,
        city=location.city,
        state=location.state,
        postal_code=location.postal_code,
    )
    _location_apply_geocode(location=location, result=result)
    return location


@transaction.atomic
def _location_apply_geocode(*, location: ServiceLocation, result: GeocodeResult | None) -> None:
    current = (
        ServiceLocation.objects.select_for_update()
        .only("latitude", "longitude", "geocode_quality")
        .get(pk=location.pk)
    )
    location.latitude, location.longitude = current.latitude, current.longitude
    location.geocode_quality = current.geocode_quality
    if result is None:
        if current.geocode_quality == GeocodeQuality.NONE:
            return
        location.geocode_quality = GeocodeQuality.NONE
    elif QUALITY_RANK[result.quality] < QUALITY_RANK[current.geocode_quality]:
        logger.info(
            "location %s (organisation %s): kept %s, %s answered only %s",
            location.pk,
            location.organization_id,
            current.geocode_quality,
            result.provider,
            result.quality,
        )
        return
    else:
        location.latitude = _degrees(result.latitude)
        location.longitude = _degrees(result.longitude)
        location.geocode_quality = result.quality
    location.clean_fields(
        exclude=[f.name for f in ServiceLocation._meta.fields if f.name not in _GEOCODE_FIELDS]
    )
    location.save(update_fields=_GEOCODE_FIELDS)
