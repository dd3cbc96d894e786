"""Tagging an address with `usaddress` and building its Pub 28 form and the matcher's keys
(see the package docstring for the choices the matcher relies on)."""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass

import usaddress

from customers.hygiene.addresses.tables import (
    _BOX_GROUPS,
    _COMMAS,
    _CONTROL,
    _COUNTRY,
    _FARM_ROADS,
    _INTERSTATE,
    _NOT_ID,
    _PRE_TYPES,
    _ROUTE,
    _RURAL,
    _STREET_TYPES,
    _UNIT_TYPES,
    _city_key,
    _directional,
    _state,
    _street_name,
    _street_type,
    _upper,
    _zip_info,
    _zip_split,
    unit_split,
)

MAX_PARSED_CHARS = 300  # a real US address is far shorter; keeps a pasted essay fast


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
