"""The demo company: who works there, what it sells, where its customers live.

The organisation's pinned values are here; its tables (skills, technicians, service catalogue,
price book, equipment, ZIP areas, and the names and notes generated customers are made of) are
data, in `company.json` next to this module, read once at import into the typed specs below.
Everything is fictional. Phone numbers are 555 numbers; email addresses use the reserved
example.com / example.net / example.org domains so that nothing can reach a real person.
"""

from __future__ import annotations

import datetime as dt
import json
import typing
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path

SEED = "demo-heating-and-air"

# --- The organisation (DESIGN.md §4 pins slug, name, timezone and the Twilio number) ------------

ORG_SLUG = "demo"
ORG_NAME = "Demo Heating & Air"
ORG_TIMEZONE = "America/Chicago"
ORG_TAX_RATE = Decimal("0.0825")
ORG_TWILIO_NUMBER = "+15125550100"
ORG_OFFICE_PHONE = "+15125550101"
ORG_EMAIL = "office@demoheating.example.com"
ORG_WEBSITE = "https://demoheating.example.com"
ORG_ADDRESS = "4310 Freidrich Ln, Austin, TX 78744"
ORG_BUSINESS_HOURS = {
    "mon": [["07:30", "17:30"]],
    "tue": [["07:30", "17:30"]],
    "wed": [["07:30", "17:30"]],
    "thu": [["07:30", "17:30"]],
    "fri": [["07:30", "17:30"]],
    "sat": [["08:00", "12:00"]],
    "sun": [],
}
API_TOKEN_NAME = "Demo API token"  # noqa: S105 - the token's label, not a secret
API_TOKEN_SCOPES = ["*:write"]
OFFICE_GROUP = "Office staff"
OFFICE_APPS = ("accounts", "core", "customers", "bookings", "invoicing")

# Caller numbers the phone scenarios and tests use: never handed to a generated customer.
RESERVED_PHONES = frozenset(
    {
        "+15125550100",
        "+15125550101",
        "+15125550142",
        "+15125550177",
        "+15125550911",
        "+15125550888",
        "+15125550999",
        # New callers of our own phone scenarios (tests/voice/scenarios/1x_*.yaml).
        "+15125550912",
        "+15125550913",
        "+15125550914",
        "+15125550915",
        "+15125550916",
    }
)


@dataclass(frozen=True)
class OfficeUserSpec:
    username: str
    first_name: str
    last_name: str
    role: str
    is_superuser: bool


OFFICE_USERS = (
    OfficeUserSpec("owner", "Dana", "Whitfield", "owner", True),
    OfficeUserSpec("dispatcher", "Rosa", "Delgado", "dispatcher", False),
)


@dataclass(frozen=True)
class TechnicianSpec:
    username: str
    first_name: str
    last_name: str
    phone: str
    color: str
    home_base: str
    latitude: Decimal
    longitude: Decimal
    skills: tuple[str, ...]
    weekdays: tuple[int, ...]  # 0 = Monday
    start: dt.time
    end: dt.time

    @property
    def email(self) -> str:
        return f"{self.username}@demoheating.example.com"


@dataclass(frozen=True)
class ServiceTypeSpec:
    code: str
    name: str
    category: str
    kind: str
    minutes: int
    skill: str
    description: str
    synonyms: tuple[str, ...]
    problems: tuple[str, ...]  # how customers describe it: job descriptions
    equipment: tuple[str, ...] = ()  # equipment kinds the job is about (first match is linked)
    parts: tuple[str, ...] = ()  # price-book codes a technician may add
    labour: str = ""  # price-book code of hourly labour
    months: tuple[int, ...] = ()  # busy season; empty = all year
    commercial_only: bool = False


@dataclass(frozen=True)
class PriceItemSpec:
    code: str
    name: str
    kind: str
    category: str
    unit: str
    price: Decimal
    cost: Decimal | None
    taxable: bool
    service_type: str = ""  # the default line of that service type
    work_note: str = ""  # what the technician writes when this line is used


@dataclass(frozen=True)
class ZipArea:
    code: str
    city: str
    latitude: float
    longitude: float
    streets: tuple[str, ...]
    weight: int = 3  # how many customers live there, relatively


# --- The tables, from company.json --------------------------------------------------------------

COMPANY_FILE = Path(__file__).with_name("company.json")


def _frozen(value):
    """JSON lists as tuples, all the way down, so the tables stay immutable."""
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


def _typed(hint, value):
    if value is None:
        return None
    if hint is Decimal or hint == Decimal | None:
        return Decimal(value)
    if hint is dt.time:
        return dt.time.fromisoformat(value)
    return _frozen(value)


def _specs(cls, rows: list[dict]) -> tuple:
    hints = typing.get_type_hints(cls)
    names = {field.name for field in fields(cls)}
    return tuple(
        cls(**{key: _typed(hints[key], value) for key, value in row.items() if key in names})
        for row in rows
    )


_company = json.loads(COMPANY_FILE.read_text(encoding="utf-8"))

SKILLS: tuple[tuple[str, str], ...] = _frozen(_company["skills"])
TECHNICIANS: tuple[TechnicianSpec, ...] = _specs(TechnicianSpec, _company["technicians"])
SERVICE_TYPES: tuple[ServiceTypeSpec, ...] = _specs(ServiceTypeSpec, _company["service_types"])
PRICE_BOOK: tuple[PriceItemSpec, ...] = _specs(PriceItemSpec, _company["price_book"])
# kind: ((make, model number, category), ...)
EQUIPMENT_MODELS: dict[str, tuple[tuple[str, str, str], ...]] = _frozen(
    _company["equipment_models"]
)
EQUIPMENT_NOTES: dict[str, tuple[str, ...]] = _frozen(_company["equipment_notes"])
ZIP_AREAS: tuple[ZipArea, ...] = _specs(ZipArea, _company["zip_areas"])
FIRST_NAMES_F: tuple[str, ...] = _frozen(_company["first_names_f"])
FIRST_NAMES_M: tuple[str, ...] = _frozen(_company["first_names_m"])
LAST_NAMES: tuple[str, ...] = _frozen(_company["last_names"])
# Formal name → what the same person is also called (for a few undetected duplicates).
NICKNAMES: dict[str, str] = _company["nicknames"]
# Combinations the phone scenarios expect to be new callers or unique customers.
FORBIDDEN_NAMES: frozenset[tuple[str, str]] = frozenset(_frozen(_company["forbidden_names"]))
COMPANY_NAMES: tuple[str, ...] = _frozen(_company["company_names"])
CONTACT_ROLES: tuple[str, ...] = _frozen(_company["contact_roles"])
ACCESS_GATE: tuple[str, ...] = _frozen(_company["access_gate"])
ACCESS_PETS: tuple[str, ...] = _frozen(_company["access_pets"])
ACCESS_PARKING: tuple[str, ...] = _frozen(_company["access_parking"])
ACCESS_OTHER: tuple[str, ...] = _frozen(_company["access_other"])
PREFERENCE_NOTES: tuple[str, ...] = _frozen(_company["preference_notes"])
COMPLAINT_NOTES: tuple[str, ...] = _frozen(_company["complaint_notes"])
GENERAL_NOTES: tuple[str, ...] = _frozen(_company["general_notes"])
DO_NOT_SERVICE_REASONS: tuple[str, ...] = _frozen(_company["do_not_service_reasons"])
CUSTOMER_PREFERENCES: tuple[str, ...] = _frozen(_company["customer_preferences"])
EMAIL_DOMAINS: tuple[str, ...] = _frozen(_company["email_domains"])
del _company
