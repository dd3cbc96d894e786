"""What customers say about when they want us, as filters for the availability engine.

"Now" is Wednesday 2026-03-04 15:00 in Chicago unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from bookings.preferences import Preference, preference_parse

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
WEDNESDAY = dt.datetime(2026, 3, 4, 15, 0, tzinfo=CHICAGO)
NOON, FIVE_PM = dt.time(12), dt.time(17)


def parse(text: str, now: dt.datetime = WEDNESDAY) -> Preference | None:
    return preference_parse(text, now=now, tz=CHICAGO)


def days(*pairs: tuple[int, int]) -> frozenset[dt.date]:
    return frozenset(dt.date(2026, month, day) for month, day in pairs)


@pytest.mark.parametrize(
    ("text", "dates", "weekdays", "after", "before"),
    [
        ("tomorrow morning", days((3, 5)), None, None, NOON),
        ("Tuesday afternoon", days((3, 10)), None, NOON, None),
        ("after 3", None, None, dt.time(15), None),
        ("before noon", None, None, None, NOON),
        ("anything Friday?", days((3, 6)), None, None, None),
        ("next Monday", days((3, 9)), None, None, None),
        ("this week", days((3, 4), (3, 5), (3, 6), (3, 7), (3, 8)), None, None, None),
        ("next week", days(*((3, d) for d in range(9, 16))), None, None, None),
        ("Dec 3", days((12, 3)), None, None, None),
        ("December 3rd please", days((12, 3)), None, None, None),
        ("the 3rd", days((4, 3)), None, None, None),  # the 3rd of March is past
        ("the 20th", days((3, 20)), None, None, None),
        ("12/24", days((12, 24)), None, None, None),
        ("weekdays", None, frozenset(range(5)), None, None),
        ("Tuesdays after 3:30 p.m.", None, frozenset({1}), dt.time(15, 30), None),
        ("evening", None, None, FIVE_PM, None),
        ("before 10am", None, None, None, dt.time(10)),
        ("after 9", None, None, dt.time(9), None),  # 7-11 without am/pm: the morning
        ("Friday between lunch and 4", days((3, 6)), None, NOON, dt.time(16)),
        ("between 9 and 11", None, None, dt.time(9), dt.time(11)),
        ("today", days((3, 4)), None, None, None),
        ("weekend", None, frozenset({5, 6}), None, None),
    ],
)
def test_phrases(text, dates, weekdays, after, before):
    assert parse(text) == Preference(
        dates=dates, weekdays=weekdays, after=after, before=before, text=text
    )


def test_a_bare_weekday_is_today_when_it_is_today_and_next_means_the_one_after():
    assert parse("Wednesday").dates == days((3, 4))
    assert parse("next Wednesday").dates == days((3, 11))


def test_a_past_date_means_next_year():
    assert parse("March 2nd").dates == frozenset({dt.date(2027, 3, 2)})
    assert parse("March 4th").dates == days((3, 4))


def test_the_day_of_month_rolls_over_the_year_end():
    now = dt.datetime(2026, 12, 20, 9, 0, tzinfo=CHICAGO)
    assert parse("the 3rd", now=now).dates == frozenset({dt.date(2027, 1, 3)})


def test_today_is_the_organisations_day_not_utcs():
    # 2026-03-05 02:00 UTC is still Wednesday evening in Chicago
    now = dt.datetime(2026, 3, 5, 2, 0, tzinfo=dt.UTC)
    assert parse("tomorrow", now=now).dates == days((3, 5))


def test_as_soon_as_possible_is_understood_and_constrains_nothing():
    for text in ("as soon as possible", "ASAP", "whenever, anytime works"):
        assert parse(text) == Preference(text=text)


@pytest.mark.parametrize("text", ["", "hello there", "my AC is blowing warm air", "Feb 30"])
def test_nothing_understood_is_none(text):
    assert parse(text) is None
