"""US addresses in USPS Publication 28 form, and the keys the duplicate matcher compares.

`usaddress` tags the words of an address but does not standardise them, and scourgify's own
normaliser raises on PO Boxes and on "St Marks". So we tag with `usaddress` and standardise with
scourgify's Pub 28 tables through a thin layer that never raises: intake must always be able to
store what a person said, and flag it for review instead of refusing it.

Choices the matcher relies on:
- `street_key` is the house number, directional, street name, type and directional joined by
  "|" ("123|N|OAK|ST"); `match_key` adds the unit identifier and the ZIP (or city and state).
- Units are compared by identifier only: "Apt 4B", "Unit 4B", "# 4-b" all have unit_id "4B".
- Ordinal street names become digits ("Fifth" -> "5TH"); "St"/"Saint" at the start of a
  street name becomes "SAINT" (never the type); "Mt"/"Ft" become "MOUNT"/"FORT" there.
- A key is only produced for an address we understood: no key for intersections, addresses
  without a house number, or two conflicting units (`needs_review` and `problems` say why).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import usaddress
import zipcodes
from scourgify import address_constants as pub28

__all__ = [
    "NormalizedAddress",
    "address_normalize",
    "address_one_line",
    "address_spoken",
    "unit_split",
]

MAX_PARSED_CHARS = 300  # a real US address is far shorter; keeps a pasted essay fast

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


# --- Result -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NormalizedAddress:
    """One address as given (`raw`) and in Pub 28 form, with the matcher's keys."""

    raw: str
    street: str
    unit: str
    unit_id: str
    city: str
    state: str
    postal_code: str
    zip4: str
    components: dict[str, str]
    street_key: str
    match_key: str
    needs_review: bool
    problems: tuple[str, ...]


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


# --- Parsing ----------------------------------------------------------------------------------


def _clean_for_parsing(text: str) -> str:
    """One line, no control characters, single commas, no trailing country, FM roads named
    the way usaddress knows them."""
    text = unicodedata.normalize("NFKC", text).encode("utf-8", "replace").decode()
    text = _CONTROL.sub(", ", text)
    text = _COMMAS.sub(", ", " ".join(text.split())).strip(" ,")
    text = _COUNTRY.sub("", text).strip(" ,")
    text = _FARM_ROADS.sub(lambda m: "FM" if m[1].upper() == "FARM" else "RM", text)
    return _INTERSTATE.sub("I ", text)


def _tag(text: str) -> tuple[dict[str, str], str, list[str]]:
    """usaddress labels -> text, the address type, and problems.

    Groups `usaddress.parse` tokens the way `usaddress.tag` does, with three repairs: where
    `tag` raises RepeatedLabelError (two units) we keep the first run of each label and report
    the rest; a unit before the city's comma ("Rear, Austin") is not part of the city; and a
    rural route read as a landmark ("HC 1, Marfa") is a rural route."""
    tagged: dict[str, str] = {}
    extra: list[str] = []
    after_extra = intersection = False
    labels: set[str] = set()
    for label, pairs in itertools.groupby(usaddress.parse(text), key=lambda pair: pair[1]):
        intersection = intersection or label == "IntersectionSeparator"
        if intersection and "StreetName" in label:
            label = f"Second{label}"
        labels.add(label)
        tokens = [token for token, _ in pairs]
        if label == "PlaceName":
            tokens = _city_tokens(tokens, tagged)
        words = " ".join(tokens).strip(" ,;")
        if label not in tagged:
            tagged[label], after_extra = words, False
        elif after_extra:
            extra[-1] = f"{extra[-1]} {words}"
        else:
            extra.append(words)
            after_extra = True
    _rural_route_from_landmark(tagged)
    if extra:
        return tagged, "Repeated", [f"Repeated address parts ({', '.join(extra)}); check the unit"]
    if "AddressNumber" in labels and not intersection:
        return tagged, "Street Address", []
    if intersection:
        return tagged, "Intersection", []
    if "USPSBoxID" in tagged or "USPSBoxGroupID" in tagged:
        return tagged, "PO Box", []
    return tagged, "Ambiguous", []


def _city_tokens(tokens: list[str], tagged: dict[str, str]) -> list[str]:
    """The city is the words after the last comma inside a PlaceName run; a unit before it
    ("Rear, Austin") becomes the unit, anything else is reported as not an address."""
    cut = max((i + 1 for i, token in enumerate(tokens[:-1]) if token.endswith(",")), default=0)
    if cut:
        before = " ".join(tokens[:cut]).strip(" ,;")
        designator, _ = unit_split(before)
        first_word = _upper(before).split(" ")[0]
        if (first_word in _UNIT_TYPES or before.startswith("#")) and designator:
            tagged.setdefault("OccupancyIdentifier", before)
        else:
            tagged.setdefault("NotAddress", before)
    return tokens[cut:]


def _rural_route_from_landmark(tagged: dict[str, str]) -> None:
    if any(label.startswith(("USPSBox", "AddressNumber")) for label in tagged):
        return
    for label in ("LandmarkName", "BuildingName", "Recipient"):
        route = _RURAL.fullmatch(_upper(tagged.get(label, "")))
        if route:
            del tagged[label]
            tagged["USPSBoxGroupType"], tagged["USPSBoxGroupID"] = route[1], route[2]
            if route[3]:
                tagged["USPSBoxType"], tagged["USPSBoxID"] = "BOX", route[3]
            return


def _street_parts(tagged: dict[str, str], prefix: str = "") -> list[str]:
    """[number, predirectional, pre-type, name, type, modifier, postdirectional], blanks kept
    so that the list lines up with `_STREET_LABELS`."""
    get = lambda label: tagged.get(prefix + label, "")  # noqa: E731
    number = " ".join(
        _upper(tagged.get(label, "")).replace(" ", "")
        for label in ("AddressNumberPrefix", "AddressNumber", "AddressNumberSuffix")
        if tagged.get(label) and not prefix
    )
    pre_type = _street_type(get("StreetNamePreType"), _PRE_TYPES)
    name = " ".join(
        _upper(get(label)) for label in ("StreetNamePreModifier", "StreetName") if get(label)
    )
    if pre_type in ("ST", "SAINT") and name:  # usaddress reads "St Marks" as type + name
        pre_type, name = "", f"SAINT {name}"
    route = _ROUTE.fullmatch(name)
    if route and not pre_type and route[1] in _PRE_TYPES:  # "I 35 N" read as a name
        pre_type, name = _PRE_TYPES[route[1]], route[2]
    return [
        number,
        _directional(get("StreetNamePreDirectional")),
        pre_type,
        _street_name(name),
        _street_type(get("StreetNamePostType"), _STREET_TYPES),
        _upper(get("StreetNamePostModifier")),
        _directional(get("StreetNamePostDirectional")),
    ]


def _box_parts(tagged: dict[str, str]) -> list[str]:
    """["PO BOX", "12"] or ["RR", "2", "BOX", "15"]; usaddress reads "RR 2" as box 2."""
    group = _BOX_GROUPS.get(_upper(tagged.get("USPSBoxGroupType", "")), "")
    group_id = _NOT_ID.sub("", tagged.get("USPSBoxGroupID", "").upper())
    box_id = _NOT_ID.sub("", tagged.get("USPSBoxID", "").upper())
    if group and not group_id and not tagged.get("USPSBoxType"):
        group_id, box_id = box_id, ""
    if not group:
        return ["PO BOX", box_id] if box_id else []
    if not group_id:
        return []
    return [group, group_id, "BOX", box_id] if box_id else [group, group_id]


def _unit_parts(tagged: dict[str, str]) -> dict[str, tuple[str, str]]:
    """{"Subaddress": ("BLDG", "A"), "Occupancy": ("APT", "4")}: the Pub 28 designator and
    identifier of each unit level the address has."""
    units = {}
    for level in ("Subaddress", "Occupancy"):
        text = f"{tagged.get(f'{level}Type', '')} {tagged.get(f'{level}Identifier', '')}"
        designator, identifier = unit_split(text)
        if designator:
            units[level] = (designator, identifier)
    return units


def _unit_text(units: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """(display unit, identifier): ("BLDG A APT 4", "A 4"); a bare "REAR" is its own id."""
    shown = " ".join(
        f"{designator} {identifier}".strip() for designator, identifier in units.values()
    )
    return shown, " ".join(identifier or designator for designator, identifier in units.values())


# --- The normaliser ---------------------------------------------------------------------------


def address_normalize(
    raw: str | None = None,
    *,
    street: str = "",
    unit: str = "",
    city: str = "",
    state: str = "",
    postal_code: str = "",
) -> NormalizedAddress:
    """Normalise one US address given as one line (`raw`), as parts, or both (the parts win
    and a disagreement is a problem). Never raises: unreadable input comes back as `raw` with
    `needs_review` and the reasons in `problems`."""
    parts = {
        "street": str(street or ""),
        "unit": str(unit or ""),
        "city": str(city or ""),
        "state": str(state or ""),
        "postal_code": str(postal_code or ""),
    }
    if raw is None or raw == "":
        locality = f"{parts['state']} {parts['postal_code']}".strip()
        line = [parts["street"], parts["unit"], parts["city"], locality]
        raw_text = ", ".join(p.strip() for p in line if p.strip())
        from_parts = True
    else:
        raw_text, from_parts = str(raw), False
    try:
        return _normalize(raw_text, parts, from_parts=from_parts)
    except Exception as error:  # the contract is "never raises": keep the text, flag it
        return _unreadable(raw_text, f"Could not read the address ({type(error).__name__})")


def _unreadable(raw: str, problem: str) -> NormalizedAddress:
    return NormalizedAddress(
        raw=raw, street="", unit="", unit_id="", city="", state="", postal_code="", zip4="",
        components={}, street_key="", match_key="", needs_review=True, problems=(problem,),
    )  # fmt: skip


def _normalize(raw: str, parts: dict[str, str], *, from_parts: bool) -> NormalizedAddress:
    problems: list[str] = []
    text = _clean_for_parsing(parts["street"] if from_parts else raw)
    if not text and not any(p.strip() for p in parts.values()):
        return _unreadable(raw, "No address given")
    if len(text) > MAX_PARSED_CHARS:
        text = text[:MAX_PARSED_CHARS]
        problems.append(f"Longer than {MAX_PARSED_CHARS} characters; only the start was read")
    tagged, kind, tag_problems = _tag(text)
    problems += tag_problems
    street_parts, box_parts = _street_parts(tagged), _box_parts(tagged)
    street_line, keyed_parts = _street_line(tagged, kind, street_parts, box_parts, problems)

    units = _unit_parts(tagged)
    unit_line, unit_id = _unit_text(units)
    if parts["unit"].strip():
        given_units = {"Occupancy": unit_split(parts["unit"])}
        if unit_id and _unit_text(given_units)[1] != unit_id:
            problems.append(f"Unit {parts['unit'].strip()} given, but the address says {unit_line}")
        units = given_units
        unit_line, unit_id = _unit_text(units)

    given = {
        "city": parts["city"].strip() or tagged.get("PlaceName", ""),
        "state": parts["state"].strip() or tagged.get("StateName", ""),
        "ZIP": parts["postal_code"].strip() or tagged.get("ZipCode", ""),
    }
    for field, label, part, same in (
        ("city", "PlaceName", "city", _city_key),
        ("state", "StateName", "state", _state),
        ("ZIP", "ZipCode", "postal_code", _zip_split),
    ):
        said, typed = tagged.get(label, ""), parts[part].strip()
        if said and typed and same(said) != same(typed):
            problems.append(f"The {field} is {typed}, but the address says {said}")
    city = _upper(given["city"])
    state = _state(given["state"]) if given["state"] else ""
    if given["state"] and not state:
        problems.append(f'Unknown state "{given["state"]}"')
    zip5, zip4 = _zip_split(given["ZIP"]) if given["ZIP"] else ("", "")
    if given["ZIP"] and not zip5:
        problems.append(f'"{given["ZIP"]}" is not a ZIP code')
    filled_city, filled_state = _check_zip(zip5, city, state, problems)

    components = _components(tagged, street_parts, box_parts, units)
    for label, value in (
        ("PlaceName", city),
        ("StateName", state or _upper(given["state"])),
        ("ZipCode", f"{zip5}-{zip4}" if zip4 else zip5 or _upper(given["ZIP"])),
    ):
        if value:
            components[label] = value

    street_key = "|".join(p for p in keyed_parts if p)
    locality = zip5 or (f"{_city_key(filled_city)} {filled_state}".strip() if filled_city else "")
    match_key = ""
    if street_key and locality and kind != "Repeated":
        match_key = f"{street_key}|{unit_id}|{locality}"
    elif street_key and not locality:
        problems.append("No city or ZIP code")
    return NormalizedAddress(
        raw=raw,
        street=street_line,
        unit=unit_line,
        unit_id=unit_id,
        city=filled_city,
        state=filled_state,
        postal_code=zip5,
        zip4=zip4,
        components=components,
        street_key=street_key,
        match_key=match_key,
        needs_review=bool(problems),
        problems=tuple(dict.fromkeys(problems)),
    )


def _street_line(
    tagged: dict[str, str],
    kind: str,
    street_parts: list[str],
    box_parts: list[str],
    problems: list[str],
) -> tuple[str, list[str]]:
    """The Pub 28 first line and the parts that may form a key (none when unsure)."""
    number, name = street_parts[0], street_parts[3]
    line = " ".join(p for p in street_parts if p)
    if kind == "Intersection":
        second = " ".join(p for p in _street_parts(tagged, "Second") if p)
        problems.append("An intersection, not a street address")
        return " & ".join(p for p in (line, second) if p), []
    if box_parts and not number:
        if box_parts[0] in ("RR", "HC") and "BOX" not in box_parts:
            problems.append(f"{box_parts[0]} {box_parts[1]} has no box number")
        return " ".join(box_parts), box_parts
    keyed = street_parts if number and name else []
    if not line:
        problems.append("Could not recognise a street address")
    elif not keyed:
        problems.append("No house number" if not number else "No street name")
    elif kind == "Ambiguous":
        problems.append("The address is ambiguous")
    if box_parts and number:
        problems.append(f"Both a street address and a {' '.join(box_parts)}")
    noise = [tagged[label] for label in ("Recipient", "NotAddress") if tagged.get(label)]
    if noise and line:
        problems.append(f"Text that is not part of an address: {'; '.join(noise)}")
    return line, keyed


def _check_zip(zip5: str, city: str, state: str, problems: list[str]) -> tuple[str, str]:
    """Fill a missing city or state from the ZIP; report (and keep) ones that disagree."""
    if not zip5:
        return city, state
    info = _zip_info(zip5)
    if info is None:
        problems.append(f"ZIP {zip5} is not a known US ZIP code")
        return city, state
    if city and _city_key(city) not in info.city_keys:
        problems.append(f"ZIP {zip5} is in {info.city}, not {city}")
    if state and state != info.state:
        problems.append(f"ZIP {zip5} is in {info.state}, not {state}")
    return city or info.city, state or info.state


_STREET_LABELS = (
    "AddressNumber",
    "StreetNamePreDirectional",
    "StreetNamePreType",
    "StreetName",
    "StreetNamePostType",
    "StreetNamePostModifier",
    "StreetNamePostDirectional",
)
_REPLACED_LABELS = frozenset(
    {
        "AddressNumberPrefix",
        "AddressNumberSuffix",
        "StreetNamePreModifier",
        "USPSBoxGroupType",
        "USPSBoxGroupID",
        "USPSBoxType",
        "USPSBoxID",
        "SubaddressType",
        "SubaddressIdentifier",
        "OccupancyType",
        "OccupancyIdentifier",
        "PlaceName",
        "StateName",
        "ZipCode",
        "CountryName",
    }
)


def _components(
    tagged: dict[str, str],
    street_parts: list[str],
    box_parts: list[str],
    units: dict[str, tuple[str, str]],
) -> dict[str, str]:
    """usaddress labels -> normalised values (JSON-ready). Prefixes, suffixes and modifiers are
    folded into AddressNumber and StreetName; labels we do not normalise, such as BuildingName,
    are kept upper-cased."""
    components = {
        label: _upper(value)
        for label, value in tagged.items()
        if value
        and label not in _REPLACED_LABELS
        and label not in _STREET_LABELS
        and not label.startswith("Second")
    }
    components.update({k: v for k, v in zip(_STREET_LABELS, street_parts, strict=True) if v})
    if "SecondStreetName" in tagged:
        second = zip(_STREET_LABELS, _street_parts(tagged, "Second"), strict=True)
        components.update({f"Second{label}": v for label, v in second if v})
    if box_parts[:1] == ["PO BOX"]:
        components.update(USPSBoxType="PO BOX", USPSBoxID=box_parts[1])
    elif box_parts:
        components.update(USPSBoxGroupType=box_parts[0], USPSBoxGroupID=box_parts[1])
        if len(box_parts) == 4:
            components.update(USPSBoxType="BOX", USPSBoxID=box_parts[3])
    for level, (designator, identifier) in units.items():
        components[f"{level}Type"] = designator
        if identifier:
            components[f"{level}Identifier"] = identifier
    return components


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
