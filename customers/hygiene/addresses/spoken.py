"""An address rendered: one line for screens, the words the phone agent reads back."""

from __future__ import annotations

from scourgify import address_constants as pub28

from customers.hygiene.addresses.normalize import NormalizedAddress
from customers.hygiene.addresses.tables import (
    _ACRONYMS,
    _LONG_STREET_TYPES,
    _LONG_UNIT_TYPES,
)

# --- Rendering --------------------------------------------------------------------------------


def address_one_line(addr: NormalizedAddress) -> str:
    """ "123 N OAK ST APT 4B, AUSTIN, TX 78701-1234", or the raw text when no street was read."""
    if not addr.street:
        return addr.raw
    zip_code = f"{addr.postal_code}-{addr.zip4}" if addr.zip4 else addr.postal_code
    locality = f"{addr.state} {zip_code}".strip()
    return ", ".join(p for p in (f"{addr.street} {addr.unit}".strip(), addr.city, locality) if p)


def _say(word: str) -> str:
    """One word as the agent's voice should get it: "OAK" -> "Oak", "5TH" -> "5th", "US"."""
    if word in _ACRONYMS:
        return word
    return word.lower() if word[:1].isdigit() else word.capitalize()


def _spoken_street(c: dict[str, str], prefix: str = "") -> str:
    words = [
        c.get("AddressNumber", "") if not prefix else "",
        pub28.LONGHAND_DIRECTIONALS.get(c.get(f"{prefix}StreetNamePreDirectional", ""), ""),
        _LONG_STREET_TYPES.get(c.get(f"{prefix}StreetNamePreType", ""), ""),
        c.get(f"{prefix}StreetName", ""),
        _LONG_STREET_TYPES.get(suffix := c.get(f"{prefix}StreetNamePostType", ""), suffix),
        c.get(f"{prefix}StreetNamePostModifier", ""),
        pub28.LONGHAND_DIRECTIONALS.get(c.get(f"{prefix}StreetNamePostDirectional", ""), ""),
    ]
    return " ".join(_say(w) for w in " ".join(words).split())


def address_spoken(addr: NormalizedAddress) -> str:
    """What the phone agent reads back: "123 North Oak Street, apartment 4B, Austin".
    Falls back to the raw text when no street was read."""
    if not addr.street:
        return addr.raw
    c = addr.components
    if not c.get("AddressNumber") and ("USPSBoxID" in c or "USPSBoxGroupID" in c):
        street = " ".join(_say(w) for w in addr.street.split())
    elif "SecondStreetName" in c:
        street = f"{_spoken_street(c)} and {_spoken_street(c, 'Second')}"
    else:
        street = _spoken_street(c)
    pieces = [street or addr.street.title()]
    if addr.unit:
        pieces.append(" ".join(_LONG_UNIT_TYPES.get(w, w) for w in addr.unit.split(" ")))
    if addr.city:
        pieces.append(" ".join(_say(w) for w in addr.city.split()))
    return ", ".join(pieces)
