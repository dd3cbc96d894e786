"""Phone numbers as E.164 strings. The customer-hygiene work builds on this one normaliser."""

from __future__ import annotations

import phonenumbers

from dispatchnode.core.errors import ApplicationError


class InvalidPhoneNumber(ApplicationError):
    code = "invalid_phone"


def phone_to_e164(raw: str, *, region: str = "US") -> str:
    """Any written form → E.164. Raises `InvalidPhoneNumber` for a number that cannot be dialled.

    Fictional 555-01xx lines are *possible* numbers and are accepted.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("A phone number is required.")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number.") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber(f"{raw!r} is not a complete phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """`+15125550142` → `(512) 555-0142` for people; unknown shapes are returned unchanged."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
