from __future__ import annotations

import pytest

from dispatchnode.core.phones import InvalidPhoneNumber, phone_display, phone_to_e164


@pytest.mark.parametrize(
    "written", ["(512) 555-0142", "512.555.0142", "+1 512 555 0142", "5125550142", " 512-555-0142 "]
)
def test_written_forms_become_e164(written):
    assert phone_to_e164(written) == "+15125550142"


@pytest.mark.parametrize("written", ["12", "abc", "", "   ", None])
def test_what_cannot_be_dialled_is_refused(written):
    with pytest.raises(InvalidPhoneNumber) as refused:
        phone_to_e164(written)

    assert refused.value.code == "invalid_phone"
    assert refused.value.status_code == 400


@pytest.mark.parametrize(
    "written",
    [
        "555-1234",  # seven digits: would have become the nonsense +15551234
        "(555) 123-4567",  # 555 is no area code
        "020 7946 0958",  # a UK number read as US: would have become +102079460958
        "+1 512 555 01",
    ],
)
def test_possible_but_invalid_numbers_are_refused(written):
    with pytest.raises(InvalidPhoneNumber):
        phone_to_e164(written)


def test_an_extension_does_not_change_the_e164():
    assert phone_to_e164("512-555-0142 ext. 12") == "+15125550142"


@pytest.mark.parametrize("written", ["+1 212 555 0100", "+1 512 555 0199", "+1 246 555 0142"])
def test_fictional_555_01xx_lines_under_real_area_codes_are_accepted(written):
    assert phone_to_e164(written) == written.replace(" ", "")


def test_another_region_is_honoured():
    assert phone_to_e164("020 7946 0958", region="GB") == "+442079460958"


def test_display_form_for_people():
    assert phone_display("+15125550142") == "(512) 555-0142"
    assert phone_display("not a number") == "not a number"
