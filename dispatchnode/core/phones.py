"""Phone numbers as E.164 strings. The customer-hygiene work builds on this one normaliser.

There is one parse rule (`phone_parse`): a number is used only when `phonenumbers` calls it valid,
because a merely *possible* number makes nonsense keys ("555-1234" would become `+15551234`, a UK
number written nationally with region US would become `+102079460958`). The one exception is the
NANP range 555-0100..555-0199, reserved for fiction, which demos and tests use: such a number is
accepted when its area code is a real one.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat
from phonenumbers import ValidationResult as Possible

from dispatchnode.core.errors import ApplicationError

NANP_COUNTRY_CODE = 1
# Ordinary subscriber lines used to ask `phonenumbers` whether an area code is in service.
AREA_CODE_PROBES = ("2345678", "3456789", "7654321")


class InvalidPhoneNumber(ApplicationError):
    code = "invalid_phone"


def phone_parse(raw: str, *, region: str = "US") -> PhoneNumber:
    """Any written form → a valid `PhoneNumber` (extension kept). Raises `InvalidPhoneNumber`
    with a message that says what is wrong, so an intake form can show it as it is."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("A phone number is required.")
    try:
        parsed = phonenumbers.parse(text, region, keep_raw_input=True)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number.") from exc
    if phonenumbers.is_valid_number(parsed) or _is_fictional_nanp(parsed):
        return parsed
    raise InvalidPhoneNumber(_refusal(raw, parsed, region))


def phone_to_e164(raw: str, *, region: str = "US") -> str:
    """Any written form → E.164. Raises `InvalidPhoneNumber` for a number that cannot be dialled.

    Fictional 555-01xx lines with a real area code are accepted (see `phone_parse`).
    """
    return phonenumbers.format_number(phone_parse(raw, region=region), PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """`+15125550142` → `(512) 555-0142` for people; unknown shapes are returned unchanged."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)


def _is_fictional_nanp(parsed: PhoneNumber) -> bool:
    """555-0100..555-0199 is reserved for fiction across the NANP; accept it under a real area
    code, whatever the metadata version says about the 555 exchange."""
    if parsed.country_code != NANP_COUNTRY_CODE or not phonenumbers.is_possible_number(parsed):
        return False
    digits = str(parsed.national_number)
    area_code, exchange, line = digits[:3], digits[3:6], digits[6:]
    if len(digits) != 10 or exchange != "555" or not "0100" <= line <= "0199":
        return False
    return _area_code_in_service(area_code)


@lru_cache(maxsize=1024)
def _area_code_in_service(area_code: str) -> bool:
    return any(
        phonenumbers.is_valid_number(
            phonenumbers.parse(f"+{NANP_COUNTRY_CODE}{area_code}{line}", None)
        )
        for line in AREA_CODE_PROBES
    )


def _refusal(raw: str, parsed: PhoneNumber, region: str) -> str:
    """The reason a parsed number is refused, in words a dispatcher can act on."""
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    written_with_country_code = (
        parsed.country_code_source != phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY
    )
    if reason == Possible.IS_POSSIBLE_LOCAL_ONLY:
        return f"{raw!r} has no area code."
    if reason == Possible.TOO_SHORT:
        return f"{raw!r} is not a complete phone number."
    if parsed.country_code == NANP_COUNTRY_CODE and reason == Possible.IS_POSSIBLE:
        area_code = str(parsed.national_number)[:3]
        if not _area_code_in_service(area_code):
            return f"{raw!r} is not a valid phone number: {area_code} is not an area code."
    if not written_with_country_code:
        return (
            f"{raw!r} is not a valid {region} phone number; write a number from another "
            "country with + and its country code."
        )
    return f"{raw!r} is not a valid phone number."
