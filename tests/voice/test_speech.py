"""Turning times, numbers and addresses into phone speech, and callers' words back into data."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from bookings.voice import speech
from customers.hygiene.addresses import address_normalize

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
TODAY = dt.date(2026, 12, 4)  # a Friday


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026 if month == 12 else 2027, month, day, hour, minute, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("start", "end", "said"),
    [
        (at(4, 13), at(4, 15), "today between 1 and 3 in the afternoon"),
        (at(5, 8), at(5, 10), "tomorrow between 8 and 10 in the morning"),
        (at(8, 8, 30), at(8, 10, 30), "Tuesday the 8th between 8:30 and 10:30 in the morning"),
        (
            at(9, 11),
            at(9, 13),
            "Wednesday the 9th between 11 in the morning and 1 in the afternoon",
        ),
        (at(11, 17), at(11, 19), "Friday, December 11th between 5 and 7 in the evening"),
        (
            at(2, 9, month=1),
            at(2, 11, month=1),
            "Saturday, January 2nd between 9 and 11 in the morning",
        ),
    ],
)
def test_windows_are_said_the_way_people_say_them(start, end, said):
    assert speech.window_spoken(start, end, today=TODAY) == said
    assert "." not in said  # no "P.M.." at the end of a sentence


def test_a_text_message_writes_the_window_short():
    assert speech.window_written(at(8, 8), at(8, 10)) == "Tue Dec 8, 8:00-10:00 AM"
    assert speech.window_written(at(8, 11), at(8, 13)) == "Tue Dec 8, 11:00 AM-1:00 PM"


def test_numbers_and_money():
    assert speech.digits_spoken("+15125550142") == "5 1 2, 5 5 5, 0 1 4 2"
    assert speech.zip_spoken("78701-1234") == "7 8 7 0 1"
    assert speech.money_spoken(Decimal("1240.00")) == "$1,240"
    assert speech.money_spoken(Decimal("86.5")) == "$86.50"
    assert speech.ordinal(11) == "11th"
    assert speech.ordinal(22) == "22nd"


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("Maria Garcia.", "Maria Garcia"),
        ("Uh, my name is Bill Jenkins, thanks", "Bill Jenkins"),
        ("It's Hannah Okafor.", "Hannah Okafor"),
        ("This is Dr. Ana Ruiz", "Dr. Ana Ruiz"),
    ],
)
def test_the_name_part_of_an_answer(said, name):
    assert speech.name_from_speech(said) == name


@pytest.mark.parametrize(
    ("said", "street", "unit", "postal_code"),
    [
        ("4500 Duval Street, Austin, Texas 78751.", "4500 DUVAL ST", "", "78751"),
        ("Yeah, it's 123 Oak St, Austin 78702.", "123 OAK ST", "", "78702"),
        (
            "1900 Barton Springs Road, apartment 4B, Austin 78704.",
            "1900 BARTON SPRINGS RD",
            "APT 4B",
            "78704",
        ),
        (
            "My address is 77 Rio Grande St, suite 200, Austin 7 8 7 0 1",
            "77 RIO GRANDE ST",
            "STE 200",
            "78701",
        ),
    ],
)
def test_a_spoken_address_parses_with_its_unit(said, street, unit, postal_code):
    address = address_normalize(speech.address_from_speech(said))
    assert (address.street, address.unit, address.postal_code) == (street, unit, postal_code)


def test_phone_digits_from_words_or_keys():
    assert speech.phone_digits_from_speech("five one two, five five five, oh one four two") == (
        "5125550142"
    )
    assert speech.phone_digits_from_speech("ignored", "5125550142#") == "5125550142"


@pytest.mark.parametrize(
    ("wish", "said"),
    [
        ("monday", "Monday"),
        ("Anything Friday?", "Friday"),
        ("do you have anything on tuesday afternoon", "Tuesday afternoon"),
        ("next week in december", "next week in December"),
    ],
)
def test_a_wish_is_said_back_with_its_capitals(wish, said):
    assert speech.preference_spoken(wish) == said


def test_business_hours_are_said_in_runs_of_days():
    weekday = [["08:00", "17:00"]]
    hours = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), weekday)
    hours["sat"] = [["09:00", "12:30"]]
    assert speech.business_hours_spoken(hours) == (
        "We're open Monday to Friday from 8 in the morning to 5 in the afternoon, "
        "and Saturday from 9 in the morning to 12:30 in the afternoon."
    )
    assert "not set up" in speech.business_hours_spoken({})
