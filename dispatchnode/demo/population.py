"""The demo company's customers, planned: households around Austin, a few businesses, their
homes, equipment and notes. Customer *i* is the same on every run and for any count above *i*."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from customers.hygiene.addresses import address_normalize
from customers.intake import location_set_address
from customers.models import ContactPoint, Customer, CustomerNote, ServiceLocation, Source
from dispatchnode.demo import data

HISTORY_DAYS = 730
MAX_CUSTOMERS = 5000
ADDRESS_FIELDS = (
    "raw_address",
    "street",
    "unit",
    "city",
    "state",
    "postal_code",
    "components",
    "match_key",
    "street_key",
    "needs_review",
)


def normalized_address_fields(raw: str) -> dict[str, object]:
    """A location's address columns for `raw`, normalised and stored the way intake does it,
    so the matcher finds demo customers by the same keys as real ones."""
    location = ServiceLocation(raw_address=raw)
    location_set_address(location, address_normalize(raw))
    return {name: getattr(location, name) for name in ADDRESS_FIELDS}


# --- Plans ----------------------------------------------------------------------------------


@dataclass
class EquipmentPlan:
    kind: str
    make: str
    model_number: str
    category: str
    installed_on: dt.date
    serial_number: str = ""
    warranty_expires_on: dt.date | None = None
    notes: str = ""


@dataclass
class SitePlan:
    area: data.ZipArea
    number: int
    street: str  # display form, e.g. "Shoal Creek Blvd"
    latitude: Decimal
    longitude: Decimal
    label: str = "Home"
    unit: str = ""
    gate_code: str = ""
    pets: str = ""
    parking: str = ""
    access_notes: str = ""
    is_primary: bool = True
    equipment: list[EquipmentPlan] = field(default_factory=list)

    @property
    def raw_address(self) -> str:
        unit = f", {self.unit}" if self.unit else ""
        return f"{self.number} {self.street}{unit}, {self.area.city}, TX {self.area.code}"

    def to_location(self, customer: Customer) -> ServiceLocation:
        return ServiceLocation(
            organization=customer.organization,
            customer=customer,
            label=self.label,
            **normalized_address_fields(self.raw_address),
            latitude=self.latitude,
            longitude=self.longitude,
            geocode_quality=ServiceLocation.GeocodeQuality.ZIP_CENTROID,
            gate_code=self.gate_code,
            pets=self.pets,
            parking=self.parking,
            access_notes=self.access_notes,
            is_primary=self.is_primary,
            created_at=customer.created_at,
        )


@dataclass
class CustomerPlan:
    index: int
    kind: str
    first_name: str
    last_name: str
    company_name: str
    phones: list[tuple[str, str]]  # (E.164, label); the first is primary
    email: str
    source: str
    since: dt.datetime
    lead_status: str = Customer.LeadStatus.ACTIVE
    member: bool = False
    dns_reason: str = ""
    tags: list[str] = field(default_factory=list)
    sites: list[SitePlan] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (kind, body)

    @property
    def primary_phone(self) -> str:
        return self.phones[0][0]


@cache
def _phone_pool() -> tuple[str, ...]:
    """Unique 555 numbers in 512 and 737, shuffled once: customer *i* always gets the same ones.

    555-0xxx stays free for the phone scenarios and tests; 555-1212 is directory assistance.
    """
    numbers = [
        f"+1{area}555{line:04d}"
        for area in (512, 737)
        for line in range(1000, 10000)
        if line != 1212
    ]
    random.Random(f"{data.SEED}:phones").shuffle(numbers)
    return tuple(n for n in numbers if n not in data.RESERVED_PHONES)


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


_AREA_WEIGHTS = [(area, area.weight) for area in data.ZIP_AREAS]
_SOURCES = [
    (Source.STAFF, 35),
    (Source.REFERRAL, 15),
    (Source.ONLINE, 15),
    (Source.AI_CALL, 8),
    (Source.IMPORT, 15),
    (Source.CRM_SYNC, 9),
    (Source.API, 3),
]


def _site(rng: random.Random, area: data.ZipArea | None = None) -> SitePlan:
    area = area or _weighted(rng, _AREA_WEIGHTS)
    street = rng.choice(area.streets)
    number = rng.choice((rng.randint(100, 999), rng.randint(1000, 9999), rng.randint(1000, 14999)))
    jitter = lambda: rng.uniform(-0.012, 0.012)  # noqa: E731 - about a kilometre
    return SitePlan(
        area=area,
        number=number,
        street=street,
        latitude=Decimal(f"{area.latitude + jitter():.6f}"),
        longitude=Decimal(f"{area.longitude + jitter():.6f}"),
    )


def _install_date(rng: random.Random, today: dt.date, *, recent: float = 0.07) -> dt.date:
    if rng.random() < recent:  # replaced during the two years of history: a weekday
        day = today - dt.timedelta(days=rng.randint(20, HISTORY_DAYS - 5))
        while day.weekday() > 4:
            day -= dt.timedelta(days=1)
        return day
    year = rng.randint(2004, today.year - 3)
    return dt.date(year, rng.randint(1, 12), rng.randint(1, 28))


def _equipment(
    rng: random.Random, kind: str, installed_on: dt.date, note: str = ""
) -> EquipmentPlan:
    make, model_number, category = rng.choice(data.EQUIPMENT_MODELS[kind])
    week = installed_on.isocalendar().week
    serial = (
        f"{installed_on.year % 100:02d}{week:02d}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"
        f"{rng.randint(10000, 99999)}"
    )
    years = 10 if rng.random() < 0.6 else 5
    return EquipmentPlan(
        kind=kind,
        make=make,
        model_number=model_number,
        category=category,
        installed_on=installed_on,
        serial_number=serial,
        warranty_expires_on=installed_on.replace(year=installed_on.year + years),
        notes=note or rng.choice(data.EQUIPMENT_NOTES.get(kind, ("",))),
    )


def _residential_equipment(rng: random.Random, today: dt.date, *, apartment: bool) -> list:
    kit = []
    system = _install_date(rng, today)
    roll = rng.random()
    if roll < 0.72 or apartment:
        kit.append(_equipment(rng, "air_conditioner", system))
        if rng.random() < 0.6 and not apartment:
            kit.append(_equipment(rng, "furnace", system))
    elif roll < 0.95:
        kit.append(_equipment(rng, "heat_pump", system))
    else:
        kit.append(_equipment(rng, "mini_split", system))
    if rng.random() < 0.35:
        kit.append(_equipment(rng, "thermostat", _install_date(rng, today, recent=0.0)))
    heater = rng.random()
    if heater < 0.8:
        kit.append(_equipment(rng, "water_heater", _install_date(rng, today, recent=0.1)))
    elif heater < 0.95:
        kit.append(_equipment(rng, "tankless_water_heater", _install_date(rng, today)))
    if not apartment:
        if rng.random() < 0.45:
            kit.append(_equipment(rng, "electrical_panel", _install_date(rng, today, recent=0.05)))
        if rng.random() < 0.04:
            kit.append(_equipment(rng, "generator", _install_date(rng, today, recent=0.0)))
        if rng.random() < 0.07:
            kit.append(_equipment(rng, "ev_charger", _install_date(rng, today, recent=0.4)))
    return kit


def _commercial_equipment(rng: random.Random, today: dt.date) -> list:
    units = rng.randint(1, 3)
    kit = [
        _equipment(rng, "air_conditioner", _install_date(rng, today), f"Rooftop unit RTU-{n}.")
        for n in range(1, units + 1)
    ]
    kit.append(_equipment(rng, "water_heater", _install_date(rng, today)))
    kit.append(_equipment(rng, "electrical_panel", _install_date(rng, today, recent=0.0)))
    return kit


def _access(rng: random.Random, site: SitePlan, plan: CustomerPlan) -> None:
    if rng.random() < 0.12:
        site.gate_code = f"{rng.randint(1000, 9999)}"
        plan.notes.append(
            (CustomerNote.Kind.ACCESS, rng.choice(data.ACCESS_GATE).format(code=site.gate_code))
        )
    if plan.kind == Customer.Kind.RESIDENTIAL and rng.random() < 0.18:
        site.pets = rng.choice(data.ACCESS_PETS)
    if rng.random() < 0.1:
        site.parking = rng.choice(data.ACCESS_PARKING)
    if rng.random() < 0.12:
        site.access_notes = rng.choice(data.ACCESS_OTHER)


def _email(rng: random.Random, first: str, last: str, used: set[str]) -> str:
    first, last = (p.lower().replace("'", "").replace(" ", "") for p in (first, last))
    local = rng.choice(
        (f"{first}.{last}", f"{first[0]}{last}", f"{first}{last}{rng.randint(1, 99)}")
    )
    email = f"{local}@{rng.choice(data.EMAIL_DOMAINS)}"
    while email in used:
        email = f"{local}{rng.randint(100, 999)}@{rng.choice(data.EMAIL_DOMAINS)}"
    used.add(email)
    return email


def _person(rng: random.Random) -> tuple[str, str]:
    while True:
        first = rng.choice(data.FIRST_NAMES_F if rng.random() < 0.5 else data.FIRST_NAMES_M)
        last = rng.choice(data.LAST_NAMES)
        if (first, last) not in data.FORBIDDEN_NAMES:
            return first, last


def plan_customers(*, count: int, today: dt.date, tz: ZoneInfo) -> list[CustomerPlan]:
    """`count` customers; the first *n* are the same for any count ≥ n."""
    pool = _phone_pool()
    if count > min(MAX_CUSTOMERS, len(pool) // 2):
        raise ValueError(f"At most {MAX_CUSTOMERS} demo customers.")
    plans: list[CustomerPlan] = []
    used_emails: set[str] = set()
    used_companies: set[str] = set()
    for i in range(count):
        rng = random.Random(f"{data.SEED}:customer:{i}")
        previous = plans[-1] if plans else None
        since_day = today - dt.timedelta(days=rng.randint(45, 365 * 9))
        since = dt.datetime.combine(
            since_day, dt.time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=tz
        )
        phones = [(pool[2 * i], ContactPoint.Label.MOBILE)]
        if rng.random() < 0.22:
            phones.append((pool[2 * i + 1], rng.choice((ContactPoint.Label.HOME, "work"))))
        plan = CustomerPlan(
            index=i,
            kind=Customer.Kind.RESIDENTIAL,
            first_name="",
            last_name="",
            company_name="",
            phones=phones,
            email="",
            source=_weighted(rng, _SOURCES),
            since=since,
        )
        roll = rng.random()
        related = previous is not None and previous.kind == Customer.Kind.RESIDENTIAL
        if roll < 0.10:
            _plan_commercial(rng, plan, today, used_companies)
        elif related and roll < 0.17:
            _plan_household(rng, plan, previous, today, used_emails)
        elif related and roll < 0.19:
            _plan_duplicate(rng, plan, previous, used_emails)
        else:
            _plan_residential(rng, plan, today, used_emails)
        _plan_status(rng, plan, today, tz)
        plans.append(plan)
    return plans


def _plan_residential(rng, plan: CustomerPlan, today: dt.date, used_emails: set[str]) -> None:
    plan.first_name, plan.last_name = _person(rng)
    if rng.random() < 0.72:
        plan.email = _email(rng, plan.first_name, plan.last_name, used_emails)
    site = _site(rng)
    apartment = rng.random() < 0.08
    if apartment:
        site.unit = f"Apt {rng.randint(1, 3)}{rng.randint(0, 2)}{rng.randint(1, 9)}"
    site.equipment = _residential_equipment(rng, today, apartment=apartment)
    plan.sites.append(site)
    _access(rng, site, plan)
    if not apartment and rng.random() < 0.06:  # a landlord with a rental house
        rental = _site(rng)
        rental.label, rental.is_primary = "Rental", False
        rental.equipment = _residential_equipment(rng, today, apartment=False)
        plan.sites.append(rental)
        plan.tags.append("landlord")
        plan.notes.append((CustomerNote.Kind.GENERAL, "Landlord; tenants call for service."))
    cooling = {e.kind for e in site.equipment} & {"air_conditioner", "heat_pump"}
    if cooling and rng.random() < 0.3:
        plan.member = True
        plan.tags.append("comfort-club")
        plan.notes.append((CustomerNote.Kind.GENERAL, data.GENERAL_NOTES[0]))


def _plan_household(rng, plan, previous: CustomerPlan, today, used_emails) -> None:
    """Someone living with the previous customer: same surname and address, own phone."""
    plan.last_name = previous.last_name
    while True:
        plan.first_name = rng.choice(data.FIRST_NAMES_F + data.FIRST_NAMES_M)
        if (
            plan.first_name != previous.first_name
            and (plan.first_name, plan.last_name) not in data.FORBIDDEN_NAMES
        ):
            break
    if rng.random() < 0.6:
        plan.email = _email(rng, plan.first_name, plan.last_name, used_emails)
    home = previous.sites[0]
    plan.sites.append(
        SitePlan(
            area=home.area,
            number=home.number,
            street=home.street,
            unit=home.unit,
            latitude=home.latitude,
            longitude=home.longitude,
            gate_code=home.gate_code,
            equipment=[
                e
                for e in _residential_equipment(rng, today, apartment=bool(home.unit))
                if e.kind in ("air_conditioner", "heat_pump", "water_heater")
            ],
        )
    )


def _plan_duplicate(rng, plan, previous: CustomerPlan, used_emails) -> None:
    """The previous customer entered again under a nickname: what the dedup queue is for."""
    plan.first_name = data.NICKNAMES.get(previous.first_name, previous.first_name)
    plan.last_name = previous.last_name
    plan.email = previous.email if previous.email and rng.random() < 0.5 else ""
    home = previous.sites[0]
    plan.sites.append(
        SitePlan(
            area=home.area,
            number=home.number,
            street=home.street,
            unit=home.unit,
            latitude=home.latitude,
            longitude=home.longitude,
        )
    )
    plan.source = rng.choice((Source.AI_CALL, Source.ONLINE, Source.CRM_SYNC))


def _plan_commercial(rng, plan: CustomerPlan, today: dt.date, used: set[str]) -> None:
    plan.kind = Customer.Kind.COMMERCIAL
    fresh = [n for n in data.COMPANY_NAMES if n not in used]
    name = rng.choice(fresh) if fresh else f"{rng.choice(data.COMPANY_NAMES)} #{len(used)}"
    used.add(name)
    plan.company_name = name
    plan.phones[0] = (plan.phones[0][0], ContactPoint.Label.WORK)
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:40]
    plan.email = f"office@{slug}.example.com"
    plan.tags.append("commercial")
    contact_first, _ = _person(rng)
    plan.notes.append(
        (
            CustomerNote.Kind.PREFERENCE,
            f"Ask for {contact_first} ({rng.choice(data.CONTACT_ROLES)}); net 30 terms.",
        )
    )
    for n in range(2 if rng.random() < 0.25 else 1):
        site = _site(rng)
        site.label = "Main location" if n == 0 else "Second location"
        site.is_primary = n == 0
        site.equipment = _commercial_equipment(rng, today)
        _access(rng, site, plan)
        plan.sites.append(site)


def _plan_status(rng, plan: CustomerPlan, today: dt.date, tz: ZoneInfo) -> None:
    roll = rng.random()
    if roll < 0.05 and plan.kind == Customer.Kind.RESIDENTIAL and not plan.member:
        plan.lead_status = Customer.LeadStatus.LEAD
        plan.source = rng.choice((Source.ONLINE, Source.AI_CALL, Source.REFERRAL))
        day = today - dt.timedelta(days=rng.randint(1, 40))
        plan.since = dt.datetime.combine(day, plan.since.timetz().replace(tzinfo=None), tzinfo=tz)
    elif roll < 0.11 and not plan.member:
        plan.lead_status = Customer.LeadStatus.INACTIVE
    elif roll < 0.123:
        plan.dns_reason = rng.choice(data.DO_NOT_SERVICE_REASONS)
        plan.notes.append((CustomerNote.Kind.GENERAL, f"Do not service: {plan.dns_reason}"))
    note_roll = rng.random()
    if note_roll < 0.2:
        plan.notes.append((CustomerNote.Kind.PREFERENCE, rng.choice(data.PREFERENCE_NOTES)))
    elif note_roll < 0.245 and plan.lead_status != Customer.LeadStatus.LEAD:
        plan.notes.append((CustomerNote.Kind.COMPLAINT, rng.choice(data.COMPLAINT_NOTES)))
    elif note_roll < 0.3:
        plan.notes.append((CustomerNote.Kind.GENERAL, rng.choice(data.GENERAL_NOTES[1:])))
