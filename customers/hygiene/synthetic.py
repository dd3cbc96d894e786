"""A generator of field-service customer records with known duplicates.

FEBRL is Australian, has no phones, emails, nicknames or households, and is easy. The records a
12-truck HVAC company really has look different: the same person typed by three dispatchers over
five years ("Bill Jenkins, 123 Oak St" and "William Jenkins, 123 Oak Street, Apt 4"), a new cell
number after a move, and, hardest of all, families: a husband and wife share the address, the last
name and the landline and are two customers; "John Smith" and "John Smith Jr" at one address are
two people. This module makes such data with the truth attached, so the matcher can be fitted on
one seed and measured on another, and benchmarks can scale it to 100,000 customers.

Deterministic for a seed. No Django.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from rapidfuzz.distance import JaroWinkler


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = {
    # formal name: nicknames people really give on the phone
    "WILLIAM": ["BILL", "BILLY", "WILL", "LIAM"],
    "ROBERT": ["BOB", "BOBBY", "ROB"],
    "JAMES": ["JIM", "JIMMY", "JAMIE"],
    "JOHN": ["JACK", "JOHNNY"],
    "MICHAEL": ["MIKE", "MICKEY"],
    "RICHARD": ["RICK", "DICK", "RICH"],
    "JOSEPH": ["JOE", "JOEY"],
    "THOMAS": ["TOM", "TOMMY"],
    "CHARLES": ["CHUCK", "CHARLIE"],
    "CHRISTOPHER": ["CHRIS"],
    "DANIEL": ["DAN", "DANNY"],
    "MATTHEW": ["MATT"],
    "ANTHONY": ["TONY"],
    "DAVID": ["DAVE"],
    "STEVEN": ["STEVE"],
    "EDWARD": ["ED", "EDDIE", "TED"],
    "ELIZABETH": ["LIZ", "BETH", "BETSY", "LIZZIE"],
    "MARGARET": ["PEGGY", "MAGGIE", "MEG"],
    "KATHERINE": ["KATE", "KATHY", "KATIE"],
    "JENNIFER": ["JENNY", "JEN"],
    "PATRICIA": ["PATTY", "TRISH", "PAT"],
    "SUSAN": ["SUE", "SUSIE"],
    "DEBORAH": ["DEBBIE", "DEB"],
    "REBECCA": ["BECKY"],
    "VICTORIA": ["VICKY", "TORI"],
    "ALEXANDRA": ["ALEX", "SANDRA"],
    "MARIA": [],
    "JOSE": [],
    "LUIS": [],
    "CARLOS": [],
    "SOFIA": [],
    "OLIVIA": [],
    "EMMA": [],
    "NOAH": [],
    "ETHAN": [],
    "AVA": [],
    "MIA": [],
    "HANNAH": [],
    "LAURA": [],
    "KEVIN": [],
    "BRIAN": [],
    "JASON": [],
    "RYAN": [],
    "ERIC": [],
    "AMANDA": ["MANDY"],
    "NICHOLAS": ["NICK"],
    "SAMUEL": ["SAM"],
    "BENJAMIN": ["BEN"],
}
FORMAL_NAMES = sorted(FIRST_NAMES)

LAST_NAMES = _words(
    "SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ HERNANDEZ LOPEZ "
    "GONZALEZ WILSON ANDERSON THOMAS TAYLOR MOORE JACKSON MARTIN LEE PEREZ THOMPSON WHITE HARRIS "
    "SANCHEZ CLARK RAMIREZ LEWIS ROBINSON WALKER YOUNG ALLEN KING WRIGHT SCOTT TORRES NGUYEN HILL "
    "FLORES GREEN ADAMS NELSON BAKER HALL RIVERA CAMPBELL MITCHELL CARTER ROBERTS JENKINS "
    "PHILLIPS EVANS TURNER DIAZ PARKER CRUZ EDWARDS COLLINS REYES STEWART MORRIS MORALES MURPHY "
    "COOK ROGERS GUTIERREZ ORTIZ MORGAN COOPER PETERSON BAILEY REED KELLY HOWARD RAMOS KIM COX "
    "WARD RICHARDSON WATSON BROOKS CHAVEZ WOOD JAMES BENNETT GRAY MENDOZA RUIZ HUGHES PRICE "
    "ALVAREZ CASTILLO SANDERS PATEL MYERS LONG ROSS FOSTER JIMENEZ OBRIEN MCDONALD SCHNEIDER "
    "KOWALSKI NOVAK"
)

# Real customer bases have a long tail of surnames (a 100k-customer base holds tens of thousands
# of them); blocking cost depends on it. The tail is made of syllables, deterministically.
_HEADS = _words(
    "AB AL AN AR BAR BEL BER BRA CAL CAR COR DAL DEN DOR EL FAR FEN GAL GAR HAL HAR HOL KAL KEL "
    "KIR LAN LEN LOR MAL MAR MEL MOR NOR OL PAR PEL RAD REN ROS SAL SAN SOR STAN TAL TER VAL VAN "
    "WAL WEN WIN ZEL"
)
_TAILS = _words(
    "BERG BURN CHEK DALE EK FIELD FORD GAARD HART HOLM KER KIN LAND LEY LING MAN MORE NER NESKI "
    "OFF OVA QUIST RICK SEN SON STAD TON VIK WELL WOOD ZEK"
)
TAIL_LAST_NAMES = [h + t for h in _HEADS for t in _TAILS]
TAIL_FIRST_NAMES = [h + t for h in _HEADS for t in ("A", "IE", "O", "EN", "ETTE", "IS")]

STREET_NAMES = _words(
    "OAK MAIN ELM PECAN CEDAR MAPLE WILLOW LAMAR CONGRESS GUADALUPE BURNET MOPAC RIVERSIDE BARTON "
    "SPRINGS SOUTH FIRST CESAR CHAVEZ MANCHACA WILLIAM CANNON SLAUGHTER BRAKER PARMER ANDERSON "
    "MILL SPICEWOOD BLUEBONNET MESQUITE RED BUD JUNIPER LIVE OAK SHOAL CREEK ENFIELD WINDSOR "
    "HANCOCK KOENIG AIRPORT MARTIN LUTHER KING RUNDBERG HOWARD ARBORETUM JOLLYVILLE"
)
SUFFIXES = [
    ("ST", "STREET"),
    ("AVE", "AVENUE"),
    ("DR", "DRIVE"),
    ("LN", "LANE"),
    ("BLVD", "BOULEVARD"),
    ("CT", "COURT"),
    ("RD", "ROAD"),
    ("TRL", "TRAIL"),
    ("PKWY", "PARKWAY"),
    ("CV", "COVE"),
    ("PL", "PLACE"),
    ("CIR", "CIRCLE"),
]
DIRECTIONALS = [("N", "NORTH"), ("S", "SOUTH"), ("E", "EAST"), ("W", "WEST")]
LOCALITIES = [
    ("AUSTIN", "78701"),
    ("AUSTIN", "78702"),
    ("AUSTIN", "78703"),
    ("AUSTIN", "78704"),
    ("AUSTIN", "78705"),
    ("AUSTIN", "78717"),
    ("AUSTIN", "78721"),
    ("AUSTIN", "78723"),
    ("AUSTIN", "78726"),
    ("AUSTIN", "78727"),
    ("AUSTIN", "78729"),
    ("AUSTIN", "78731"),
    ("AUSTIN", "78735"),
    ("AUSTIN", "78741"),
    ("AUSTIN", "78745"),
    ("AUSTIN", "78748"),
    ("AUSTIN", "78749"),
    ("AUSTIN", "78750"),
    ("AUSTIN", "78751"),
    ("AUSTIN", "78757"),
    ("AUSTIN", "78758"),
    ("AUSTIN", "78759"),
    ("ROUND ROCK", "78664"),
    ("ROUND ROCK", "78681"),
    ("PFLUGERVILLE", "78660"),
    ("CEDAR PARK", "78613"),
    ("LEANDER", "78641"),
    ("GEORGETOWN", "78628"),
    ("KYLE", "78640"),
    ("BUDA", "78610"),
]
AREA_CODES = ("512", "737")
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "att.net")
SUFFIX_FORMS = {
    "JR": ["Jr", "Jr.", "JR", "Junior"],
    "SR": ["Sr", "Sr.", "Senior"],
    "III": ["III", "3rd"],
}
UNIT_FORMS = ["Apt {}", "APT {}", "Unit {}", "#{}", "# {}", "Apt. {}", "Ste {}"]


@dataclass
class Record:
    """One row as it would sit in a CRM export (the `dedupe_csv` columns plus the truth)."""

    id: str
    entity: int
    first_name: str
    last_name: str
    phone: str
    email: str
    street: str
    city: str
    state: str
    zip: str
    phone2: str = ""
    tags: list[str] = field(default_factory=list)

    def row(self) -> dict[str, str]:
        data = asdict(self)
        data.pop("tags")
        data.pop("entity")
        return data


@dataclass
class _Person:
    entity: int
    first: str
    last: str
    suffix: str
    number: int
    predir: str
    street: str
    suffix_pair: tuple[str, str]
    unit: str
    city: str
    zip: str
    phones: list[str]
    email: str
    typed_as_initial: bool = False


def _phone(rng: random.Random) -> str:
    exchange = rng.randint(201, 989)
    if exchange == 555:
        exchange = 556
    return f"{rng.choice(AREA_CODES)}{exchange:03d}{rng.randint(0, 9999):04d}"


def _format_phone(rng: random.Random, digits: str) -> str:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return rng.choice(
        [
            f"({a}) {b}-{c}",
            f"{a}.{b}.{c}",
            f"{a}-{b}-{c}",
            f"+1 {a} {b} {c}",
            digits,
            f"1-{a}-{b}-{c}",
        ]
    )


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.35:  # substitution
        return word[:i] + rng.choice(string.ascii_uppercase) + word[i + 1 :]
    if kind < 0.6:  # deletion
        return word[:i] + word[i + 1 :]
    if kind < 0.8:  # transposition
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # doubled letter


def _case(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.5:
        return text.title()
    if roll < 0.8:
        return text.upper()
    return text.lower()


class CustomerGenerator:
    """Makes `n` records: people, their households and neighbours, and typed-again duplicates.

    `duplicate_share` of the people appear more than once; `household_share` of the people live
    with relatives who are separate customers (the hard negatives).
    """

    def __init__(
        self, *, seed: int = 1, duplicate_share: float = 0.3, household_share: float = 0.35
    ) -> None:
        self.rng = random.Random(seed)
        self.duplicate_share = duplicate_share
        self.household_share = household_share
        self._entity = 0
        self._record = 0

    def records(self, n: int) -> list[Record]:
        out: list[Record] = []
        for person in self._people():
            out.append(self._clean(person))
            if self.rng.random() < self.duplicate_share:
                for _ in range(self.rng.choice((1, 1, 1, 2, 3))):
                    out.append(self._variant(person))
            if len(out) >= n:
                break
        order = out[:n]
        self.rng.shuffle(order)
        return order

    # --- people ---------------------------------------------------------------------------
    def _new_person(self, *, entity: int | None = None, **overrides) -> _Person:
        rng = self.rng
        if entity is None:
            self._entity += 1
            entity = self._entity
        city, zip5 = rng.choice(LOCALITIES)
        values = {
            "entity": entity,
            "first": rng.choice(FORMAL_NAMES if rng.random() < 0.7 else TAIL_FIRST_NAMES),
            "last": rng.choice(LAST_NAMES if rng.random() < 0.4 else TAIL_LAST_NAMES),
            "suffix": "",
            "number": rng.randint(100, 19999),
            "predir": rng.choice(DIRECTIONALS)[0] if rng.random() < 0.2 else "",
            "street": " ".join(rng.sample(STREET_NAMES, rng.choice((1, 1, 2)))),
            "suffix_pair": rng.choice(SUFFIXES),
            "unit": str(rng.randint(1, 40)) + rng.choice(("", "", "A", "B"))
            if rng.random() < 0.25
            else "",
            "city": city,
            "zip": zip5,
            "phones": [_phone(rng)] + ([_phone(rng)] if rng.random() < 0.3 else []),
            "email": "",
        }
        values.update(overrides)
        person = _Person(**values)
        if rng.random() < 0.6:
            person.email = self._email(person)
        return person

    def _email(self, person: _Person) -> str:
        rng = self.rng
        local = rng.choice(
            [
                f"{person.first}.{person.last}",
                f"{person.first[0]}{person.last}",
                f"{person.first}{person.last}{rng.randint(1, 99)}",
                f"{person.last}.{person.first[0]}",
            ]
        ).lower()
        return f"{local}@{rng.choice(EMAIL_DOMAINS)}"

    def _people(self) -> Iterator[_Person]:
        rng = self.rng
        while True:
            head = self._new_person()
            yield head
            if rng.random() < self.household_share:
                yield from self._household(head)
            if rng.random() < 0.05:  # a neighbour: same street, next house or next unit
                yield self._new_person(
                    number=head.number + rng.choice((2, 4, -2)) if not head.unit else head.number,
                    unit=str(int("0" + "".join(c for c in head.unit if c.isdigit())) + 1)
                    if head.unit
                    else "",
                    predir=head.predir,
                    street=head.street,
                    suffix_pair=head.suffix_pair,
                    city=head.city,
                    zip=head.zip,
                    last=head.last if rng.random() < 0.1 else rng.choice(LAST_NAMES),
                )

    def _household(self, head: _Person) -> Iterator[_Person]:
        rng = self.rng
        shared = {
            "number": head.number,
            "predir": head.predir,
            "street": head.street,
            "suffix_pair": head.suffix_pair,
            "unit": head.unit,
            "city": head.city,
            "zip": head.zip,
            "last": head.last,
        }
        landline = head.phones[-1]
        taken = {head.first}
        junior = False
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            phones = [_phone(rng)]
            if rng.random() < 0.5:
                phones.append(landline)  # the house phone everyone gives
            if rng.random() < 0.2 and not junior and not head.suffix:
                # father and son with the same first name: only the suffix tells them apart
                junior = True
                yield self._new_person(first=head.first, suffix="JR", phones=phones, **shared)
            else:
                # Families rarely give two members names one letter apart (the syllable-made
                # tail would otherwise do it all the time).
                names = [
                    n
                    for n in FORMAL_NAMES + TAIL_FIRST_NAMES
                    if all(JaroWinkler.normalized_similarity(n, t) < 0.8 for t in taken)
                ]
                if rng.random() < 0.3:  # John and Jane: the same initial in one house
                    names = [n for n in names if n[0] == head.first[0]] or names
                first = rng.choice(names)
                taken.add(first)
                member = self._new_person(first=first, phones=phones, **shared)
                # Office records often hold only an initial ("J. Smith"): for a family member
                # that is the hardest negative there is.
                member.typed_as_initial = rng.random() < 0.05
                yield member

    # --- records ---------------------------------------------------------------------------
    def _next_id(self) -> str:
        self._record += 1
        return str(self._record)

    def _street_line(self, person: _Person, *, variant: bool) -> str:
        rng = self.rng
        abbrev, full = person.suffix_pair
        suffix = rng.choice((abbrev, full, abbrev.title() + ".")) if variant else abbrev
        predir = person.predir
        if predir and variant and rng.random() < 0.4:
            predir = dict(DIRECTIONALS)[predir]
        street = person.street
        if variant and rng.random() < 0.08:
            street = _typo(rng, street)
        parts = [str(person.number), predir, street, suffix]
        line = " ".join(p for p in parts if p)
        if person.unit:
            form = rng.choice(UNIT_FORMS) if variant else "Apt {}"
            line += (
                ", " + form.format(person.unit)
                if rng.random() < 0.3
                else " " + form.format(person.unit)
            )
        return _case(rng, line) if variant else line.title()

    def _clean(self, person: _Person) -> Record:
        suffix = f" {person.suffix.title()}" if person.suffix else ""
        return Record(
            id=self._next_id(),
            entity=person.entity,
            first_name=person.first[0] + "." if person.typed_as_initial else person.first.title(),
            last_name=person.last.title() + suffix,
            phone=_format_phone(self.rng, person.phones[0]),
            phone2=_format_phone(self.rng, person.phones[1]) if len(person.phones) > 1 else "",
            email=person.email,
            street=self._street_line(person, variant=False),
            city=person.city.title(),
            state="TX",
            zip=person.zip,
        )

    def _variant(self, person: _Person) -> Record:
        """The same person typed again: each change below is one that field data really shows."""
        rng = self.rng
        tags: list[str] = []
        first = person.first
        if FIRST_NAMES.get(first) and rng.random() < 0.3:
            first, tags = rng.choice(FIRST_NAMES[first]), [*tags, "nickname"]
        elif rng.random() < 0.1:
            first, tags = _typo(rng, first), [*tags, "first_typo"]
        elif rng.random() < 0.05:
            first, tags = first[0] + rng.choice(("", ".")), [*tags, "initial"]
        last = person.last
        if rng.random() < 0.08:
            last, tags = _typo(rng, last), [*tags, "last_typo"]
        if person.suffix:
            last += " " + rng.choice(SUFFIX_FORMS.get(person.suffix, [person.suffix]))
        moved = rng.random() < 0.1
        new_phone = rng.random() < 0.15
        # Someone who moved *and* changed number is a new customer for any office: keep one link.
        if moved and new_phone:
            new_phone = False
        place = person
        if moved:
            tags.append("moved")
            place = self._new_person(entity=person.entity)
        phones = list(person.phones)
        if new_phone:
            tags.append("new_phone")
            phones = [_phone(rng)]
        elif rng.random() < 0.15 and not moved:
            tags.append("no_phone")
            phones = []
        else:
            rng.shuffle(phones)
        email = person.email if rng.random() < 0.7 else ""
        if email and rng.random() < 0.3:
            email = email.upper() if rng.random() < 0.5 else f" {email.title()} "
        zip5 = place.zip if rng.random() > 0.1 else ""
        if not zip5:
            tags.append("no_zip")
        return Record(
            id=self._next_id(),
            entity=person.entity,
            first_name=_case(rng, first),
            last_name=_case(rng, last),
            phone=_format_phone(rng, phones[0]) if phones else "",
            phone2=_format_phone(rng, phones[1]) if len(phones) > 1 else "",
            email=email,
            street=self._street_line(place, variant=True),
            city=_case(rng, place.city),
            state=rng.choice(("TX", "Texas", "tx")),
            zip=zip5,
            tags=tags,
        )


def true_pairs(records: list[Record]) -> set[tuple[str, str]]:
    """Every pair of record ids (ordered) that belong to the same person."""
    by_entity: dict[int, list[str]] = {}
    for record in records:
        by_entity.setdefault(record.entity, []).append(record.id)
    pairs: set[tuple[str, str]] = set()
    for ids in by_entity.values():
        ids.sort()
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                pairs.add((a, b))
    return pairs
