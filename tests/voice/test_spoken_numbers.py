"""Numbers said as words, as speech recognisers write them, read as the digits callers mean."""

from __future__ import annotations

import pytest

from bookings.voice.speech import address_from_speech, phone_digits_from_speech
from bookings.voice.spoken_numbers import digits_from_speech, numbers_from_speech


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("one twenty three Oak Street", "123 Oak Street"),
        ("twelve oh five Elm Street", "1205 Elm Street"),
        ("forty two hundred Lamar Blvd", "4200 Lamar Blvd"),
        ("nineteen hundred Congress Ave", "1900 Congress Ave"),
        ("one two three four Main St", "1234 Main St"),
        ("Austin seven eight seven oh two", "Austin 78702"),
        ("one hundred twenty three Main", "123 Main"),
        ("one hundred and five Main", "105 Main"),
        ("two thousand five hundred twelve Lamar", "2512 Lamar"),
        ("two thousand five Lamar", "2005 Lamar"),
        ("four thousand two hundred Oak", "4200 Oak"),
        ("twenty one hundred Oak", "2100 Oak"),
        ("forty-two Oak", "42 Oak"),
        ("twenty twenty Oak", "2020 Oak"),
        ("ninety nine ninety nine Oak", "9999 Oak"),
        ("eleven eleven Oak", "1111 Oak"),
        ("double five Oak", "55 Oak"),
        ("Highway seventy one", "Highway 71"),
        ("123 Oak Street, 78702", "123 Oak Street, 78702"),
        ("Bill said hundred", "Bill said hundred"),
    ],
)
def test_a_run_of_number_words_is_written_as_the_digits_meant(said, written):
    assert numbers_from_speech(said) == written


def test_a_lone_number_word_in_a_street_name_stays_a_word_in_an_address():
    assert numbers_from_speech("12 County Road Nine", single_words=False) == "12 County Road Nine"
    assert numbers_from_speech("four Elm Street", single_words=False) == "4 Elm Street"
    assert numbers_from_speech("10 Elm apartment four", single_words=False) == "10 Elm apartment 4"


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("five one two, five five five, oh one four two", "5125550142"),
        ("five one two five fifty five zero one forty two", "5125550142"),
        ("five twelve, five five five, oh one four two", "5125550142"),
        ("seven eight seven o two", "78702"),
        ("my number is 512 555 0142", "5125550142"),
    ],
)
def test_phone_numbers_and_zips_said_in_words_give_their_digits(said, digits):
    assert digits_from_speech(said) == digits
    assert phone_digits_from_speech(said) == digits


def test_an_address_said_in_words_is_written_for_the_parser():
    said = "It's one twenty three Oak Street, apartment four, Austin, seven eight seven oh two."
    assert address_from_speech(said) == "123 Oak Street, Apt 4, Austin, 78702"
