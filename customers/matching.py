"""Probabilistic customer matching: is this record a customer we already have?

Every intake path (the phone agent, the API, CSV import, CRM and accounting sync) and the batch
deduplication ask the same question through this module, so a record is judged the same way
wherever it comes from.

How a pair is judged
    Each field is compared into a *level* ("exact", "nickname", "typo", "unit_conflict", …):
    names with nicknames and sound-alike keys, phones and emails by their normalised keys,
    addresses by their USPS Publication 28 keys with units compared by identifier. A logistic
    model over those levels, and over every two fields' levels together, turns them into a
    probability. Its weights were fitted on labelled
    pairs (`bench/match_fit.py`: FEBRL 2 plus our own generator of field-service records with
    households, see `customers.hygiene.synthetic`) and live in `match_model.json`, so the number is
    a calibrated probability, and every field's level and weight is kept as *evidence* that a
    person can read ("first name BILL ~ WILLIAM: nickname, +2.1").

What must never match
    Households share an address, a last name and often a landline: their first names differ, and
    that level weighs heavily against. "John Smith" and "John Smith Jr" at one address differ by
    the suffix, and a suffix conflict does too.

Blocking
    A pair is only scored when the two records share a blocking key: a phone, an email, a street
    (house number and street name), the sound of the last name within a ZIP code, or the sound of
    the last name with the first name. Nothing ever scans a whole table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from customers.hygiene.addresses import NormalizedAddress, address_normalize
from customers.hygiene.emails import email_key
from customers.hygiene.names import distinct_given_names, first_names_related, name_parse
from customers.hygiene.phones import phone_key

MODEL_PATH = Path(__file__).with_name("match_model.json")

# The levels of each compared field, strongest agreement first. "missing" (either side has
# nothing to compare) weighs nothing.
LEVELS: dict[str, tuple[str, ...]] = {
    "first_name": ("exact", "nickname", "typo", "similar", "initial", "different", "missing"),
    "last_name": ("exact", "phonetic", "typo", "partial", "similar", "different", "missing"),
    "suffix": ("same", "conflict", "missing"),
    "phone": ("shared", "near", "different", "missing"),
    "email": ("shared", "near", "different", "missing"),
    "account": ("shared", "near", "different", "missing"),
    "address": (
        "exact",
        "unit_missing",
        "street_typo",
        "number_differs",
        "locality",
        "unit_conflict",
        "different",
        "missing",
    ),
    "building": ("same", "different", "missing"),
}
FIELDS = tuple(LEVELS)
# Every two fields are also weighed together: the same *person's name* with a shared phone or
# address is far stronger evidence than either alone (a family shares the phone and the
# address, not the first name), and a different first name at the same address is a spouse, not
# a typo. A pair of levels weighs nothing unless the fit saw it.
FIELD_PAIRS = tuple((a, b) for i, a in enumerate(FIELDS) for b in FIELDS[i + 1 :])


def pair_key(a: str, b: str) -> str:
    return f"{a}*{b}"


def auto_merge_allowed(levels: dict[str, str]) -> bool:
    """Whether a pair may be merged without a person, however likely it is.

    A record that gives only an initial ("J. Smith") is merged automatically only when it shares
    an email address or an account number, which belong to one person: in a house where John and
    Jane Smith live, the address and the landline cannot tell which one it is. Likewise a
    record at another flat of the same building, with no phone, email or account number in
    common, goes to a person however alike the names are.
    """
    personal = "shared" in (levels["phone"], levels["email"], levels["account"])
    if levels["address"] == "unit_conflict" and not personal:
        return False  # another flat of the building: a namesake neighbour is as likely
    return levels["first_name"] != "initial" or "shared" in (levels["email"], levels["account"])


def identifier_tied(levels: dict[str, str]) -> bool:
    """Whether something only one person has ties the two records: the same email address, or an
    account number (even with one keying slip). A phone is not enough: a family shares the
    landline."""
    return levels["email"] == "shared" or levels["account"] in ("shared", "near")


def plainly_different_people(a: MatchRecord, b: MatchRecord, levels: dict[str, str]) -> bool:
    """Whether two records are two people whatever else they share: their first names clearly
    differ (not a nickname, a typo, an initial or a blank; not one keystroke apart, KIA and KAI;
    not one record's first name typed as the other's last) and no phone, email or account
    number ties them directly, or one is a "Jr" the other is not (father and son share the house
    phone, so only an email or an account number overrides that). Records of two families (the
    last names differ too) are left to the model. Batch clustering never puts such a pair in one
    cluster on the strength of other records' links, so a chain through a blank first name or a
    nickname cannot glue a household into one customer."""
    if levels["suffix"] == "conflict":
        return not identifier_tied(levels)
    return (
        levels["first_name"] == "different"
        and levels["last_name"] != "different"
        and not (identifier_tied(levels) or levels["phone"] == "shared")
        and OSA.distance(a.first, b.first) > 1
        and a.first not in (b.last, b.middle)
        and b.first not in (a.last, a.middle)
    )


@dataclass(frozen=True)
class Place:
    """The comparable parts of one address."""

    street_key: str
    number: str
    street_name: str
    unit_id: str
    postal_code: str
    city: str
    building: str = ""  # a building or property name: "OAK RIDGE APARTMENTS", "WILLAROO"

    @classmethod
    def from_normalized(cls, address: NormalizedAddress) -> Place | None:
        return cls.from_parts(
            street_key=address.street_key,
            unit_id=address.unit_id,
            postal_code=address.postal_code,
            city=address.city,
            building=building_of(address.components),
        )

    @classmethod
    def from_parts(
        cls, *, street_key: str, unit_id: str, postal_code: str, city: str, building: str = ""
    ) -> Place | None:
        parts = [p for p in street_key.split("|") if p]
        if not parts and not postal_code and not city:
            return None
        number = parts[0] if parts and parts[0][:1].isdigit() else ""
        name = " ".join(parts[1:] if number else parts)
        return cls(
            street_key=street_key if parts else "",
            number=number,
            street_name=name,
            unit_id=unit_id,
            postal_code=postal_code[:5],
            city=city.upper(),
            building=building.upper(),
        )


def building_of(components: dict | None) -> str:
    """The building or property name among parsed address parts, if any."""
    parts = components or {}
    return parts.get("BuildingName") or parts.get("LandmarkName") or ""


@dataclass(frozen=True)
class MatchRecord:
    """One customer, or one candidate for being one, reduced to what the matcher compares."""

    key: object
    first: str = ""
    middle: str = ""
    last: str = ""
    suffix: str = ""
    first_key: str = ""
    first_phonetic: str = ""
    last_phonetic: str = ""
    last_nysiis: str = ""
    is_company: bool = False
    phones: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    # The addresses as stored (lower-cased, dots and tags kept): what a database lookup by
    # email compares, where `emails` holds one key per mailbox.
    email_values: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()
    places: tuple[Place, ...] = ()

    @property
    def name_key(self) -> str:
        """The sound of the last name (or the company): stored on Customer for blocking."""
        return self.last_phonetic or self.last[:40]

    def display_name(self) -> str:
        return " ".join(p for p in (self.first, self.middle, self.last, self.suffix) if p)

    def blocking_keys(self) -> set[str]:
        keys = {f"p:{p}" for p in self.phones} | {f"e:{e}" for e in self.emails}
        keys |= {f"i:{a}" for a in self.accounts}
        # An account number typed with one slip still shares one of its halves.
        keys |= {f"ih:{a[: len(a) // 2]}|{len(a)}" for a in self.accounts if len(a) >= 6}
        keys |= {f"it:{a[len(a) // 2 :]}|{len(a)}" for a in self.accounts if len(a) >= 6}
        for place in self.places:
            if place.street_key:
                keys.add(f"s:{place.street_key}")
            if self.name_key and place.postal_code:
                keys.add(f"nz:{self.name_key}|{place.postal_code}")
            if place.postal_code:
                if place.building:
                    keys.add(f"bz:{place.building}|{place.postal_code}")
                if place.street_name:
                    keys.add(f"sz:{place.street_name}|{place.postal_code}")
            if place.number:
                if self.first_key:
                    keys.add(f"fn:{self.first_key}|{place.number}")
                if self.name_key:
                    keys.add(f"ln:{self.name_key}|{place.number}")
                if place.postal_code:
                    keys.add(f"zn:{place.postal_code}|{place.number}")
        if self.name_key and self.first_key:
            keys.add(f"nf:{self.name_key}|{self.first_key}")
        if self.first and self.last:  # first and last typed the wrong way round meet here too
            keys.add("nn:" + "|".join(sorted((self.first, self.last))))
        return keys


def match_record(
    *,
    key: object = None,
    first_name: str = "",
    last_name: str = "",
    full_name: str = "",
    company_name: str = "",
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    addresses: Iterable[NormalizedAddress] = (),
    places: Iterable[Place] = (),
    region: str = "US",
) -> MatchRecord:
    """Normalise loose input into a `MatchRecord`. Never raises: unusable parts are left out."""
    return stored_record(
        key=key,
        first_name=first_name,
        last_name=last_name,
        full_name=full_name,
        company_name=company_name,
        phones=[k for k in (phone_key(p, region=region) for p in phones) if k],
        emails=[e.strip().lower() for e in emails if e and e.strip()],
        places=[p for p in (Place.from_normalized(a) for a in addresses) if p is not None]
        + list(places),
    )


def stored_record(
    *,
    key: object = None,
    first_name: str = "",
    last_name: str = "",
    full_name: str = "",
    company_name: str = "",
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    places: Iterable[Place] = (),
) -> MatchRecord:
    """A `MatchRecord` from values already normalised on the way in (E.164 phones, lower-cased
    emails, stored address keys): the fast path for customers loaded from the database."""
    person = name_parse(first_name, last_name, full=full_name)
    if not (person.first or person.last) and company_name:
        person = name_parse(full=company_name)
    values = frozenset(emails)
    return MatchRecord(
        key=key,
        first=person.first,
        middle=person.middle,
        last=person.last,
        suffix=person.suffix,
        first_key=person.first_key,
        first_phonetic=person.first_phonetic,
        last_phonetic=person.last_phonetic,
        last_nysiis=person.last_nysiis,
        is_company=person.is_company,
        phones=frozenset(phones),
        emails=frozenset(k for k in (email_key(e) for e in values) if k),
        email_values=values,
        places=tuple(places),
    )


def record_from_row(row: dict[str, str], *, key: object = None, region: str = "US") -> MatchRecord:
    """A `MatchRecord` from a CSV-style row (`first_name, last_name, phone, email, street, city,
    state, zip`; any may be missing)."""
    get = lambda name: (row.get(name) or "").strip()  # noqa: E731
    address = None
    if get("street") or get("zip"):
        address = address_normalize(
            street=get("street"), city=get("city"), state=get("state"), postal_code=get("zip")
        )
    return match_record(
        key=key if key is not None else get("id"),
        first_name=get("first_name"),
        last_name=get("last_name"),
        company_name=get("company_name") or get("company"),
        phones=[p for p in (get("phone"), get("phone2")) if p],
        emails=[get("email")] if get("email") else [],
        addresses=[address] if address else [],
        region=region,
    )


# --- comparing two records -------------------------------------------------------------------
def _first_level(a: str, b: str) -> str:
    if not a or not b:
        return "missing"
    if a == b:
        return "exact"
    if len(a) == 1 or len(b) == 1:
        return "initial" if a[0] == b[0] else "different"
    if first_names_related(a, b):
        return "nickname"
    if distinct_given_names(a, b):
        return "different"  # DANIEL and DANIELLE: a couple, not a typo
    score = JaroWinkler.normalized_similarity(a, b)
    if score >= 0.92:
        return "typo"
    if score >= 0.8:
        return "similar"
    return "different"


def _last_level(a: MatchRecord, b: MatchRecord) -> str:
    if not a.last or not b.last:
        return "missing"
    if a.last == b.last:
        return "exact"
    if (a.last_phonetic and a.last_phonetic == b.last_phonetic) or (
        a.last_nysiis and a.last_nysiis == b.last_nysiis
    ):
        return "phonetic"
    score = JaroWinkler.normalized_similarity(a.last, b.last)
    if score >= 0.92:
        return "typo"
    tokens_a, tokens_b = (
        set(a.last.replace("-", " ").split()),
        set(b.last.replace("-", " ").split()),
    )
    if tokens_a and tokens_b and (tokens_a <= tokens_b or tokens_b <= tokens_a):
        return "partial"
    return "similar" if score >= 0.8 else "different"


def _suffix_level(a: str, b: str) -> str:
    if not a and not b:
        return "missing"
    return "same" if a == b else "conflict"


def _near_digits(a: str, b: str) -> bool:
    """One keying slip apart: one digit wrong or two neighbours swapped."""
    if len(a) != len(b):
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]


def _phone_level(a: frozenset[str], b: frozenset[str]) -> str:
    if not a or not b:
        return "missing"
    if a & b:
        return "shared"
    if any(_near_digits(x, y) for x in a for y in b):
        return "near"
    return "different"


def _email_level(a: frozenset[str], b: frozenset[str]) -> str:
    if not a or not b:
        return "missing"
    if a & b:
        return "shared"
    for x in a:
        local_x, _, domain_x = x.partition("@")
        for y in b:
            local_y, _, domain_y = y.partition("@")
            if local_x == local_y or (
                domain_x == domain_y and Levenshtein.distance(local_x, local_y) <= 1
            ):
                return "near"
    return "different"


_ADDRESS_RANK = {level: rank for rank, level in enumerate(LEVELS["address"])}  # 0 = best


def _place_level(a: Place, b: Place) -> str:
    same_zip = bool(a.postal_code and a.postal_code == b.postal_code)
    # One slipped or swapped digit in a ZIP ("78745" / "78754") still says "same area".
    near_zip = bool(a.postal_code and b.postal_code) and _near_digits(a.postal_code, b.postal_code)
    same_city = (
        bool(a.city and b.city) and JaroWinkler.normalized_similarity(a.city, b.city) >= 0.92
    )
    locality = same_zip or near_zip or same_city
    zip_conflict = bool(a.postal_code and b.postal_code) and not locality
    if a.street_key and a.street_key == b.street_key and not zip_conflict:
        if a.unit_id == b.unit_id:
            return "exact"
        if not a.unit_id or not b.unit_id:
            return "unit_missing"
        return "unit_conflict"
    if not locality:
        return "different"
    if a.street_name and b.street_name:
        if a.number and a.number == b.number:
            if JaroWinkler.normalized_similarity(a.street_name, b.street_name) >= 0.85:
                return "street_typo"
        elif JaroWinkler.normalized_similarity(a.street_name, b.street_name) >= 0.92:
            return "number_differs"
    return "locality"


def _address_level(
    a: Sequence[Place], b: Sequence[Place]
) -> tuple[str, Place | None, Place | None]:
    if not a or not b:
        return "missing", None, None
    best = ("different", None, None)
    for x in a:
        for y in b:
            level = _place_level(x, y)
            if _ADDRESS_RANK[level] < _ADDRESS_RANK[best[0]]:
                best = (level, x, y)
    return best


def _building_level(a: Sequence[Place], b: Sequence[Place]) -> str:
    """Building names compared, also against the other side's street line: exports often swap
    "Oak Ridge Apartments" and "500 Lamar Blvd" between address lines 1 and 2."""
    names_a = {p.building for p in a if p.building}
    names_b = {p.building for p in b if p.building}
    if not names_a and not names_b:
        return "missing"
    similar = JaroWinkler.normalized_similarity
    if any(similar(x, y) >= 0.9 for x in names_a for y in names_b):
        return "same"
    lines_a = {p.street_name for p in a if p.street_name}
    lines_b = {p.street_name for p in b if p.street_name}
    crossed = [(x, y) for x in names_a for y in lines_b]
    crossed += [(x, y) for x in names_b for y in lines_a]
    if any(similar(x, y) >= 0.9 for x, y in crossed):
        return "same"
    return "different" if names_a and names_b else "missing"


@dataclass(frozen=True)
class MatchModel:
    """Logistic weights per (field, level) and per (field pair, level pair), fitted by
    `bench/match_fit.py`."""

    bias: float
    weights: dict[str, dict[str, float]]
    pairs: dict[str, dict[str, float]] = field(default_factory=dict)
    trained_on: str = ""

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> MatchModel:
        data = json.loads(path.read_text())
        return cls(
            bias=data["bias"],
            weights=data["weights"],
            pairs=data.get("pairs", {}),
            trained_on=data.get("trained_on", ""),
        )

    def weight(self, field_name: str, level: str) -> float:
        return self.weights.get(field_name, {}).get(level, 0.0)

    def pair_weight(self, a: str, level_a: str, b: str, level_b: str) -> float:
        if level_a == "missing" and level_b == "missing":
            return 0.0
        return self.pairs.get(pair_key(a, b), {}).get(f"{level_a}|{level_b}", 0.0)


@lru_cache(maxsize=1)
def match_model() -> MatchModel:
    return MatchModel.load()


@dataclass(frozen=True)
class Comparison:
    """How two records compare: the level of every field and the resulting probability."""

    levels: dict[str, str]
    probability: float
    evidence: dict = field(compare=False, hash=False)

    @property
    def auto_merge_allowed(self) -> bool:
        return auto_merge_allowed(self.levels)


def _last_text_level(a: str, b: str) -> str:
    """The last-name level from the text alone (for swapped names, which have no sound keys)."""
    if not a or not b:
        return "missing"
    if a == b:
        return "exact"
    score = JaroWinkler.normalized_similarity(a, b)
    return "typo" if score >= 0.92 else "similar" if score >= 0.8 else "different"


def _given(record: MatchRecord) -> str:
    return f"{record.first} {record.middle}".strip()


def _names_swapped(a: MatchRecord, b: MatchRecord) -> tuple[str, str] | None:
    """ "Jenkins William" against "William Jenkins": first and last typed the wrong way round
    (clearly closer crosswise than straight). A swapped last name of several words ("De La
    Cruz" typed as the given names) reads as first "DE", middle "LA CRUZ", so the crosswise
    comparison takes the given names whole. Returns the two crossed pairs (a's last against
    b's given names, a's first against b's last) or None."""
    if not (a.first and a.last and b.first and b.last) or a.first == b.first:
        return None
    similarity = JaroWinkler.normalized_similarity
    straight = similarity(a.first, b.first) + similarity(a.last, b.last)
    for given_a, given_b in ((a.first, b.first), (_given(a), _given(b))):
        crossed = similarity(given_a, b.last) + similarity(a.last, given_b)
        if crossed >= 1.8 and crossed > straight + 0.3:
            return given_a, given_b
    return None


def compare_levels(a: MatchRecord, b: MatchRecord) -> dict[str, str]:
    """The level of every field."""
    if swapped := _names_swapped(a, b):
        given_a, given_b = swapped
        first, last = _first_level(a.last, given_b), _last_text_level(given_a, b.last)
    else:
        first, last = _first_level(a.first, b.first), _last_level(a, b)
    return {
        "first_name": first,
        "last_name": last,
        "suffix": _suffix_level(a.suffix, b.suffix),
        "phone": _phone_level(a.phones, b.phones),
        "email": _email_level(a.emails, b.emails),
        "account": _phone_level(a.accounts, b.accounts),
        "address": _address_level(a.places, b.places)[0],
        "building": _building_level(a.places, b.places),
    }


def _compared_values(a: MatchRecord, b: MatchRecord) -> dict[str, tuple[str, str]]:
    """What each level was computed from, as a person would read it."""
    _, place_a, place_b = _address_level(a.places, b.places)
    return {
        "first_name": (a.first, b.first),
        "last_name": (a.last, b.last),
        "suffix": (a.suffix, b.suffix),
        "phone": (", ".join(sorted(a.phones)), ", ".join(sorted(b.phones))),
        "email": (", ".join(sorted(a.emails)), ", ".join(sorted(b.emails))),
        "account": (", ".join(sorted(a.accounts)), ", ".join(sorted(b.accounts))),
        "address": (_place_text(place_a, a.places), _place_text(place_b, b.places)),
        "building": (
            ", ".join(sorted({p.building for p in a.places if p.building})),
            ", ".join(sorted({p.building for p in b.places if p.building})),
        ),
    }


def _place_text(place: Place | None, places: Sequence[Place]) -> str:
    chosen = place or (places[0] if places else None)
    if chosen is None:
        return ""
    line = chosen.street_key.replace("|", " ").split()
    unit = f" #{chosen.unit_id}" if chosen.unit_id else ""
    return f"{' '.join(line)}{unit} {chosen.postal_code or chosen.city}".strip()


def logit(levels: dict[str, str], model: MatchModel | None = None) -> float:
    model = model or match_model()
    total = model.bias + sum(model.weight(name, level) for name, level in levels.items())
    for a, b in FIELD_PAIRS:
        total += model.pair_weight(a, levels[a], b, levels[b])
    return total


def probability_from_logit(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def compare(a: MatchRecord, b: MatchRecord, *, model: MatchModel | None = None) -> Comparison:
    """Score a pair; the evidence says, field by field, what was compared and how it weighed."""
    model = model or match_model()
    levels = compare_levels(a, b)
    shown = _compared_values(a, b)
    probability = probability_from_logit(logit(levels, model))
    together = {
        f"{x}+{y}": round(model.pair_weight(x, levels[x], y, levels[y]), 2) for x, y in FIELD_PAIRS
    }
    evidence = {
        "probability": round(probability, 4),
        "fields": {
            name: {
                "how": level,
                "score": round(model.weight(name, level), 2),
                "a": shown[name][0],
                "b": shown[name][1],
            }
            for name, level in levels.items()
        },
        # the strongest weights of fields taken together, either way
        "together": dict(
            sorted(
                ((k, v) for k, v in together.items() if abs(v) >= 0.5),
                key=lambda kv: -abs(kv[1]),
            )[:4]
        ),
        "blocks": sorted(key.split(":", 1)[0] for key in a.blocking_keys() & b.blocking_keys()),
    }
    return Comparison(levels=levels, probability=probability, evidence=evidence)
