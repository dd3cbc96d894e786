"""USPS Publication 28 tables, built once from scourgify's data, and the word-level normalisers
(directionals, street types, states, units, ZIP codes) the address normaliser applies."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import zipcodes
from scourgify import address_constants as pub28

# --- Tables, built once from scourgify's Pub 28 data -------------------------------------------

_STREET_TYPES = {v: v for v in pub28.STREET_TYPE_ABBREVIATIONS.values()}
_STREET_TYPES.update(pub28.STREET_TYPE_ABBREVIATIONS)
# Types that only make sense before a route number ("CR 110", "FM 1826", "I 35").
_PRE_TYPES = _STREET_TYPES | {
    "CR": "COUNTY RD",
    "SH": "STATE HWY",
    "FM": "FM",
    "RM": "RM",
    "I": "I",
    "IH": "I",
    "INTERSTATE": "I",
    "INTERSTATE HWY": "I",
    "INTERSTATE HIGHWAY": "I",
}
_LONG_STREET_TYPES = pub28.LONGHAND_STREET_TYPES | {
    "FM": "FM",
    "RM": "RM",
    "I": "INTERSTATE",
    "BG": "BURG",
    "CLB": "CLUB",
    "CV": "COVE",
    "GRN": "GREEN",
    "WAYS": "WAYS",
}
_DIRECTIONALS = {v: v for v in pub28.DIRECTIONAL_REPLACEMENTS.values()}
_DIRECTIONALS.update(pub28.DIRECTIONAL_REPLACEMENTS)
_DIRECTIONALS.update({k.replace("-", " "): v for k, v in pub28.AMBIGUOUS_DIRECTIONALS.items()})
_DIRECTIONALS.update(pub28.AMBIGUOUS_DIRECTIONALS)
# scourgify spells two designators unlike Pub 28 (HANGER, UPPER): correct them here.
_UNIT_TYPES = {k: v for k, v in pub28.OCCUPANCY_TYPE_ABBREVIATIONS.items() if k != "UPPER"}
_UNIT_TYPES.update({"HANGAR": "HNGR", "UPPER": "UPPR", "FLR": "FL", "BLD": "BLDG", "SP": "SPC"})
_UNIT_TYPES.update({v: v for v in _UNIT_TYPES.values()})
_LONG_UNIT_TYPES = {
    v: k.lower() for k, v in pub28.OCCUPANCY_TYPE_ABBREVIATIONS.items() if len(k) > len(v)
}
_LONG_UNIT_TYPES.update({"#": "unit", "UNIT": "unit", "HNGR": "hangar", "UPPR": "upper"})
_LONG_UNIT_TYPES.update(
    {t.upper(): t for t in ("key", "lot", "pier", "rear", "side", "slip", "stop")}
)
# Pub 28 designators that stand without an identifier ("123 Main St Rear").
_BARE_UNIT_TYPES = frozenset({"BSMT", "FRNT", "LBBY", "LOWR", "OFC", "PH", "REAR", "SIDE", "UPPR"})
_STATES = {
    **pub28.STATE_ABBREVIATIONS,
    "PUERTO RICO": "PR",
    "VIRGIN ISLANDS": "VI",
    "US VIRGIN ISLANDS": "VI",
    "GUAM": "GU",
    "AMERICAN SAMOA": "AS",
    "NORTHERN MARIANA ISLANDS": "MP",
    "WASHINGTON DC": "DC",
}
_STATES.update({code: code for code in set(_STATES.values())})
_STATES.update({code: code for code in ("AA", "AE", "AP", "FM", "MH", "PW")})
_NAME_PREFIXES = {"ST": "SAINT", "MT": "MOUNT", "FT": "FORT"}
_BOX_GROUPS = {"RR": "RR", "R R": "RR", "RURAL ROUTE": "RR", "RURAL RTE": "RR", "RT": "RR"}
_BOX_GROUPS.update({"HC": "HC", "H C": "HC", "HIGHWAY CONTRACT": "HC", "STAR ROUTE": "HC"})
_UNITS_WORDS = ("", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE")
_ORDINAL_WORDS = (
    "", "FIRST", "SECOND", "THIRD", "FOURTH", "FIFTH", "SIXTH", "SEVENTH", "EIGHTH", "NINTH",
    "TENTH", "ELEVENTH", "TWELFTH", "THIRTEENTH", "FOURTEENTH", "FIFTEENTH", "SIXTEENTH",
    "SEVENTEENTH", "EIGHTEENTH", "NINETEENTH",
)  # fmt: skip
_TENS = ("TWENTY", "THIRTY", "FORTY", "FIFTY", "SIXTY", "SEVENTY", "EIGHTY", "NINETY")


def _ordinal_suffix(n: int) -> str:
    if n % 100 in (11, 12, 13):
        return "TH"
    return {1: "ST", 2: "ND", 3: "RD"}.get(n % 10, "TH")


def _ordinal_table() -> dict[str, str]:
    """ "FIFTH" -> "5TH", "TWENTY FIRST" -> "21ST", up to "NINETY NINTH" and "HUNDREDTH"."""
    table = {word: f"{n}{_ordinal_suffix(n)}" for n, word in enumerate(_ORDINAL_WORDS) if n}
    for t, tens in enumerate(_TENS, start=2):
        table[tens[:-1] + "IETH"] = f"{t * 10}TH"
        for n in range(1, 10):
            table[f"{tens} {_ORDINAL_WORDS[n]}"] = f"{t * 10 + n}{_ordinal_suffix(n)}"
    table["HUNDREDTH"] = "100TH"
    table["ONE HUNDREDTH"] = "100TH"
    return table


_ORDINALS = _ordinal_table()

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_COMMAS = re.compile(r"\s*[,;](?:\s*[,;])*\s*")
_COUNTRY = re.compile(
    r"(?:[,\s]\s*(?:U\.?\s?S\.?\s?A\.?|UNITED STATES(?: OF AMERICA)?)|(?:,|(?<=\d))\s*U\.?S\.?)$",
    re.IGNORECASE,
)
_FARM_ROADS = re.compile(
    r"\b(FARM|RANCH)(?:\s+TO\s+|-TO-)MARKET(?:\s+(?:ROAD|RD)\b\.?)?", re.IGNORECASE
)
_INTERSTATE = re.compile(r"\bI-(?=\d)", re.IGNORECASE)
_NOT_ID = re.compile(r"[^A-Z0-9]")
_ZIP = re.compile(r"(\d{5})(?:\s*-?\s*(\d{4}))?")
_RURAL = re.compile(r"(RR|HC|R R|H C|RURAL ROUTE|HIGHWAY CONTRACT) (\w+)(?: BOX (\w+))?")
_ROUTE = re.compile(r"(.+?) (\d+[A-Z]?)")
_FLOOR_ORDINAL = re.compile(r"(\d+)(?:ST|ND|RD|TH)")
_ACRONYMS = frozenset({"US", "FM", "RM", "PO", "RR", "HC", "I"})


# --- Small pure normalisers -------------------------------------------------------------------


def _upper(text: str) -> str:
    """Upper case without periods, commas or repeated spaces: "St. " -> "ST"."""
    return " ".join(text.replace(".", "").replace(",", " ").upper().split())


def _directional(text: str) -> str:
    value = _upper(text)
    return _DIRECTIONALS.get(value, value)


def _street_type(text: str, table: dict[str, str]) -> str:
    value = _upper(text)
    return table.get(value, value)


def _street_name(text: str) -> str:
    """Ordinal words to digits when they are the whole name; "ST MARKS" -> "SAINT MARKS"."""
    value = _upper(text)
    ordinal = _ORDINALS.get(value.replace("-", " "))
    if ordinal:
        return ordinal
    words = value.split(" ")
    if len(words) > 1 and words[0] in _NAME_PREFIXES:
        words[0] = _NAME_PREFIXES[words[0]]
    return " ".join(words)


def _state(text: str) -> str:
    return _STATES.get(_upper(text), "")


def _city_key(city: str) -> str:
    """Compare form of a city: "St. Louis" == "Saint Louis", "Ft Worth" == "Fort Worth"."""
    words = [_NAME_PREFIXES.get(w, w) for w in _upper(city).replace("-", " ").split()]
    return "".join(words)


def unit_split(text: str) -> tuple[str, str]:
    """A unit as (Pub 28 designator, identifier): "apt. 4-b" -> ("APT", "4B"), "#130" ->
    ("#", "130"), "4B" -> ("#", "4B"), "Rear" -> ("REAR", ""). ("", "") for nothing."""
    value = unicodedata.normalize("NFKC", text).upper().strip()
    designator, rest = "", value
    if value.startswith("#"):
        designator, rest = "#", value[1:]
    else:
        match = re.match(r"([A-Z]+)\.?(.*)", value, re.DOTALL)
        if match and match[1] in _UNIT_TYPES:
            designator, rest = _UNIT_TYPES[match[1]], match[2]
    identifier = _NOT_ID.sub("", rest)
    if not designator and identifier in _UNIT_TYPES:
        designator, identifier = _UNIT_TYPES[identifier], ""
    elif not designator and identifier:
        designator = "#"
    if designator == "FL" and (floor := _FLOOR_ORDINAL.fullmatch(identifier)):
        identifier = floor[1]
    return designator, identifier


def _zip_split(text: str) -> tuple[str, str]:
    match = _ZIP.fullmatch(text.strip())
    return (match[1], match[2] or "") if match else ("", "")


@dataclass(frozen=True)
class _ZipInfo:
    city: str
    state: str
    city_keys: frozenset[str]


@lru_cache(maxsize=8192)
def _zip_info(zip5: str) -> _ZipInfo | None:
    """The ZIP's USPS city and state and its acceptable city names; cached (a lookup scans)."""
    try:
        rows = zipcodes.matching(zip5)
    except (TypeError, ValueError):
        return None
    if not rows:
        return None
    row = rows[0]
    names = [row["city"], *row.get("acceptable_cities", [])]
    return _ZipInfo(
        city=_upper(row["city"]),
        state=row["state"],
        city_keys=frozenset(_city_key(name) for name in names),
    )
