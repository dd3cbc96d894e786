"""Who is calling, and what the phone agent may say to them.

`caller_context` turns the caller's number into a `CallerContext`: a frozen snapshot of what the
agent needs for the whole call (names, locations and equipment, last visits, upcoming
appointments, balance, flags and notes), built with a fixed number of queries.

Caller ID can be spoofed, so what is *read back* is gated (DESIGN.md §3, "Privacy of the
caller"): `disclosure_allowed` says whether the agent may greet in full, `verification_matches`
checks the ZIP or street a caller gives, and `greeting_text` says only what is allowed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache

from django.utils import timezone
from rapidfuzz import fuzz

from bookings import selectors_callers as selectors
from bookings.voice.spoken_numbers import digits_from_speech
from customers.hygiene.addresses import address_normalize, address_spoken
from customers.models import CustomerNote, Equipment, ServiceLocation
from dispatchnode.accounts.models import Organization
from dispatchnode.core.phones import InvalidPhoneNumber, phone_to_e164

ATTESTED_VERSTAT = "TN-Validation-Passed-A"
WORK_DONE_MAX_CHARS = 160
STREET_MATCH_THRESHOLD = 85  # rapidfuzz ratio (0-100) between a spoken and a stored street name

# How an equipment kind sounds on the phone; the model's labels are written for forms.
SPOKEN_KINDS = {
    Equipment.Kind.AIR_CONDITIONER: "air conditioner",
    Equipment.Kind.MINI_SPLIT: "mini-split",
    Equipment.Kind.EV_CHARGER: "EV charger",
}

# What the greeting calls a past visit without equipment ("we last serviced your plumbing").
CATEGORY_SPOKEN = {
    "hvac": "heating and air system",
    "plumbing": "plumbing",
    "electrical": "electrical system",
    "roofing": "roof",
}


@dataclass(frozen=True)
class LocationSummary:
    id: int
    one_line: str  # "123 MAIN ST, AUSTIN, TX 78701" as stored
    spoken: str  # "123 Main Street, Austin"
    spoken_street: str  # "123 Main Street" (unit kept): what the greeting reads back
    street_name: str  # "Main": what verification compares a spoken street with
    city: str
    postal_code: str
    gate_code: str
    pets: str
    parking: str
    access_notes: str


@dataclass(frozen=True)
class EquipmentSummary:
    id: int
    location_id: int
    kind: str  # the code, e.g. "air_conditioner"
    kind_label: str  # "Central air conditioner"
    spoken_kind: str  # "air conditioner"
    make: str
    installed_on: dt.date | None


@dataclass(frozen=True)
class VisitSummary:
    job_id: int
    location_id: int
    date: dt.date | None  # in the organisation's timezone
    service_type: str
    category: str
    work_done: str  # the work notes, shortened
    equipment_kind: str  # spoken, "" when the job named no equipment


@dataclass(frozen=True)
class AppointmentSummary:
    appointment_id: int
    job_id: int
    start: dt.datetime
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    technician_first_name: str


@dataclass(frozen=True)
class CallerContext:
    customer_id: int | None
    first_name: str
    last_name: str
    display_name: str
    other_matches: int  # other customers on this number (a shared household line)
    locations: tuple[LocationSummary, ...]
    equipment: tuple[EquipmentSummary, ...]
    last_visits: tuple[VisitSummary, ...]
    upcoming: tuple[AppointmentSummary, ...]
    open_balance: Decimal
    overdue_invoices: int
    has_payment_method: bool
    complaint: bool  # be careful, offer a person
    do_not_service: bool  # the agent transfers
    do_not_service_reason: str
    notes_for_agent: tuple[str, ...]  # to inform the agent; never read out verbatim


# --- Building the context --------------------------------------------------------------------


def caller_context(*, organization: Organization, phone: str) -> CallerContext | None:
    """The context of the organisation's customer calling from `phone` (any written form), or
    None for an unknown caller.

    A number that cannot be used (a withheld "anonymous" caller, garbage) is an unknown caller
    rather than an error: the phone webhook must always be able to answer. Callers that must
    refuse such input (the REST lookup) check the number first with `phone_to_e164`.
    """
    try:
        e164 = phone_to_e164(phone, region=organization.country or "US")
    except InvalidPhoneNumber:
        return None
    candidates = selectors.callers_with_phone(organization=organization, e164=e164)
    if not candidates:
        return None
    customer = candidates[0]
    tz = organization.tzinfo
    now = timezone.now()

    locations = selectors.caller_locations(organization=organization, customer=customer)
    visits = selectors.caller_last_visits(organization=organization, customer=customer)
    upcoming = selectors.caller_upcoming(organization=organization, customer=customer, now=now)
    balance = selectors.caller_balance(
        organization=organization, customer=customer, today=now.astimezone(tz).date()
    )
    notes = selectors.caller_notes(organization=organization, customer=customer)
    has_payment_method = selectors.caller_has_payment_method(
        organization=organization, customer=customer
    )

    return CallerContext(
        customer_id=customer.pk,
        first_name=customer.first_name,
        last_name=customer.last_name,
        display_name=customer.display_name,
        other_matches=len(candidates) - 1,
        locations=tuple(_location_summary(loc) for loc in locations),
        equipment=tuple(_equipment_summary(e) for loc in locations for e in loc.equipment.all()),
        last_visits=tuple(
            VisitSummary(
                job_id=job.pk,
                location_id=job.location_id,
                date=job.completed_at.astimezone(tz).date() if job.completed_at else None,
                service_type=job.service_type.name if job.service_type else "",
                category=job.service_type.category if job.service_type else "",
                work_done=_shorten(job.work_notes or job.description),
                equipment_kind=_spoken_kind(job.equipment.kind) if job.equipment else "",
            )
            for job in visits
        ),
        upcoming=tuple(
            AppointmentSummary(
                appointment_id=appt.pk,
                job_id=appt.job_id,
                start=appt.start,
                window_start=appt.arrival_window_start,
                window_end=appt.arrival_window_end,
                technician_first_name=appt.technician.first_name,
            )
            for appt in upcoming
        ),
        open_balance=balance.open_balance,
        overdue_invoices=balance.overdue_invoices,
        has_payment_method=has_payment_method,
        complaint=any(n.kind == CustomerNote.Kind.COMPLAINT for n in notes),
        do_not_service=customer.do_not_service,
        do_not_service_reason=customer.do_not_service_reason,
        notes_for_agent=tuple(n.body for n in notes),
    )


def _location_summary(location: ServiceLocation) -> LocationSummary:
    spoken, spoken_street, street_name, postal_code = _spoken_address(
        location.raw_address,
        location.street,
        location.unit,
        location.city,
        location.state,
        location.postal_code,
    )
    return LocationSummary(
        id=location.pk,
        one_line=location.one_line,
        spoken=spoken,
        spoken_street=spoken_street,
        street_name=street_name,
        city=location.city,
        postal_code=location.postal_code or postal_code,
        gate_code=location.gate_code,
        pets=location.pets,
        parking=location.parking,
        access_notes=location.access_notes,
    )


@lru_cache(maxsize=4096)
def _spoken_address(
    raw: str, street: str, unit: str, city: str, state: str, postal_code: str
) -> tuple[str, str, str, str]:
    """(spoken, spoken street, street name, ZIP) of an address: the stored parts when it was
    normalised, else the raw text. Parsing costs about a millisecond, and the same few
    addresses call again and again, so the answer is kept per address."""
    if street:
        parsed = address_normalize(
            street=street, unit=unit, city=city, state=state, postal_code=postal_code
        )
    else:
        parsed = address_normalize(raw)
    spoken = address_spoken(parsed)
    spoken_street = address_spoken(replace(parsed, city="")) if parsed.street else spoken
    street_name = parsed.components.get("StreetName", "").title()
    return spoken, spoken_street, street_name, parsed.postal_code


def _equipment_summary(equipment: Equipment) -> EquipmentSummary:
    return EquipmentSummary(
        id=equipment.pk,
        location_id=equipment.location_id,
        kind=equipment.kind,
        kind_label=equipment.get_kind_display(),
        spoken_kind=_spoken_kind(equipment.kind),
        make=equipment.make,
        installed_on=equipment.installed_on,
    )


def _spoken_kind(kind: str) -> str:
    if kind in SPOKEN_KINDS:
        return SPOKEN_KINDS[kind]
    try:
        return Equipment.Kind(kind).label.lower()
    except ValueError:
        return kind.replace("_", " ")


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= WORK_DONE_MAX_CHARS:
        return text
    return text[: WORK_DONE_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"


# --- Privacy -----------------------------------------------------------------------------------


def disclosure_allowed(*, organization: Organization, stir_verstat: str, verified: bool) -> bool:
    """May the agent read back the caller's address, history, balance or notes?

    A caller who passed verification always may. Otherwise it is the organisation's policy:
    `trust_caller_id` trusts the number; `attested` trusts it only with STIR/SHAKEN A-level
    attestation (the carrier vouches the caller owns the number); `always_verify` never does.
    """
    if verified:
        return True
    policy = organization.caller_privacy
    if policy == Organization.CallerPrivacy.TRUST_CALLER_ID:
        return True
    if policy == Organization.CallerPrivacy.ATTESTED:
        return (stir_verstat or "").strip() == ATTESTED_VERSTAT
    return False


_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "to": "2",
    "too": "2",
    "three": "3",
    "four": "4",
    "for": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_TOKENS = re.compile(r"[a-z]+|\d+")


def verification_matches(*, context: CallerContext, answer: str) -> bool:
    """Does the caller's answer name the ZIP code or the street of one of their locations?

    Speech recognisers write ZIPs as "78701", "7 8 7 0 1" or "seven eight seven oh one"; all
    are read as digits. A street is compared word by word with rapidfuzz, so "Main Street",
    "one twenty three main" and a misheard "Maine" pass while "Oak Street" does not.
    """
    tokens = _TOKENS.findall((answer or "").lower())
    if not tokens:
        return False
    digits = "".join(
        t if t.isdigit() else _DIGIT_WORDS.get(t, "") for t in tokens if _is_digitish(t)
    )
    # and "seventy eight seven oh one", the way numbers are said (bookings.voice.spoken_numbers)
    said = digits_from_speech(answer)
    words = [t for t in tokens if not t.isdigit()]
    for location in context.locations:
        zip5 = location.postal_code[:5]
        if len(zip5) == 5 and zip5.isdigit() and (zip5 in digits or zip5 in said):
            return True
        if _street_named(location.street_name, words):
            return True
    return False


def _is_digitish(token: str) -> bool:
    return token.isdigit() or token in _DIGIT_WORDS


def _street_named(street_name: str, words: list[str]) -> bool:
    """Any run of the answer's words as long as the street name is close enough to it. The
    one-letter words ("o", "a") are too weak to count on their own."""
    target = street_name.lower().split()
    if not target or len("".join(target)) < 2:
        return False
    wanted = " ".join(target)
    # One word more or less than the stored name: "Martin Luther King" for "MARTIN LUTHER KING JR".
    sizes = {max(1, len(target) - 1), len(target), len(target) + 1}
    for size in sizes:
        for i in range(len(words) - size + 1):
            window = " ".join(words[i : i + size])
            if len(window) >= 2 and fuzz.ratio(wanted, window) >= STREET_MATCH_THRESHOLD:
                return True
    return False


# --- What the agent says first -----------------------------------------------------------------


def greeting_text(*, organization: Organization, context: CallerContext | None, full: bool) -> str:
    """The first thing the caller hears.

    Unknown caller: the company greeting. Known caller, `full` (see `disclosure_allowed`): first
    name, the location on file and the last service, then asks whether it is the same
    location. Otherwise: first name only and a request for the ZIP code, so nothing personal is
    said before the caller is verified. Never the balance or notes.
    """
    company = organization.name
    if context is None:
        return (
            f"Thanks for calling {company}. This is the virtual assistant. "
            "How can I help you today?"
        )
    hello = f"Hi {context.first_name}" if context.first_name else "Hi there"
    if not full:
        return (
            f"{hello}, thanks for calling {company}. This is the virtual assistant. "
            "Before I pull up your account, can you tell me the ZIP code of the service address?"
        )
    opening = f"{hello}, welcome back to {company}."
    readback = account_readback(organization=organization, context=context)
    return f"{opening} {readback or 'How can I help you today?'}"


def account_readback(*, organization: Organization, context: CallerContext) -> str:
    """The location on file and the last service, then the question whether this call is about
    that location ("" when there is no location on file). Only for a caller whose disclosure is
    allowed: the greeting of an attested caller, or the turn right after verification."""
    location = greeting_location(context)
    if location is None:
        return ""
    said = f"I see you are at {location.spoken_street or location.spoken}"
    visit = context.last_visits[0] if context.last_visits else None
    if visit is not None and visit.date is not None:
        what = (
            visit.equipment_kind
            or _equipment_at(context, visit.location_id)
            or CATEGORY_SPOKEN.get(visit.category, "home")
        )
        said += f" and we last serviced your {what} in {_month(visit.date, organization)}"
    return f"{said}. Is this for the same location?"


def greeting_location(context: CallerContext) -> LocationSummary | None:
    """The location of the last visit (what the greeting talks about), else the primary one."""
    if not context.locations:
        return None
    if context.last_visits:
        by_id = {loc.id: loc for loc in context.locations}
        if context.last_visits[0].location_id in by_id:
            return by_id[context.last_visits[0].location_id]
    return context.locations[0]


def _equipment_at(context: CallerContext, location_id: int) -> str:
    return next((e.spoken_kind for e in context.equipment if e.location_id == location_id), "")


def _month(day: dt.date, organization: Organization) -> str:
    """The month alone within the last year; with its year when older ("March 2020"), so it is
    not heard as the most recent one."""
    today = timezone.now().astimezone(organization.tzinfo).date()
    if (today - day).days < 365:
        return day.strftime("%B")
    return f"{day.strftime('%B')} {day.year}"
