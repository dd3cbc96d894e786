"""Addresses to coordinates: an offline ZIP-centroid geocoder and two HTTP geocoders.

The offline `ZipCentroidGeocoder` (the `zipcodes` package: every US ZIP with its centroid,
county and timezone) is the default and the floor: an HTTP geocoder that finds nothing, or
refuses us, falls back to it, so a location is never left without a position because a provider
was unhelpful. Only "try again later" errors (outages, rate limits) escape, so the Celery task
can retry them.

Provider contracts followed (request parameters and the JSON answers the parsers read):
- US Census Bureau, "Geocoding Services Web Application Programming Interface (API)",
  https://geocoding.geo.census.gov/geocoder/Geocoding_Services_API.html: `locations/address`
  with `street`, `city`, `state`, `zip`, `benchmark`, `format=json`; the answer is
  `{"result": {"input": …, "addressMatches": [{"matchedAddress", "coordinates": {"x": lon,
  "y": lat}, "tigerLine": …, "addressComponents": {"city", "state", "zip", …}}]}}`, an empty
  list when nothing matches, and `{"errors": […], "status": "400"}` for a refused request.
- Nominatim, "Search queries" and "Place Output" (https://nominatim.org/release-docs/latest/api/
  Search/ and …/api/Output/): `/search` with structured `street`, `city`, `state`,
  `postalcode`; `format=jsonv2` answers a list of places with `lat`/`lon` as strings, `category`
  (`class` in plain `json`), `type`, `place_rank`, `display_name` and, with `addressdetails=1`,
  `address` (`house_number`, `road`, `city`/`town`/`village`, `county`, `state`,
  `ISO3166-2-lvl4` such as `US-TX`, `postcode`). An empty list means no match.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import zipcodes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from customers.models import ServiceLocation
from dispatchnode.core.http import HttpClient, InvalidResponse, ProviderError

logger = logging.getLogger(__name__)

GeocodeQuality = ServiceLocation.GeocodeQuality

# Higher is better; the service never replaces a better quality with a worse one.
QUALITY_RANK: dict[str, int] = {
    GeocodeQuality.NONE: 0,
    GeocodeQuality.ZIP_CENTROID: 1,
    GeocodeQuality.STREET: 2,
    GeocodeQuality.ROOFTOP: 3,
}

CENSUS_URL = "https://geocoding.geo.census.gov"
CENSUS_BENCHMARK = "Public_AR_Current"
NOMINATIM_URL = "https://nominatim.openstreetmap.org"
# Nominatim search ranks: 26-27 are streets, 28-30 house numbers and buildings.
NOMINATIM_STREET_RANK = 26


@dataclass(frozen=True)
class GeocodeResult:
    latitude: float
    longitude: float
    quality: str
    provider: str
    matched_address: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    county: str = ""
    timezone: str = ""


class Geocoder(Protocol):
    name: str

    def geocode(
        self, *, street: str, city: str, state: str, postal_code: str
    ) -> GeocodeResult | None:
        """None: the provider answered "no match". Provider trouble raises `ProviderError`."""
        ...


# --- The offline ZIP table ------------------------------------------------------------------


@dataclass(frozen=True)
class ZipInfo:
    zip_code: str
    city: str
    state: str
    county: str
    timezone: str
    latitude: float
    longitude: float
    acceptable_cities: tuple[str, ...] = ()


def _zip5(postal_code: str) -> str | None:
    match = re.fullmatch(r"\s*(\d{5})(?:-?\d{4})?\s*", postal_code or "")
    return match.group(1) if match else None


def _info(record: dict[str, Any]) -> ZipInfo:
    return ZipInfo(
        zip_code=record["zip_code"],
        city=record["city"],
        state=record["state"],
        county=record["county"],
        timezone=record["timezone"],
        latitude=float(record["lat"]),
        longitude=float(record["long"]),
        acceptable_cities=tuple(record["acceptable_cities"]),
    )


@lru_cache(maxsize=1)
def _zip_table() -> dict[str, dict[str, Any]]:
    """ZIP → record, built once per process (the package scans a list on every lookup)."""
    return {record["zip_code"]: record for record in zipcodes.list_all()}


_CITY_WORDS = {"ST": "SAINT", "STE": "SAINTE", "FT": "FORT", "MT": "MOUNT"}


def _city_key(city: str, state: str) -> tuple[str, str]:
    """ "St. Louis", "ST LOUIS" and "Saint Louis" are one city; so are "Ft Worth"/"Fort Worth"."""
    words = re.sub(r"[^A-Z0-9 ]", " ", (city or "").upper()).split()
    if words:
        words[0] = _CITY_WORDS.get(words[0], words[0])
    return " ".join(words), (state or "").strip().upper()


@lru_cache(maxsize=1)
def _city_table() -> dict[tuple[str, str], dict[str, Any]]:
    """(city, state) → the ZIP whose centroid stands for the city.

    The first active STANDARD ZIP of the city wins: the package lists a city's ZIPs in order,
    and PO-box and single-organisation ZIPs (Austin's 73301 is the IRS) sit wherever their post
    office or owner is. Cities known only as an acceptable name of a ZIP come after real ones.
    """
    primary: dict[tuple[str, str], dict[str, Any]] = {}
    alias: dict[tuple[str, str], dict[str, Any]] = {}
    for record in zipcodes.list_all():
        if not record["active"] or record["zip_code_type"] != "STANDARD":
            continue
        primary.setdefault(_city_key(record["city"], record["state"]), record)
        for other in record["acceptable_cities"]:
            alias.setdefault(_city_key(other, record["state"]), record)
    return {**alias, **primary}


@lru_cache(maxsize=4096)
def zip_info(postal_code: str) -> ZipInfo | None:
    """City, state, county, timezone and centroid of a US ZIP ("78701" or "78701-1234")."""
    zip5 = _zip5(postal_code)
    record = _zip_table().get(zip5) if zip5 else None
    return _info(record) if record else None


def city_info(city: str, state: str) -> ZipInfo | None:
    """The ZIP that stands for a city (see `_city_table`), or None for an unknown city."""
    record = _city_table().get(_city_key(city, state))
    return _info(record) if record else None


class ZipCentroidGeocoder:
    """Offline: the ZIP's centroid, else a centroid for the city and state, else no match."""

    name = "zip"

    def geocode(
        self, *, street: str, city: str, state: str, postal_code: str
    ) -> GeocodeResult | None:
        info = zip_info(postal_code)
        if info is not None:
            return GeocodeResult(
                latitude=info.latitude,
                longitude=info.longitude,
                quality=GeocodeQuality.ZIP_CENTROID,
                provider=self.name,
                matched_address=f"{info.city.upper()}, {info.state} {info.zip_code}",
                city=info.city,
                state=info.state,
                postal_code=info.zip_code,
                county=info.county,
                timezone=info.timezone,
            )
        info = city_info(city, state)
        if info is None:
            return None
        # The ZIP and county were picked for the city, not found for the address: not reported.
        return GeocodeResult(
            latitude=info.latitude,
            longitude=info.longitude,
            quality=GeocodeQuality.ZIP_CENTROID,
            provider=self.name,
            matched_address=f"{info.city.upper()}, {info.state}",
            city=info.city,
            state=info.state,
            timezone=info.timezone,
        )


# --- HTTP geocoders -------------------------------------------------------------------------


def _coordinate(value: Any, *, limit: float, provider: str) -> float:
    """A latitude (limit 90) or longitude (limit 180) from a provider, or InvalidResponse."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not -limit <= number <= limit:  # also refuses NaN
        raise InvalidResponse(
            f"The {provider} geocoder answered with an impossible coordinate ({value!r}).",
            provider=provider,
        )
    return number


def parse_census(payload: Any) -> GeocodeResult | None:
    """The first address match of a Census `locations/address` answer, or None for no match.

    Census interpolates the position along the street's address range, hence quality "street".
    It has no county or timezone in `locations` answers: those come from the matched ZIP.
    """
    try:
        matches = payload["result"]["addressMatches"]
        if not isinstance(matches, list):
            raise TypeError("addressMatches is not a list")
        if not matches:
            return None
        match = matches[0]
        coordinates = match["coordinates"]
        components = match.get("addressComponents") or {}
        matched_address = str(match.get("matchedAddress") or "")
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidResponse(
            "The Census geocoder answered in an unexpected shape.", provider="census"
        ) from exc
    postal_code = str(components.get("zip") or "")
    info = zip_info(postal_code)
    return GeocodeResult(
        latitude=_coordinate(coordinates.get("y"), limit=90, provider="census"),
        longitude=_coordinate(coordinates.get("x"), limit=180, provider="census"),
        quality=GeocodeQuality.STREET,
        provider="census",
        matched_address=matched_address,
        city=str(components.get("city") or ""),
        state=str(components.get("state") or ""),
        postal_code=postal_code,
        county=info.county if info else "",
        timezone=info.timezone if info else "",
    )


def nominatim_quality(*, category: str, kind: str, place_rank: int | None) -> str:
    """A building or house is rooftop; a street (or anything ranked as one) is street; a
    town or postcode area is no better than our own ZIP centroid."""
    if category == "building" or (category == "place" and kind == "house"):
        return GeocodeQuality.ROOFTOP
    if category == "highway" or (place_rank or 0) >= NOMINATIM_STREET_RANK:
        return GeocodeQuality.STREET
    return GeocodeQuality.ZIP_CENTROID


def parse_nominatim(payload: Any) -> GeocodeResult | None:
    """The first place of a Nominatim `format=jsonv2` search answer, or None for no match."""
    if not isinstance(payload, list):
        raise InvalidResponse(
            "The Nominatim geocoder answered in an unexpected shape.", provider="nominatim"
        )
    if not payload:
        return None
    place = payload[0]
    if not isinstance(place, dict):
        raise InvalidResponse(
            "The Nominatim geocoder answered in an unexpected shape.", provider="nominatim"
        )
    address = place.get("address") if isinstance(place.get("address"), dict) else {}
    iso = str(address.get("ISO3166-2-lvl4") or "")
    postal_code = str(address.get("postcode") or "")
    info = zip_info(postal_code)
    rank = place.get("place_rank")
    return GeocodeResult(
        latitude=_coordinate(place.get("lat"), limit=90, provider="nominatim"),
        longitude=_coordinate(place.get("lon"), limit=180, provider="nominatim"),
        quality=nominatim_quality(
            category=str(place.get("category") or place.get("class") or ""),
            kind=str(place.get("type") or ""),
            place_rank=rank if isinstance(rank, int) else None,
        ),
        provider="nominatim",
        matched_address=str(place.get("display_name") or ""),
        city=str(address.get("city") or address.get("town") or address.get("village") or ""),
        state=iso.removeprefix("US-") if iso.startswith("US-") else (info.state if info else ""),
        postal_code=postal_code,
        county=str(address.get("county") or (info.county if info else "")),
        timezone=info.timezone if info else "",
    )


class CensusGeocoder:
    """US Census Bureau geocoder: free, no key, US addresses interpolated on TIGER streets."""

    name = "census"

    def __init__(self, *, client: HttpClient) -> None:
        self.client = client

    def geocode(
        self, *, street: str, city: str, state: str, postal_code: str
    ) -> GeocodeResult | None:
        if not street.strip():
            return None  # Census requires a street line and refuses the request without one
        payload = self.client.get_json(
            "/geocoder/locations/address",
            params={
                "street": street,
                "city": city,
                "state": state,
                "zip": postal_code,
                "benchmark": CENSUS_BENCHMARK,
                "format": "json",
            },
        )
        return parse_census(payload)


class NominatimGeocoder:
    """OpenStreetMap Nominatim. The public server allows one request a second and requires a
    User-Agent naming the application (the HTTP client sends one)."""

    name = "nominatim"

    def __init__(self, *, client: HttpClient) -> None:
        self.client = client

    def geocode(
        self, *, street: str, city: str, state: str, postal_code: str
    ) -> GeocodeResult | None:
        params = {"street": street, "city": city, "state": state, "postalcode": postal_code}
        params = {key: value for key, value in params.items() if value.strip()}
        if not params:
            return None
        payload = self.client.get_json(
            "/search",
            params={
                **params,
                "format": "jsonv2",
                "countrycodes": "us",
                "addressdetails": 1,
                "limit": 1,
            },
        )
        return parse_nominatim(payload)


class FallbackGeocoder:
    """Asks each geocoder in turn until one matches.

    No match, or a refusal that will not change on a retry (bad request, expired credentials,
    a malformed answer), moves on to the next geocoder and is logged. An error worth retrying
    (outage, rate limit) propagates so the Celery task retries the whole chain later.
    """

    def __init__(self, geocoders: Sequence[Geocoder]) -> None:
        self.geocoders = tuple(geocoders)
        self.name = "+".join(geocoder.name for geocoder in self.geocoders)

    def geocode(
        self, *, street: str, city: str, state: str, postal_code: str
    ) -> GeocodeResult | None:
        for geocoder in self.geocoders:
            try:
                result = geocoder.geocode(
                    street=street, city=city, state=state, postal_code=postal_code
                )
            except ProviderError as exc:
                if exc.retryable:
                    raise
                logger.warning("geocoder %s failed, falling back: %s", geocoder.name, exc.message)
                continue
            if result is not None:
                return result
        return None


# --- Configuration --------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _configured_geocoder(kind: str, base_url: str, timeout: float) -> Geocoder:
    """One geocoder per configuration and process, so HTTP connections are reused by tasks."""
    if kind == "zip":
        return ZipCentroidGeocoder()
    if kind == "census":
        client = HttpClient(
            provider="census",
            label="Census geocoder",
            base_url=base_url or CENSUS_URL,
            timeout=timeout,
        )
        return FallbackGeocoder([CensusGeocoder(client=client), ZipCentroidGeocoder()])
    if kind == "nominatim":
        client = HttpClient(
            provider="nominatim",
            label="Nominatim geocoder",
            base_url=base_url or NOMINATIM_URL,
            timeout=timeout,
        )
        return FallbackGeocoder([NominatimGeocoder(client=client), ZipCentroidGeocoder()])
    raise ImproperlyConfigured(f"GEOCODER must be zip, census or nominatim, got {kind!r}")


def geocoder_from_settings() -> Geocoder:
    """The geocoder named by `settings.GEOCODER` ("zip", "census" or "nominatim");
    `GEOCODER_URL` replaces the provider's address, `GEOCODER_TIMEOUT` is in seconds."""
    return _configured_geocoder(
        settings.GEOCODER, settings.GEOCODER_URL, float(settings.GEOCODER_TIMEOUT)
    )
