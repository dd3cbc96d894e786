from __future__ import annotations

import pytest

from customers.hygiene.phones import NormalizedPhone, phone_key, phone_normalize
from dispatchnode.core.errors import ApplicationError
from dispatchnode.core.phones import InvalidPhoneNumber


@pytest.mark.parametrize(
    "written",
    [
        "(512) 555-0142",
        "512.555.0142",
        "+1 512 555 0142",
        "5125550142",
        "1-512-555-0142",
        "tel:+15125550142",
        " 512 555 0142 ",
    ],
)
def test_every_written_form_gives_one_number(written):
    assert phone_normalize(written) == NormalizedPhone(
        e164="+15125550142", extension="", display="(512) 555-0142", kind="fixed_line_or_mobile"
    )
    assert phone_key(written) == "+15125550142"


@pytest.mark.parametrize(
    "written",
    [
        "512-555-0142 ext. 12",
        "(512) 555-0142 x12",
        "512.555.0142 #12",
        "tel:+1-512-555-0142;ext=12",
    ],
)
def test_the_extension_is_kept_apart_from_the_key(written):
    phone = phone_normalize(written)

    assert (phone.e164, phone.extension) == ("+15125550142", "12")
    assert phone.display == "(512) 555-0142 ext. 12"
    assert phone_key(written) == "+15125550142"


def test_a_uk_number_written_with_its_country_code_keeps_its_own_e164():
    phone = phone_normalize("+44 20 7946 0958")

    assert phone == NormalizedPhone(
        e164="+442079460958", extension="", display="+44 20 7946 0958", kind="fixed_line"
    )


def test_the_region_decides_how_a_national_number_is_read():
    phone = phone_normalize("020 7946 0958", region="GB")

    assert (phone.e164, phone.display) == ("+442079460958", "020 7946 0958")


@pytest.mark.parametrize(
    ("written", "kind"),
    [
        ("+44 7911 123456", "mobile"),
        ("+1 800 555 0199", "toll_free"),
        ("212-555-0100", "fixed_line_or_mobile"),
    ],
)
def test_the_line_kind_is_reported(written, kind):
    assert phone_normalize(written).kind == kind


def test_a_fictional_line_under_a_real_area_code_is_accepted_even_where_metadata_says_invalid():
    # Barbados (246) is a NANP area code whose metadata does not list the 555 exchange.
    phone = phone_normalize("+1 246 555 0142")

    assert (phone.e164, phone.kind) == ("+12465550142", "unknown")


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("555-1234", "'555-1234' has no area code."),
        (
            "(555) 123-4567",
            "'(555) 123-4567' is not a valid phone number: 555 is not an area code.",
        ),
        ("+1 246 555 0242", "'+1 246 555 0242' is not a valid phone number."),
        (
            "020 7946 0958",
            "'020 7946 0958' is not a valid US phone number; write a number from another country "
            "with + and its country code.",
        ),
        ("call me", "'call me' is not a phone number."),
        ("0", "'0' is not a phone number."),
        ("512 555", "'512 555' is not a complete phone number."),
        ("", "A phone number is required."),
        ("   ", "A phone number is required."),
    ],
)
def test_unusable_numbers_are_refused_with_the_reason(written, message):
    with pytest.raises(InvalidPhoneNumber) as refused:
        phone_normalize(written)

    assert refused.value.message == message
    assert isinstance(refused.value, ApplicationError)
    assert phone_key(written) == ""
