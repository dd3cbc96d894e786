"""Planned customers written in bulk (matched on re-runs by their primary phone), and customers
as the visit generators see them: ids, phone, locations and equipment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from customers.models import ContactPoint, Customer, CustomerNote, Equipment, ServiceLocation
from dispatchnode.accounts.models import Organization
from dispatchnode.demo.context import SeedContext
from dispatchnode.demo.drafts import BATCH
from dispatchnode.demo.population import CustomerPlan

# --- Accounts: customers as the visit generators see them -----------------------------------


@dataclass
class SiteRef:
    location_id: int
    is_primary: bool
    equipment: list[tuple[int, str, dt.date | None]]  # (id, kind, installed_on)
    street_line: str = ""  # "1234 Shoal Creek Blvd", as the agent would say it

    def equipment_id(self, kinds: tuple[str, ...]) -> int | None:
        for kind in kinds:
            for equipment_id, equipment_kind, _ in self.equipment:
                if equipment_kind == kind:
                    return equipment_id
        return None


@dataclass
class Account:
    customer_id: int
    first_name: str
    display_name: str
    kind: str
    phone: str
    email: str
    sites: list[SiteRef]
    since: dt.datetime
    lead_status: str = Customer.LeadStatus.ACTIVE
    member: bool = False
    do_not_service: bool = False
    plan: CustomerPlan | None = None

    @property
    def commercial(self) -> bool:
        return self.kind == Customer.Kind.COMMERCIAL


def population_persist(*, ctx: SeedContext, plans: list[CustomerPlan]) -> list[Account]:
    """Create the planned customers whose primary phone is not in the organisation yet."""
    organization = ctx.organization
    known = set(
        ContactPoint.objects.filter(
            organization=organization, kind=ContactPoint.Kind.PHONE
        ).values_list("value", flat=True)
    )
    plans = [p for p in plans if p.primary_phone not in known]
    customers, contacts, locations, equipment, notes = [], [], [], [], []
    site_rows: list[list[tuple[ServiceLocation, list[Equipment]]]] = []
    for plan in plans:
        customer = Customer(
            organization=organization,
            first_name=plan.first_name,
            last_name=plan.last_name,
            company_name=plan.company_name,
            kind=plan.kind,
            lead_status=plan.lead_status,
            source=plan.source,
            do_not_service=bool(plan.dns_reason),
            do_not_service_reason=plan.dns_reason,
            tags=plan.tags,
            created_at=plan.since,
        )
        customers.append(customer)
        for n, (phone, label) in enumerate(plan.phones):
            contacts.append(
                ContactPoint(
                    organization=organization,
                    customer=customer,
                    kind=ContactPoint.Kind.PHONE,
                    value=phone,
                    raw_value=_national(phone),
                    label=label,
                    is_primary=n == 0,
                    created_at=plan.since,
                )
            )
        if plan.email:
            contacts.append(
                ContactPoint(
                    organization=organization,
                    customer=customer,
                    kind=ContactPoint.Kind.EMAIL,
                    value=plan.email,
                    raw_value=plan.email,
                    label=ContactPoint.Label.OTHER,
                    is_primary=True,
                    created_at=plan.since,
                )
            )
        rows = []
        for site in plan.sites:
            location = site.to_location(customer)
            kit = [
                Equipment(
                    organization=organization,
                    location=location,
                    kind=e.kind,
                    category=e.category,
                    make=e.make,
                    model_number=e.model_number,
                    serial_number=e.serial_number,
                    installed_on=e.installed_on,
                    warranty_expires_on=e.warranty_expires_on,
                    notes=e.notes,
                    created_at=plan.since,
                )
                for e in site.equipment
            ]
            locations.append(location)
            equipment.extend(kit)
            rows.append((location, kit))
        site_rows.append(rows)
        for offset, (kind, body) in enumerate(plan.notes):
            notes.append(
                CustomerNote(
                    organization=organization,
                    customer=customer,
                    kind=kind,
                    body=body,
                    visible_to_agent=True,
                    created_at=plan.since + dt.timedelta(minutes=5 + offset),
                )
            )
    Customer.objects.bulk_create(customers, batch_size=BATCH)
    ContactPoint.objects.bulk_create(contacts, batch_size=BATCH)
    ServiceLocation.objects.bulk_create(locations, batch_size=BATCH)
    Equipment.objects.bulk_create(equipment, batch_size=BATCH)
    CustomerNote.objects.bulk_create(notes, batch_size=BATCH)
    accounts = []
    for plan, customer, rows in zip(plans, customers, site_rows, strict=True):
        accounts.append(
            Account(
                customer_id=customer.pk,
                first_name=customer.first_name,
                display_name=customer.display_name,
                kind=customer.kind,
                phone=plan.primary_phone,
                email=plan.email,
                since=plan.since,
                lead_status=plan.lead_status,
                member=plan.member,
                do_not_service=bool(plan.dns_reason),
                plan=plan,
                sites=[
                    SiteRef(
                        location_id=location.pk,
                        is_primary=location.is_primary,
                        equipment=[(e.pk, e.kind, e.installed_on) for e in kit],
                        street_line=location.raw_address.split(",")[0],
                    )
                    for location, kit in rows
                ],
            )
        )
    return accounts


def accounts_load(*, ctx: SeedContext, exclude_ids: set[int]) -> list[Account]:
    """Every bookable customer of the organisation (not merged away, not pinned)."""
    organization = ctx.organization
    customers = (
        Customer.objects.filter(organization=organization, merged_into__isnull=True)
        .exclude(pk__in=exclude_ids)
        .order_by("pk")
    )
    phones: dict[int, str] = {}
    emails: dict[int, str] = {}
    for customer_id, kind, value in (
        ContactPoint.objects.filter(organization=organization, is_valid=True)
        .order_by("-is_primary", "pk")
        .values_list("customer_id", "kind", "value")
    ):
        target = phones if kind == ContactPoint.Kind.PHONE else emails
        target.setdefault(customer_id, value)
    sites: dict[int, list[SiteRef]] = {}
    by_location: dict[int, SiteRef] = {}
    for location_id, customer_id, is_primary, raw_address in (
        ServiceLocation.objects.filter(organization=organization)
        .order_by("-is_primary", "pk")
        .values_list("pk", "customer_id", "is_primary", "raw_address")
    ):
        ref = SiteRef(
            location_id=location_id,
            is_primary=is_primary,
            equipment=[],
            street_line=raw_address.split(",")[0],
        )
        sites.setdefault(customer_id, []).append(ref)
        by_location[location_id] = ref
    for equipment_id, location_id, kind, installed_on in (
        Equipment.objects.filter(organization=organization)
        .order_by("pk")
        .values_list("pk", "location_id", "kind", "installed_on")
    ):
        if location_id in by_location:
            by_location[location_id].equipment.append((equipment_id, kind, installed_on))
    accounts = []
    for customer in customers:
        if customer.pk not in phones or customer.pk not in sites:
            continue
        accounts.append(
            Account(
                customer_id=customer.pk,
                first_name=customer.first_name,
                display_name=customer.display_name,
                kind=customer.kind,
                phone=phones[customer.pk],
                email=emails.get(customer.pk, ""),
                sites=sites[customer.pk],
                since=customer.created_at,
                lead_status=customer.lead_status,
                member="comfort-club" in (customer.tags or []),
                do_not_service=customer.do_not_service,
            )
        )
    return accounts


def _national(e164: str) -> str:
    return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"


def install_dates_move(*, organization: Organization, moved: dict[int, dt.date]) -> None:
    """An installation that could not be booked on its day moved; its equipment follows."""
    rows = list(Equipment.objects.filter(organization=organization, pk__in=moved))
    for equipment in rows:
        years = (equipment.warranty_expires_on - equipment.installed_on).days // 365
        equipment.installed_on = moved[equipment.pk]
        equipment.warranty_expires_on = equipment.installed_on.replace(
            year=equipment.installed_on.year + years
        )
    Equipment.objects.bulk_update(rows, ["installed_on", "warranty_expires_on"])
