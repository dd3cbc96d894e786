"""A generator of census-style customer records: whole households, no phones, no emails.

The field-service generator (`customers.hygiene.synthetic`) gives most people a phone or an
email, which settle most questions. A customer base imported from an old paper ledger, a
utility's list or a census-like export has neither: households of one to ten people share a last
name and an address, first names come with nicknames, typos, sound-alike spellings, initials and
blanks, and the city, state and ZIP are sometimes wrong or a placeholder. There a matcher that
follows a chain of plausible links glues a whole family into one customer; this data is made to
catch that.

Every person appears one to four times. The truth (`Record.entity`) says who is who. Same record
shape as `customers.hygiene.synthetic.Record`, so `true_pairs` and `record_from_row` apply.
Deterministic for a seed. No Django.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from rapidfuzz.distance import JaroWinkler

from customers.hygiene.synthetic import (
    LAST_NAMES,
    LOCALITIES,
    STREET_NAMES,
    SUFFIXES,
    TAIL_LAST_NAMES,
    UNIT_FORMS,
    Record,
    _case,
    _typo,
)

# Given names with the nicknames people answer to. Women's names too: a household is half women,
# and their nicknames (HEATHER → HETTY, DANIELLE → ELLIE) are less known than BILL for WILLIAM.
GIVEN_NAMES: dict[str, list[str]] = {
    "WILLIAM": ["BILL", "WILL", "BILLY"],
    "ROBERT": ["BOB", "ROB", "BOBBY"],
    "JAMES": ["JIM", "JIMMY"],
    "JOHN": ["JACK", "JOHNNY"],
    "MICHAEL": ["MIKE"],
    "RICHARD": ["RICK", "DICK"],
    "JOSEPH": ["JOE"],
    "THOMAS": ["TOM"],
    "CHARLES": ["CHARLIE", "CHUCK"],
    "CHRISTOPHER": ["CHRIS"],
    "DANIEL": ["DAN", "DANNY"],
    "MATTHEW": ["MATT"],
    "ANTHONY": ["TONY"],
    "DAVID": ["DAVE"],
    "EDWARD": ["ED", "EDDIE"],
    "GARTH": [],
    "HAROLD": ["HAL", "HARRY"],
    "FREDERICK": ["FRED", "FREDDIE"],
    "LAWRENCE": ["LARRY"],
    "RAYMOND": ["RAY"],
    "GERALD": ["JERRY"],
    "PATRICK": ["PAT"],
    "BENJAMIN": ["BEN"],
    "SAMUEL": ["SAM"],
    "ELIZABETH": ["LIZ", "BETH", "BETSY"],
    "MARGARET": ["PEGGY", "MAGGIE"],
    "KATHERINE": ["KATE", "KATHY"],
    "JENNIFER": ["JENNY", "JEN"],
    "PATRICIA": ["TRISH", "PATTY"],
    "SUSAN": ["SUE"],
    "DEBORAH": ["DEBBIE"],
    "REBECCA": ["BECKY"],
    "VICTORIA": ["VICKY", "TORI"],
    "HEATHER": ["HETTY"],
    "DANIELLE": ["ELLIE", "DANI"],
    "JESSICA": ["JESS", "JESSIE"],
    "ABIGAIL": ["ABBY"],
    "DOROTHY": ["DOT", "DOTTIE"],
    "EVELYN": ["EVIE"],
    "CHRISTINE": ["CHRISSY"],
    "SAMANTHA": ["SAMMY"],
    "BARBARA": ["BARB"],
    "AMANDA": ["MANDY"],
    "TERESA": ["TERRI"],
    "MARIA": [],
    "SOFIA": [],
    "OLIVIA": [],
    "EMMA": [],
    "HANNAH": [],
    "LAURA": [],
    "KEVIN": [],
    "BRIAN": [],
    "JASON": [],
    "ETHAN": [],
    "NOAH": [],
    "CARLOS": [],
    "LUIS": [],
    "ISABEL": [],
    "GRACE": [],
    "CHLOE": [],
    "NATALIE": [],
    "DEREK": [],
    "TRAVIS": [],
    "MARCUS": [],
}
GIVEN = sorted(GIVEN_NAMES)

# How dispatchers and transcribers really mis-hear names: letters that sound alike.
SOUND_ALIKE = (
    ("PH", "F"),
    ("CK", "K"),
    ("CH", "K"),
    ("C", "K"),
    ("Y", "I"),
    ("EE", "I"),
    ("IE", "Y"),
    ("TH", "T"),
    ("Z", "S"),
    ("LL", "L"),
    ("NN", "N"),
    ("TT", "T"),
)
PLACEHOLDER_ZIPS = ("00000", "99999", "12345")
PLACEHOLDER_CITIES = ("UNKNOWN", "N/A", "TX")
SUFFIX_FORMS = {"JR": ["Jr", "Jr.", "JR", "Junior"], "SR": ["Sr", "Sr."]}


def sound_alike(rng: random.Random, word: str) -> str:
    """`word` spelled as it sounds: KATHERINE → KATHERYNE, PHILLIP → FILLIP. The word itself if no
    rule applies."""
    rules = [(a, b) for a, b in SOUND_ALIKE if a in word[1:]] + [
        (b, a) for a, b in SOUND_ALIKE if len(b) > 1 and b in word[1:]
    ]
    if not rules:
        return word
    a, b = rng.choice(rules)
    at = word.index(a, 1)
    return word[:at] + b + word[at + len(a) :]


@dataclass
class _Member:
    entity: int
    first: str
    last: str
    suffix: str


@dataclass
class _Home:
    number: int
    street: str
    suffix_pair: tuple[str, str]
    unit: str
    city: str
    zip: str


class HouseholdGenerator:
    """Makes `n` records of households (one to ten people at one address, one last name).

    Rates per record: `blank_first` blank first names, and about 2 % initials, 20 % nicknames (of
    names that have one), 7 % typos and 5 % sound-alike spellings in the first name; 6 % typos or
    sound-alike spellings in the last name; ZIPs wrong (another area, a slipped digit) or a
    placeholder in about 10 % of records, the city in about 8 %. No phones, no emails.
    """

    def __init__(self, *, seed: int = 1, blank_first: float = 0.03) -> None:
        self.rng = random.Random(seed)
        self.blank_first = blank_first
        self._entity = 0
        self._record = 0

    def records(self, n: int) -> list[Record]:
        out: list[Record] = []
        while len(out) < n:
            home = self._home()
            for member in self._household():
                for copy in range(self.rng.choices((1, 2, 3, 4), weights=(30, 40, 20, 10))[0]):
                    out.append(self._record_of(member, home, first_copy=copy == 0))
        order = out[:n]
        self.rng.shuffle(order)
        return order

    # --- people and places -------------------------------------------------------------------
    def _home(self) -> _Home:
        rng = self.rng
        city, zip5 = rng.choice(LOCALITIES)
        return _Home(
            number=rng.randint(100, 19999),
            street=" ".join(rng.sample(STREET_NAMES, rng.choice((1, 1, 2)))),
            suffix_pair=rng.choice(SUFFIXES),
            unit=str(rng.randint(1, 40)) if rng.random() < 0.15 else "",
            city=city,
            zip=zip5,
        )

    def _last_name(self) -> str:
        rng = self.rng
        last = rng.choice(LAST_NAMES if rng.random() < 0.5 else TAIL_LAST_NAMES)
        if rng.random() < 0.1:  # a double surname: MARTINEZ RIPA
            last = f"{last} {rng.choice(TAIL_LAST_NAMES)}"
        return last

    def _household(self) -> Iterator[_Member]:
        rng = self.rng
        size = rng.choices(range(1, 11), weights=(22, 24, 16, 14, 9, 6, 4, 2, 2, 1))[0]
        last = self._last_name()
        taken: list[str] = []
        junior = False
        for position in range(size):
            self._entity += 1
            if position > 0 and not junior and rng.random() < 0.08:
                junior = True  # father and son of one name: only the suffix tells them apart
                yield _Member(self._entity, taken[0], last, "JR")
                continue
            names = [
                name
                for name in GIVEN
                if all(JaroWinkler.normalized_similarity(name, t) < 0.8 for t in taken)
                and not any(name in GIVEN_NAMES[t] or t in GIVEN_NAMES[name] for t in taken)
            ]
            if taken and rng.random() < 0.25:  # John and Jane: one initial in one house
                names = [n for n in names if n[0] == taken[0][0]] or names
            first = rng.choice(names)
            taken.append(first)
            yield _Member(self._entity, first, last, "")

    # --- records ---------------------------------------------------------------------------
    def _record_of(self, member: _Member, home: _Home, *, first_copy: bool) -> Record:
        rng = self.rng
        tags: list[str] = []
        first = member.first
        roll = rng.random()
        if roll < self.blank_first:
            first, tags = "", ["blank_first"]
        elif first_copy:
            pass  # every person has one record with the name as given
        elif roll < self.blank_first + 0.02:
            first, tags = first[0] + rng.choice(("", ".")), ["initial"]
        elif GIVEN_NAMES[first] and rng.random() < 0.2:
            first, tags = rng.choice(GIVEN_NAMES[first]), ["nickname"]
        elif rng.random() < 0.07:
            first, tags = _typo(rng, first), ["first_typo"]
        elif rng.random() < 0.05:
            first, tags = sound_alike(rng, first), ["first_phonetic"]
        last = member.last
        if not first_copy and rng.random() < 0.06:
            last = _typo(rng, last) if rng.random() < 0.5 else sound_alike(rng, last)
            tags.append("last_typo")
        if " " in last and rng.random() < 0.2:
            last = last.replace(" ", "-") if rng.random() < 0.5 else last.split()[0]
            tags.append("double_surname")
        if member.suffix:
            if rng.random() < 0.3:
                last += member.suffix  # "SMITHJR": the suffix glued on by a typist
                tags.append("glued_suffix")
            else:
                last += " " + rng.choice(SUFFIX_FORMS[member.suffix])
        return Record(
            id=self._next_id(),
            entity=member.entity,
            first_name=_case(rng, first),
            last_name=_case(rng, last),
            phone="",
            email="",
            street=self._street_line(home, variant=not first_copy),
            city=self._city(home, tags),
            state=rng.choice(("TX", "TX", "Texas", "tx", "")),
            zip=self._zip(home, tags),
            tags=tags,
        )

    def _street_line(self, home: _Home, *, variant: bool) -> str:
        rng = self.rng
        abbrev, full = home.suffix_pair
        street = home.street
        if variant and rng.random() < 0.05:
            street = _typo(rng, street)
        line = f"{home.number} {street} {rng.choice((abbrev, full)) if variant else abbrev}"
        if home.unit:
            line += " " + (rng.choice(UNIT_FORMS) if variant else "Apt {}").format(home.unit)
        return _case(rng, line) if variant else line.title()

    def _city(self, home: _Home, tags: list[str]) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.04:
            tags.append("wrong_city")
            return _case(rng, rng.choice(LOCALITIES)[0])
        if roll < 0.08:
            tags.append("placeholder_city")
            return rng.choice((*PLACEHOLDER_CITIES, ""))
        return _case(rng, home.city)

    def _zip(self, home: _Home, tags: list[str]) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.04:
            tags.append("wrong_zip")
            return rng.choice(LOCALITIES)[1]
        if roll < 0.06:
            tags.append("zip_typo")
            i = rng.randrange(2, 5)
            slipped = str((int(home.zip[i]) + rng.randint(1, 9)) % 10)
            return home.zip[:i] + slipped + home.zip[i + 1 :]
        if roll < 0.10:
            tags.append("placeholder_zip")
            return rng.choice((*PLACEHOLDER_ZIPS, ""))
        return home.zip

    def _next_id(self) -> str:
        self._record += 1
        return str(self._record)
