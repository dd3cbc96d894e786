"""Phone numbers for customer hygiene: one E.164 key per line, the extension kept apart.

The parse rule lives in `dispatchnode.core.phones.phone_parse` so that lookups, the admin and the
matcher refuse and accept exactly the same numbers. This module adds what the matcher needs on
top: the extension, a display form and the line kind (a shared landline says less about identity
than a mobile does).
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from dispatchnode.core.phones import InvalidPhoneNumber, phone_parse

KINDS = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.TOLL_FREE: "toll_free",
}


@dataclass(frozen=True)
class NormalizedPhone:
    e164: str  # without the extension
    extension: str  # digits only, "" when none
    display: str  # national form for the region's own numbers, international otherwise
    kind: str  # "mobile" | "fixed_line" | "fixed_line_or_mobile" | "voip" | "toll_free" | "unknown"


def phone_normalize(raw: str, *, region: str = "US") -> NormalizedPhone:
    """Raises `InvalidPhoneNumber` (an `ApplicationError`) saying why a number is refused.

    Fictional 555-01xx lines are accepted by the shared rule; `phonenumbers` may give them no
    type, in which case the kind is "unknown".
    """
    parsed = phone_parse(raw, region=region)
    extension = parsed.extension or ""
    parsed.extension = None
    own_country = phonenumbers.region_code_for_number(parsed) == region
    display = phonenumbers.format_number(
        parsed, PhoneNumberFormat.NATIONAL if own_country else PhoneNumberFormat.INTERNATIONAL
    )
    return NormalizedPhone(
        e164=phonenumbers.format_number(parsed, PhoneNumberFormat.E164),
        extension=extension,
        display=f"{display} ext. {extension}" if extension else display,
        kind=KINDS.get(phonenumbers.number_type(parsed), "unknown"),
    )


def phone_key(raw: str, *, region: str = "US") -> str:
    """E.164 for matching and blocking, or "" when the number is unusable. Never raises."""
    try:
        return phone_normalize(raw, region=region).e164
    except InvalidPhoneNumber:
        return ""
