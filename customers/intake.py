"""The one gate every new customer passes: find them among the ones we have, or create them.

The phone agent, the API, CSV import and CRM/accounting sync all call `customer_find_or_create`,
so the same person arriving by two paths becomes one customer:

- probability ≥ the organisation's automatic threshold (0.95 by default): the caller *is* that
  customer; a new phone, email or address is added to them;
- between the review threshold (0.80) and the automatic one: a new customer is created and the
  pair goes to the review queue for a person;
- below: a new customer.

`customer_match` is the read half: the likely existing customers for a candidate record, best
first, each with the evidence of why. It only looks at customers that share a blocking key with
the candidate (a phone, an email, a street, or the sound of the last name with the first name),
through indexed queries, so it costs the same at 100 customers as at 100,000.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from hashlib import blake2b

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Upper

from customers import enqueue
from customers.geocoding import ZipCentroidGeocoder
from customers.hygiene.addresses import NormalizedAddress, address_normalize
from customers.hygiene.emails import NormalizedEmail, email_normalize
from customers.hygiene.names import nickname_group
from customers.hygiene.phones import NormalizedPhone, phone_normalize
from customers.keys import customer_refresh_name_key, location_set_address
from customers.locations import location_geocode
from customers.matching import (
    MatchRecord,
    Place,
    building_of,
    compare,
    match_record,
    stored_record,
)
from customers.models import ContactPoint, Customer, ServiceLocation, Source
from customers.reviews import duplicate_review_open
from dispatchnode.accounts.models import Organization
from dispatchnode.core.errors import ApplicationError
from dispatchnode.core.outbox import outbox_emit

CANDIDATE_LIMIT = 200


class InvalidCustomer(ApplicationError):
    code = "invalid_customer"


@dataclass(frozen=True)
class Match:
    customer: Customer
    probability: float
    evidence: dict
    auto_merge_allowed: bool = True


# --- reading -----------------------------------------------------------------------------------
def _unit_id(components: dict | None, unit: str) -> str:
    stored = (components or {}).get("unit_id")
    if stored is not None:
        return stored
    return unit.split()[-1].lstrip("#") if unit.strip() else ""


def match_records_for(
    *, organization: Organization, customer_ids: Iterable[int] | None = None
) -> dict[int, MatchRecord]:
    """Live customers (all of the organisation's, or those ids) as match records, from three
    flat queries: no model instances, so it serves a single intake and a 100,000-customer batch
    alike. Stored values are already normalised and are trusted as such."""
    customers = Customer.objects.filter(organization=organization, merged_into__isnull=True)
    contacts = ContactPoint.objects.filter(organization=organization)
    locations = ServiceLocation.objects.filter(organization=organization)
    if customer_ids is None:
        contacts = contacts.filter(customer__merged_into__isnull=True)
        locations = locations.filter(customer__merged_into__isnull=True)
    else:
        ids = list(customer_ids)
        customers = customers.filter(pk__in=ids)
        contacts = contacts.filter(customer_id__in=ids)
        locations = locations.filter(customer_id__in=ids)

    def each(queryset):
        # A whole base streams through a server-side cursor; a handful of candidates does not
        # need the extra round trips one costs.
        return queryset.iterator(chunk_size=5000) if customer_ids is None else queryset

    phones: dict[int, list[str]] = defaultdict(list)
    emails: dict[int, list[str]] = defaultdict(list)
    rows = contacts.values_list("customer_id", "kind", "value")
    for customer_id, kind, value in each(rows):
        (phones if kind == ContactPoint.Kind.PHONE else emails)[customer_id].append(value)
    places: dict[int, list[Place]] = defaultdict(list)
    rows = locations.values_list(
        "customer_id", "street_key", "unit", "components", "postal_code", "city"
    )
    for customer_id, street_key, unit, components, postal_code, city in each(rows):
        place = Place.from_parts(
            street_key=street_key,
            unit_id=_unit_id(components, unit),
            postal_code=postal_code,
            city=city,
            building=building_of(components),
        )
        if place is not None:
            places[customer_id].append(place)
    records = {}
    rows = customers.order_by("pk").values_list("pk", "first_name", "last_name", "company_name")
    for pk, first, last, company in each(rows):
        records[pk] = stored_record(
            key=pk,
            first_name=first,
            last_name=last,
            company_name=company,
            phones=phones.get(pk, ()),
            emails=emails.get(pk, ()),
            places=places.get(pk, ()),
        )
    return records


def _candidate_ids(*, organization: Organization, candidate: MatchRecord) -> list[int]:
    """Customers sharing a blocking key with the candidate, in one round trip: a UNION of one
    indexed query per key kind (an OR across joins would make PostgreSQL scan).

    The keys: a phone, an email, the street (house number and name), or the sound of the last
    name with the first name or one of its nicknames. The batch job also compares the sound of
    the last name within a ZIP code; here that block (every Smith in 78745) would cost more than
    the whole rest of the lookup for pairs the other keys almost always catch (measured with
    bench/customer_match_latency.py: the same callers recognised, p95 15 ms → 6 ms).
    """
    contacts = ContactPoint.objects.filter(organization=organization)
    locations = ServiceLocation.objects.filter(organization=organization)
    parts = []
    if candidate.phones:
        parts.append(contacts.filter(kind=ContactPoint.Kind.PHONE, value__in=candidate.phones))
    emails = candidate.emails | candidate.email_values
    if emails:
        parts.append(contacts.filter(kind=ContactPoint.Kind.EMAIL, value__in=emails))
    streets = {p.street_key for p in candidate.places if p.street_key}
    if streets:
        parts.append(locations.filter(street_key__in=streets))
    queries = [part.order_by().values_list("customer_id", flat=True) for part in parts]
    if candidate.name_key and candidate.first:
        firsts = {candidate.first, *nickname_group(candidate.first)}
        same_name = Customer.objects.filter(organization=organization, name_key=candidate.name_key)
        queries.append(
            same_name.annotate(first_upper=Upper("first_name"))
            .filter(first_upper__in=firsts)
            .order_by()
            .values_list("pk", flat=True)
        )
    if not queries:
        return []
    union = queries[0].union(*queries[1:]) if len(queries) > 1 else queries[0]
    return sorted(set(union))[:CANDIDATE_LIMIT]


def customer_match(
    *,
    organization: Organization,
    candidate: MatchRecord,
    min_probability: float = 0.5,
    limit: int = 10,
) -> list[Match]:
    """Existing customers of this organisation that may be `candidate`, most likely first.

    Never looks across organisations and never returns a customer merged into another.
    """
    ids = _candidate_ids(organization=organization, candidate=candidate)
    if not ids:
        return []
    scored = []
    for pk, record in match_records_for(organization=organization, customer_ids=ids).items():
        comparison = compare(candidate, record)
        if comparison.probability >= min_probability:
            scored.append((pk, comparison))
    scored.sort(key=lambda item: (-item[1].probability, item[0]))
    scored = scored[:limit]
    customers = Customer.objects.in_bulk([pk for pk, _ in scored])
    return [
        Match(customers[pk], c.probability, c.evidence, c.auto_merge_allowed) for pk, c in scored
    ]


# --- writing -----------------------------------------------------------------------------------
@dataclass
class IntakeResult:
    """What intake decided: `attached` to an existing customer, `created`, or `created` with
    the pair queued for review (`review` is set)."""

    customer: Customer
    decision: str  # "attached" | "created" | "review"
    match: Match | None = None
    review: object | None = None
    location: ServiceLocation | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.decision != "attached"


def _clean_input(
    *, first_name: str, last_name: str, company_name: str, phone: str, email: str, region: str
) -> tuple[NormalizedPhone | None, NormalizedEmail | None]:
    if not (first_name.strip() or last_name.strip() or company_name.strip()):
        raise InvalidCustomer("A customer needs a first name, a last name or a company name.")
    normalized_phone = phone_normalize(phone, region=region) if phone.strip() else None
    normalized_email = email_normalize(email) if email.strip() else None
    return normalized_phone, normalized_email


def _add_contacts(
    customer: Customer,
    *,
    phone: NormalizedPhone | None,
    email: NormalizedEmail | None,
    raw_phone: str,
    raw_email: str,
) -> list[ContactPoint]:
    added = []
    existing = {(c.kind, c.value) for c in customer.contacts.all()}
    has_primary = {c.kind for c in customer.contacts.all() if c.is_primary}
    wanted = []
    if phone is not None:
        wanted.append((ContactPoint.Kind.PHONE, phone.e164, raw_phone, phone.extension, True))
    if email is not None:
        wanted.append((ContactPoint.Kind.EMAIL, email.value, raw_email, "", email.is_valid))
    for kind, value, raw, extension, valid in wanted:
        if (kind, value) in existing:
            continue
        added.append(
            ContactPoint.objects.create(
                organization=customer.organization,
                customer=customer,
                kind=kind,
                value=value,
                raw_value=raw.strip()[:254],
                extension=extension,
                is_primary=kind not in has_primary,
                is_valid=valid,
            )
        )
    return added


def _add_location(
    customer: Customer, address: NormalizedAddress | None
) -> tuple[ServiceLocation | None, bool]:
    """The customer's location at `address`, added when new; and whether it was added."""
    if address is None or not address.raw.strip():
        return None, False
    for location in customer.locations.all():
        same_key = address.match_key and location.match_key == address.match_key
        if same_key or location.raw_address.strip().upper() == address.raw.strip().upper():
            return location, False
    location = ServiceLocation(
        organization=customer.organization,
        customer=customer,
        is_primary=not customer.locations.exists(),
    )
    location_set_address(location, address)
    location.save()
    _geocode_soon(location)
    return location, True


def _geocode_soon(location: ServiceLocation) -> None:
    """Position a new location: at once from the offline ZIP table (routing and the agent can
    use it straight away), and through the configured street-level provider after commit, in
    the background, when there is one."""
    if location.postal_code or location.city:
        location_geocode(location=location, geocoder=ZipCentroidGeocoder())
    if settings.GEOCODER != "zip":
        transaction.on_commit(lambda: enqueue.task_send(enqueue.LOCATION_GEOCODE, location.pk))


def intake_lock_keys(*, organization: Organization, candidate: MatchRecord) -> list[int]:
    """The advisory-lock keys of an intake: one per blocking key of the candidate (see
    `_candidate_ids`), as signed 64-bit hashes of the organisation id and the key, sorted so
    every intake takes its locks in the same order.

    Two candidates that could match each other share a blocking key, so they share a lock: a
    phone, an email, a street, or the sound of the last name (the name block also compares the
    first name; locking on the last name alone covers it and more)."""
    keys = {f"phone:{phone}" for phone in candidate.phones}
    keys |= {f"email:{email}" for email in candidate.emails | candidate.email_values}
    keys |= {f"street:{p.street_key}" for p in candidate.places if p.street_key}
    if candidate.name_key:
        keys.add(f"name:{candidate.name_key}")
    hashed = {
        int.from_bytes(
            blake2b(f"intake:{organization.pk}:{key}".encode(), digest_size=8).digest(),
            "big",
            signed=True,
        )
        for key in keys
    }
    return sorted(hashed)


def _intake_serialise(*, organization: Organization, candidate: MatchRecord) -> None:
    """Make concurrent intakes that could be the same person wait for each other, until this
    transaction ends, without blocking anything else.

    PostgreSQL: transaction-level advisory locks on the blocking keys. Locking the
    organisation row instead (`FOR UPDATE`) made every insert that references the organisation
    wait, the company's whole phone traffic included. SQLite runs one writer at a time (every
    transaction begins IMMEDIATE), so there is nothing to add. Other backends lock the
    organisation row as weakly as they can."""
    if connection.vendor == "postgresql":
        keys = intake_lock_keys(organization=organization, candidate=candidate)
        if keys:
            # One round trip; the select list is evaluated left to right, in the sorted order.
            locks = ", ".join(["pg_advisory_xact_lock(%s)"] * len(keys))
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {locks}", keys)
    elif connection.features.has_select_for_update:
        no_key = connection.features.has_select_for_no_key_update
        Organization.objects.select_for_update(no_key=no_key).filter(pk=organization.pk).first()


def customer_find_or_create(
    *,
    organization: Organization,
    first_name: str = "",
    last_name: str = "",
    company_name: str = "",
    phone: str = "",
    email: str = "",
    address: str | NormalizedAddress = "",
    source: str = Source.STAFF,
    review_source: str = "intake",
) -> IntakeResult:
    """Attach to the customer this most likely is, or create one (see the module docstring).

    Raises `InvalidCustomer` without a name and `InvalidPhoneNumber` for an unusable phone.
    An address that cannot be parsed is kept as given and marked for review; an email that looks
    wrong is kept and flagged. Nothing the caller gave is dropped.
    """
    normalized_phone, normalized_email = _clean_input(
        first_name=first_name,
        last_name=last_name,
        company_name=company_name,
        phone=phone,
        email=email,
        region=organization.country or "US",
    )
    normalized_address = (
        address
        if isinstance(address, NormalizedAddress)
        else (address_normalize(address) if address and address.strip() else None)
    )
    candidate = match_record(
        first_name=first_name,
        last_name=last_name,
        company_name=company_name,
        phones=[normalized_phone.e164] if normalized_phone else [],
        emails=[normalized_email.value] if normalized_email and normalized_email.is_valid else [],
        addresses=[normalized_address] if normalized_address else [],
    )
    problems = list(normalized_address.problems) if normalized_address else []
    if normalized_email and not normalized_email.is_valid:
        problems.append(f"Email {normalized_email.value!r}: {normalized_email.problem}")

    with transaction.atomic():
        # Two simultaneous calls from the same new caller must not create the customer twice.
        _intake_serialise(organization=organization, candidate=candidate)
        auto = float(organization.match_auto_threshold)
        review = float(organization.match_review_threshold)
        matches = customer_match(
            organization=organization, candidate=candidate, limit=1, min_probability=review
        )
        best = matches[0] if matches else None
        if best is not None and best.probability >= auto and best.auto_merge_allowed:
            customer = best.customer
            added = _add_contacts(
                customer,
                phone=normalized_phone,
                email=normalized_email,
                raw_phone=phone,
                raw_email=email,
            )
            location, location_added = _add_location(customer, normalized_address)
            if added or location_added:
                outbox_emit(
                    organization=organization,
                    topic="customer.updated",
                    payload={"customer_id": customer.pk, "via": "intake"},
                    aggregate=customer,
                )
            return IntakeResult(customer, "attached", best, None, location, problems)

        customer = Customer(
            organization=organization,
            first_name=first_name.strip()[:100],
            last_name=last_name.strip()[:100],
            company_name=company_name.strip()[:200],
            kind=Customer.Kind.COMMERCIAL
            if company_name.strip() and not (first_name.strip() or last_name.strip())
            else Customer.Kind.RESIDENTIAL,
            source=source,
        )
        customer_refresh_name_key(customer)
        customer.save()
        _add_contacts(
            customer,
            phone=normalized_phone,
            email=normalized_email,
            raw_phone=phone,
            raw_email=email,
        )
        location, _ = _add_location(customer, normalized_address)
        outbox_emit(
            organization=organization,
            topic="customer.created",
            payload={"customer_id": customer.pk, "source": source},
            aggregate=customer,
        )
        queued = None
        if best is not None and best.probability >= review:
            queued = duplicate_review_open(
                organization=organization,
                customer_a=best.customer,
                customer_b=customer,
                probability=Decimal(str(round(best.probability, 3))),
                evidence=best.evidence,
                source=review_source,
            )
        decision = "review" if queued is not None else "created"
        return IntakeResult(customer, decision, best, queued, location, problems)
