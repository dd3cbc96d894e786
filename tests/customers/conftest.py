"""Fake geocoder servers (real sockets on 127.0.0.1) for the customers tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from customers import geocoding
from tests.fakes.geocoders import FakeCensusGeocoder, FakeNominatim


@pytest.fixture
def census_server() -> Iterator[FakeCensusGeocoder]:
    server = FakeCensusGeocoder().start()
    yield server
    server.stop()


@pytest.fixture
def nominatim_server() -> Iterator[FakeNominatim]:
    server = FakeNominatim().start()
    yield server
    server.stop()


@pytest.fixture
def fresh_geocoders() -> Iterator[None]:
    """`geocoder_from_settings` keeps one geocoder per configuration; start and end empty."""
    geocoding._configured_geocoder.cache_clear()
    yield
    geocoding._configured_geocoder.cache_clear()
