"""The straight-line travel estimate the scheduling engine uses until road routing exists."""

from __future__ import annotations

import pytest

from routing.travel import DEFAULT_TRAVEL_MINUTES, distance_km, travel_minutes

AUSTIN = (30.2672, -97.7431)
ROUND_ROCK = (30.5083, -97.6789)
DALLAS = (32.7767, -96.7970)


def test_distance_is_the_great_circle():
    # Austin to Dallas is about 293 km as the crow flies
    assert distance_km(AUSTIN, DALLAS) == pytest.approx(293.0, abs=1.5)
    assert distance_km(AUSTIN, AUSTIN) == 0


def test_minutes_stretch_the_distance_by_the_detour_and_round_up():
    km = distance_km(AUSTIN, ROUND_ROCK)  # about 27.5 km
    expected = km * 1.3 / 40 * 60  # about 53.6 minutes
    assert travel_minutes(AUSTIN, ROUND_ROCK) == 54
    assert 53 < expected <= 54


def test_ten_kilometres_north_is_twenty_minutes():
    # 0.09 degrees of latitude is 10.0 km; 13 km of road at 40 km/h is 19.5 minutes
    assert travel_minutes((30.2672, -97.7431), (30.3572, -97.7431)) == 20


def test_speed_scales_the_time():
    assert travel_minutes(AUSTIN, DALLAS, speed_kmh=80) == 286
    assert travel_minutes(AUSTIN, DALLAS, speed_kmh=40) == 572


def test_the_same_place_is_zero_and_direction_does_not_matter():
    assert travel_minutes(AUSTIN, AUSTIN) == 0
    assert travel_minutes(AUSTIN, ROUND_ROCK) == travel_minutes(ROUND_ROCK, AUSTIN)


@pytest.mark.parametrize(("origin", "destination"), [(None, AUSTIN), (AUSTIN, None), (None, None)])
def test_an_unknown_end_costs_the_default(origin, destination):
    assert travel_minutes(origin, destination) == DEFAULT_TRAVEL_MINUTES == 20


def test_a_speed_of_zero_is_refused():
    with pytest.raises(ValueError, match="positive"):
        travel_minutes(AUSTIN, DALLAS, speed_kmh=0)
