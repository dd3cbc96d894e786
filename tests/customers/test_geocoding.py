"""Geocoding: the offline ZIP table, Census and Nominatim through local fakes, the fallback
chain, the persisting service (never a downgrade) and the retrying task."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.core.exceptions import ImproperlyConfigured

from customers.geocoding import (
    CENSUS_URL,
    NOMINATIM_URL,
    CensusGeocoder,
    FallbackGeocoder,
    GeocodeQuality,
    NominatimGeocoder,
    ZipCentroidGeocoder,
    ZipInfo,
    geocoder_from_settings,
    nominatim_quality,
    parse_census,
    parse_nominatim,
    zip_info,
)
from customers.locations import location_geocode
from customers.models import ServiceLocation
from customers.tasks import MAX_RETRY_COUNTDOWN, location_geocode_task, retry_countdown
from dispatchnode.celery import app
from dispatchnode.core.http import (
    HttpClient,
    InvalidResponse,
    ProviderUnavailable,
    RateLimited,
)
from tests import factories
from tests.test_settings import run_manage

MAIN_ST = {"street": "123 Main St", "city": "Austin", "state": "TX", "postal_code": "78701"}
OAK_ST = {"street": "123 Oak St", "city": "Austin", "state": "TX", "postal_code": "78702"}
NOWHERE = {"street": "9 Nowhere Ln", "city": "Austin", "state": "TX", "postal_code": "78701"}


OPEN_CLIENTS: list[HttpClient] = []


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()


def census(server, timeout: float = 2.0) -> CensusGeocoder:
    client = HttpClient(
        provider="census", label="Census geocoder", base_url=server.url, timeout=timeout
    )
    OPEN_CLIENTS.append(client)
    return CensusGeocoder(client=client)


def nominatim(server) -> NominatimGeocoder:
    client = HttpClient(provider="nominatim", label="Nominatim geocoder", base_url=server.url)
    OPEN_CLIENTS.append(client)
    return NominatimGeocoder(client=client)


def location(**fields) -> ServiceLocation:
    """A location that has never been geocoded (the factory's default is a ZIP centroid)."""
    defaults = {
        "street": "123 MAIN ST",
        "city": "AUSTIN",
        "state": "TX",
        "postal_code": "78701",
        "latitude": None,
        "longitude": None,
        "geocode_quality": GeocodeQuality.NONE,
    }
    return factories.ServiceLocationFactory(**{**defaults, **fields})


# --- the offline ZIP table ------------------------------------------------------------------


def test_zip_info_for_downtown_austin():
    assert zip_info("78701") == ZipInfo(
        zip_code="78701",
        city="Austin",
        state="TX",
        county="Travis County",
        timezone="America/Chicago",
        latitude=30.2713,
        longitude=-97.7426,
        acceptable_cities=(),
    )


@pytest.mark.parametrize("raw", ["78701-1234", " 78701 ", "787011234"])
def test_zip_info_reads_zip_plus_four(raw):
    assert zip_info(raw).zip_code == "78701"


@pytest.mark.parametrize("raw", ["", "7870", "ABCDE", "99999", "00000", "78701-12"])
def test_zip_info_unknown_or_malformed_is_none(raw):
    assert zip_info(raw) is None


def test_zip_centroid_geocoder_places_a_location_at_its_zip_centroid():
    result = ZipCentroidGeocoder().geocode(**MAIN_ST)

    assert (result.latitude, result.longitude) == (30.2713, -97.7426)
    assert result.quality == GeocodeQuality.ZIP_CENTROID
    assert result.provider == "zip"
    assert (result.city, result.state, result.postal_code) == ("Austin", "TX", "78701")
    assert (result.county, result.timezone) == ("Travis County", "America/Chicago")
    assert result.matched_address == "AUSTIN, TX 78701"


def test_without_a_zip_the_city_and_state_give_the_centroid_of_a_city_zip():
    result = ZipCentroidGeocoder().geocode(street="", city="AUSTIN", state="tx", postal_code="")

    # 78701 is Austin's first street-delivery ZIP (73301 before it is the IRS's own ZIP).
    assert (result.latitude, result.longitude) == (30.2713, -97.7426)
    assert result.quality == GeocodeQuality.ZIP_CENTROID
    assert (result.city, result.state, result.timezone) == ("Austin", "TX", "America/Chicago")
    assert result.postal_code == ""  # a ZIP picked for the city is not the address's ZIP
    assert result.county == ""


@pytest.mark.parametrize("city", ["St. Louis", "ST LOUIS", "saint louis"])
def test_city_spellings_are_one_city(city):
    result = ZipCentroidGeocoder().geocode(street="", city=city, state="MO", postal_code="")

    assert result.city == "Saint Louis"


def test_an_unknown_zip_falls_back_to_the_city():
    result = ZipCentroidGeocoder().geocode(
        street="1 Elm St", city="Round Rock", state="TX", postal_code="99999"
    )

    assert result.city == "Round Rock"
    assert result.postal_code == ""


def test_unknown_zip_and_unknown_city_is_no_match():
    result = ZipCentroidGeocoder().geocode(
        street="1 Elm St", city="Atlantis", state="TX", postal_code="99999"
    )

    assert result is None


# --- Census -------------------------------------------------------------------------------


def test_census_finds_a_known_address_at_street_quality(census_server):
    result = census(census_server).geocode(**MAIN_ST)

    assert (result.latitude, result.longitude) == (30.268035, -97.742682)
    assert result.quality == GeocodeQuality.STREET
    assert result.provider == "census"
    assert result.matched_address == "123 MAIN ST, AUSTIN, TX, 78701"
    assert (result.city, result.state, result.postal_code) == ("AUSTIN", "TX", "78701")
    # Census `locations` answers carry no county or timezone: they come from the ZIP.
    assert (result.county, result.timezone) == ("Travis County", "America/Chicago")
    [seen] = census_server.requests
    assert seen.path == "/geocoder/locations/address"
    assert seen.query == {
        "street": "123 Main St",
        "city": "Austin",
        "state": "TX",
        "zip": "78701",
        "benchmark": "Public_AR_Current",
        "format": "json",
    }


def test_census_no_match_is_none(census_server):
    assert census(census_server).geocode(**NOWHERE) is None


def test_census_without_a_street_is_no_match_and_asks_nothing(census_server):
    result = census(census_server).geocode(street=" ", city="Austin", state="TX", postal_code="")

    assert result is None
    assert census_server.requests == []


def test_census_answer_in_an_unknown_shape_is_invalid():
    with pytest.raises(InvalidResponse, match="unexpected shape"):
        parse_census({"errors": ["Internal error"]})


def test_census_impossible_coordinates_are_invalid():
    payload = {"result": {"addressMatches": [{"coordinates": {"x": -97.7, "y": 123.0}}]}}

    with pytest.raises(InvalidResponse, match="impossible coordinate"):
        parse_census(payload)


# --- Nominatim ----------------------------------------------------------------------------


def test_nominatim_finds_a_house_at_rooftop_quality(nominatim_server):
    result = nominatim(nominatim_server).geocode(**MAIN_ST)

    assert (result.latitude, result.longitude) == (30.268035, -97.742682)
    assert result.quality == GeocodeQuality.ROOFTOP
    assert result.provider == "nominatim"
    assert (result.city, result.state, result.postal_code) == ("Austin", "TX", "78701")
    assert (result.county, result.timezone) == ("Travis County", "America/Chicago")
    assert result.matched_address.startswith("123, Main Street, Austin, Travis County, Texas")
    [seen] = nominatim_server.requests
    assert seen.path == "/search"
    assert seen.query == {
        "street": "123 Main St",
        "city": "Austin",
        "state": "TX",
        "postalcode": "78701",
        "format": "jsonv2",
        "countrycodes": "us",
        "addressdetails": "1",
        "limit": "1",
    }
    assert seen.headers["user-agent"].startswith("DispatchNode/")


def test_nominatim_street_match_is_street_quality(nominatim_server):
    result = nominatim(nominatim_server).geocode(**OAK_ST)

    assert result.quality == GeocodeQuality.STREET
    assert (result.latitude, result.longitude) == (30.262189, -97.719321)


def test_nominatim_no_match_is_none(nominatim_server):
    assert nominatim(nominatim_server).geocode(**NOWHERE) is None


def test_nominatim_leaves_out_empty_fields(nominatim_server):
    nominatim(nominatim_server).geocode(street="", city="", state="", postal_code="78701")

    assert nominatim_server.requests[0].query["postalcode"] == "78701"
    assert "street" not in nominatim_server.requests[0].query


@pytest.mark.parametrize(
    ("category", "kind", "rank", "quality"),
    [
        ("building", "yes", 30, "rooftop"),
        ("place", "house", 30, "rooftop"),
        ("highway", "residential", 26, "street"),
        ("amenity", "school", 30, "street"),
        ("boundary", "postal_code", 21, "zip_centroid"),
        ("place", "city", 16, "zip_centroid"),
        ("place", "city", None, "zip_centroid"),
    ],
)
def test_nominatim_quality(category, kind, rank, quality):
    assert nominatim_quality(category=category, kind=kind, place_rank=rank) == quality


def test_nominatim_plain_json_class_is_read_too():
    place = {"lat": "30.1", "lon": "-97.1", "class": "building", "type": "yes"}

    assert parse_nominatim([place]).quality == GeocodeQuality.ROOFTOP


def test_nominatim_error_object_is_invalid():
    with pytest.raises(InvalidResponse):
        parse_nominatim({"error": {"code": 400, "message": "Nothing to search for."}})


# --- the fallback chain -------------------------------------------------------------------


def test_fallback_uses_the_http_answer_when_there_is_one(census_server):
    geocoder = FallbackGeocoder([census(census_server), ZipCentroidGeocoder()])

    assert geocoder.name == "census+zip"
    assert geocoder.geocode(**MAIN_ST).provider == "census"


def test_fallback_to_zip_centroid_when_census_finds_nothing(census_server):
    geocoder = FallbackGeocoder([census(census_server), ZipCentroidGeocoder()])

    result = geocoder.geocode(**NOWHERE)

    assert (result.provider, result.quality) == ("zip", GeocodeQuality.ZIP_CENTROID)
    assert len(census_server.requests) == 1


@pytest.mark.parametrize("misbehaviour", ["html", "unauthorized"])
def test_fallback_to_zip_centroid_when_census_fails_for_good(census_server, misbehaviour, caplog):
    census_server.fail(misbehaviour)
    geocoder = FallbackGeocoder([census(census_server), ZipCentroidGeocoder()])

    with caplog.at_level(logging.WARNING, logger="customers.geocoding"):
        result = geocoder.geocode(**MAIN_ST)

    assert result.provider == "zip"
    assert "geocoder census failed, falling back" in caplog.text


def test_fallback_when_census_refuses_the_request(census_server):
    geocoder = FallbackGeocoder([census(census_server), ZipCentroidGeocoder()])

    # A street over 100 characters is refused with 400 by the Census contract.
    result = geocoder.geocode(
        street="1 " + "Long " * 30 + "St", city="", state="", postal_code="78701"
    )

    assert result.provider == "zip"


@pytest.mark.parametrize(
    ("misbehaviour", "error"),
    [("unavailable", ProviderUnavailable), ("server_error", ProviderUnavailable)],
)
def test_outages_propagate_for_the_task_to_retry(census_server, misbehaviour, error):
    census_server.fail(misbehaviour)
    geocoder = FallbackGeocoder([census(census_server), ZipCentroidGeocoder()])

    with pytest.raises(error):
        geocoder.geocode(**MAIN_ST)


def test_rate_limit_propagates_with_its_retry_after(nominatim_server):
    nominatim_server.fail("rate_limited")
    geocoder = FallbackGeocoder([nominatim(nominatim_server), ZipCentroidGeocoder()])

    with pytest.raises(RateLimited) as info:
        geocoder.geocode(**MAIN_ST)

    assert info.value.retry_after == 7.0


def test_a_slow_census_is_unavailable(census_server):
    census_server.fail("slow")
    geocoder = FallbackGeocoder([census(census_server, timeout=0.2), ZipCentroidGeocoder()])

    with pytest.raises(ProviderUnavailable, match=r"Census geocoder did not answer within 0\.2 s"):
        geocoder.geocode(**MAIN_ST)


# --- persisting: location_geocode ---------------------------------------------------------


@pytest.mark.django_db
def test_location_geocode_stores_six_decimal_degrees_and_the_quality():
    place = location()

    location_geocode(location=place, geocoder=ZipCentroidGeocoder())

    place.refresh_from_db()
    assert place.latitude == Decimal("30.271300")
    assert place.longitude == Decimal("-97.742600")
    assert place.geocode_quality == GeocodeQuality.ZIP_CENTROID


@pytest.mark.django_db
def test_location_geocode_uses_the_configured_geocoder_by_default(settings, fresh_geocoders):
    settings.GEOCODER = "zip"
    place = location()

    returned = location_geocode(location=place)

    assert returned is place
    assert place.geocode_quality == GeocodeQuality.ZIP_CENTROID


@pytest.mark.django_db
def test_location_geocode_saves_only_the_geocode_fields():
    place = location()
    place.gate_code = "#4321"  # an unsaved edit elsewhere on the row must not be written

    location_geocode(location=place, geocoder=ZipCentroidGeocoder())

    place.refresh_from_db()
    assert place.gate_code == ""
    assert place.geocode_quality == GeocodeQuality.ZIP_CENTROID


@pytest.mark.django_db
def test_a_better_answer_replaces_a_zip_centroid(census_server):
    place = location(
        latitude=Decimal("30.271300"),
        longitude=Decimal("-97.742600"),
        geocode_quality=GeocodeQuality.ZIP_CENTROID,
    )

    location_geocode(location=place, geocoder=census(census_server))

    place.refresh_from_db()
    assert (place.latitude, place.longitude) == (Decimal("30.268035"), Decimal("-97.742682"))
    assert place.geocode_quality == GeocodeQuality.STREET


@pytest.mark.django_db
def test_a_rooftop_stays_rooftop_when_a_later_attempt_knows_less():
    place = location(
        latitude=Decimal("30.268100"),
        longitude=Decimal("-97.742700"),
        geocode_quality=GeocodeQuality.ROOFTOP,
    )

    location_geocode(location=place, geocoder=ZipCentroidGeocoder())

    assert place.geocode_quality == GeocodeQuality.ROOFTOP
    place.refresh_from_db()
    assert (place.latitude, place.longitude) == (Decimal("30.268100"), Decimal("-97.742700"))
    assert place.geocode_quality == GeocodeQuality.ROOFTOP


@pytest.mark.django_db
def test_no_downgrade_is_decided_on_the_row_not_on_a_stale_instance():
    place = location()
    stale = ServiceLocation.objects.get(pk=place.pk)
    ServiceLocation.objects.filter(pk=place.pk).update(
        latitude=Decimal("30.268100"),
        longitude=Decimal("-97.742700"),
        geocode_quality=GeocodeQuality.ROOFTOP,
    )

    location_geocode(location=stale, geocoder=ZipCentroidGeocoder())

    assert stale.geocode_quality == GeocodeQuality.ROOFTOP
    place.refresh_from_db()
    assert place.geocode_quality == GeocodeQuality.ROOFTOP
    assert place.latitude == Decimal("30.268100")


@pytest.mark.django_db
def test_nothing_matching_keeps_the_coordinates_and_marks_quality_none():
    place = location(
        city="ATLANTIS",
        postal_code="99999",
        latitude=Decimal("30.271300"),
        longitude=Decimal("-97.742600"),
        geocode_quality=GeocodeQuality.ZIP_CENTROID,
    )

    location_geocode(location=place, geocoder=ZipCentroidGeocoder())

    place.refresh_from_db()
    assert (place.latitude, place.longitude) == (Decimal("30.271300"), Decimal("-97.742600"))
    assert place.geocode_quality == GeocodeQuality.NONE


@pytest.mark.django_db
def test_nothing_matching_a_never_geocoded_location_leaves_it_untouched():
    place = location(city="ATLANTIS", postal_code="99999")
    before = ServiceLocation.objects.values("updated_at").get(pk=place.pk)

    location_geocode(location=place, geocoder=ZipCentroidGeocoder())

    place.refresh_from_db()
    assert (place.latitude, place.longitude, place.geocode_quality) == (None, None, "none")
    assert ServiceLocation.objects.values("updated_at").get(pk=place.pk) == before


# --- the task -----------------------------------------------------------------------------


@pytest.fixture
def census_configured(settings, census_server, fresh_geocoders):
    settings.GEOCODER = "census"
    settings.GEOCODER_URL = census_server.url
    settings.GEOCODER_TIMEOUT = 2
    return census_server


def test_the_task_is_on_the_integrations_queue_with_late_acks():
    assert location_geocode_task.name == "customers.location_geocode"
    assert app.amqp.router.route({}, location_geocode_task.name)["queue"].name == "integrations"
    assert location_geocode_task.acks_late is True
    assert location_geocode_task.reject_on_worker_lost is True
    assert location_geocode_task.max_retries == 5


@pytest.mark.django_db
def test_task_geocodes_through_the_configured_provider(census_configured):
    place = location()

    location_geocode_task.apply(args=[place.pk])

    place.refresh_from_db()
    assert place.geocode_quality == GeocodeQuality.STREET
    assert place.latitude == Decimal("30.268035")


def run_like_a_worker(location_id: int, *, attempts: int) -> tuple[list[Retry], object]:
    """Run the task eagerly as a worker would: each `Retry` it raises is redelivered with the
    retry count raised by one. Returns the retries asked for and the last run's result."""
    retries: list[Retry] = []
    for attempt in range(attempts):
        try:
            return retries, location_geocode_task.apply(args=[location_id], retries=attempt)
        except Retry as retry:
            retries.append(retry)
    raise AssertionError(f"still retrying after {attempts} attempts")


@pytest.mark.django_db
def test_task_retries_a_503_and_then_succeeds(census_configured):
    census_configured.fail("unavailable", times=2)
    place = location()

    retries, result = run_like_a_worker(place.pk, attempts=3)

    assert [type(retry.exc) for retry in retries] == [ProviderUnavailable, ProviderUnavailable]
    assert 15 <= retries[0].when <= 18.75  # backoff: 15 s, then 30 s, plus jitter
    assert 30 <= retries[1].when <= 37.5
    assert result.successful()
    assert len(census_configured.requests) == 3
    place.refresh_from_db()
    assert place.geocode_quality == GeocodeQuality.STREET


@pytest.mark.django_db
def test_task_retries_a_429_after_the_providers_retry_after(census_configured):
    census_configured.fail("rate_limited", times=1)
    census_configured.retry_after = "42"
    place = location()

    with pytest.raises(Retry) as info:
        location_geocode_task.apply(args=[place.pk])

    assert info.value.when == 42.0
    assert isinstance(info.value.exc, RateLimited)
    place.refresh_from_db()
    assert place.geocode_quality == GeocodeQuality.NONE  # nothing written before the retry

    retries, result = run_like_a_worker(place.pk, attempts=1)

    assert retries == []
    assert result.successful()
    place.refresh_from_db()
    assert place.geocode_quality == GeocodeQuality.STREET


@pytest.mark.django_db
def test_task_falls_back_to_the_zip_centroid_when_retries_run_out(census_configured, caplog):
    census_configured.fail("unavailable")
    place = location()

    with caplog.at_level(logging.WARNING, logger="customers.tasks"):
        retries, result = run_like_a_worker(place.pk, attempts=6)

    assert len(retries) == 5
    assert result.successful()
    assert len(census_configured.requests) == 6  # the first try and five retries
    place.refresh_from_db()
    assert place.geocode_quality == GeocodeQuality.ZIP_CENTROID
    assert "Using the ZIP centroid after 5 retries" in caplog.text


@pytest.mark.django_db
def test_task_for_a_deleted_location_is_a_no_op(census_configured, caplog):
    with caplog.at_level(logging.INFO, logger="customers.tasks"):
        result = location_geocode_task.apply(args=[987654321])

    assert result.successful()
    assert census_configured.requests == []
    assert "location 987654321 no longer exists; nothing to geocode" in caplog.text


def test_retry_countdown_honours_retry_after_and_caps_it():
    limited = RateLimited("slow down", provider="census", retry_after=42.0)
    too_long = RateLimited("slow down", provider="census", retry_after=3600.0)

    assert retry_countdown(error=limited, retries=0) == 42.0
    assert retry_countdown(error=too_long, retries=0) == MAX_RETRY_COUNTDOWN


@pytest.mark.parametrize(("retries", "low", "high"), [(0, 15, 18.75), (2, 60, 75), (6, 300, 300)])
def test_retry_countdown_backs_off_exponentially(retries, low, high):
    outage = ProviderUnavailable("down", provider="census")

    assert low <= retry_countdown(error=outage, retries=retries) <= high


# --- settings -----------------------------------------------------------------------------


def test_zip_is_the_default_geocoder(settings, fresh_geocoders):
    settings.GEOCODER = "zip"

    assert isinstance(geocoder_from_settings(), ZipCentroidGeocoder)


@pytest.mark.parametrize(
    ("kind", "http_class", "default_url"),
    [("census", CensusGeocoder, CENSUS_URL), ("nominatim", NominatimGeocoder, NOMINATIM_URL)],
)
def test_http_geocoders_are_wrapped_with_the_zip_fallback(
    settings, fresh_geocoders, kind, http_class, default_url
):
    settings.GEOCODER, settings.GEOCODER_URL, settings.GEOCODER_TIMEOUT = kind, "", 7

    geocoder = geocoder_from_settings()

    assert isinstance(geocoder, FallbackGeocoder)
    first, second = geocoder.geocoders
    assert isinstance(first, http_class)
    assert isinstance(second, ZipCentroidGeocoder)
    assert str(first.client._client.base_url) == default_url
    assert first.client.timeout == 7.0


def test_geocoder_url_overrides_the_provider_address(settings, fresh_geocoders):
    settings.GEOCODER, settings.GEOCODER_URL = "nominatim", "http://nominatim.internal:8080"

    first = geocoder_from_settings().geocoders[0]

    assert str(first.client._client.base_url) == "http://nominatim.internal:8080"


def test_the_same_configuration_reuses_one_geocoder(settings, fresh_geocoders):
    settings.GEOCODER = "census"

    assert geocoder_from_settings() is geocoder_from_settings()


def test_an_unknown_geocoder_is_a_configuration_error(settings, fresh_geocoders):
    settings.GEOCODER = "mapquest"

    with pytest.raises(ImproperlyConfigured, match="GEOCODER must be zip, census or nominatim"):
        geocoder_from_settings()


def test_an_unknown_geocoder_in_the_environment_stops_start_up(tmp_path):
    result = run_manage("check", env={"DEBUG": "1", "GEOCODER": "mapquest"}, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "GEOCODER must be zip, census or nominatim, got 'mapquest'" in result.stderr
