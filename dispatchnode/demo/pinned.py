"""John Smith and William Jenkins exactly as DESIGN.md §4 pins them. John's AC had its last
service on 15 October of the most recent October before today: re-checked (and moved) on
every run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from bookings.models import Appointment, Job
from customers.models import (
    ContactPoint,
    Customer,
    CustomerNote,
    Equipment,
    ServiceLocation,
    Source,
)
from dispatchnode.demo import data
from dispatchnode.demo.company import upsert
from dispatchnode.demo.context import DemoSeedError, SeedContext
from dispatchnode.demo.drafts import LineDraft, invoice_totals
from dispatchnode.demo.population import normalized_address_fields
from invoicing.models import Invoice, InvoiceLine, Payment


def pinned_visit_date(today: dt.date) -> dt.date:
    """15 October of the most recent October before today (DESIGN.md §4, John Smith's AC)."""
    this_year = dt.date(today.year, 10, 15)
    return this_year if this_year < today else dt.date(today.year - 1, 10, 15)


@dataclass(frozen=True)
class PinnedVisit:
    code: str
    description: str
    day: dt.date
    hour: int
    lines: tuple[tuple[str, str], ...]  # (price-book code, quantity)
    move: bool = True  # keep it on `day` on every run (False: only create it once)


def ensure_pinned_customers(*, ctx: SeedContext) -> set[int]:
    org = ctx.organization
    pinned = pinned_visit_date(ctx.today)
    john, home = _ensure_customer(
        ctx,
        first_name="John",
        last_name="Smith",
        phone="+15125550142",
        email="",
        since=dt.datetime(2019, 5, 14, 10, 30, tzinfo=ctx.tz),
        tags=["comfort-club"],
        location={
            "label": "Home",
            **normalized_address_fields("123 Main St, Austin, TX 78701"),
            "latitude": Decimal("30.268900"),
            "longitude": Decimal("-97.742800"),
            "geocode_quality": ServiceLocation.GeocodeQuality.ZIP_CENTROID,
            "gate_code": "4821",
        },
        notes=[
            (CustomerNote.Kind.ACCESS, "Gate code 4821 at the side gate, left of the driveway.")
        ],
    )
    ac, _ = upsert(
        Equipment,
        lookup={"organization": org, "location": home, "kind": Equipment.Kind.AIR_CONDITIONER},
        values={
            "category": "hvac",
            "make": "Carrier",
            "model_number": "24ACC636A003",
            "serial_number": "1416E20517",
            "installed_on": dt.date(2014, 4, 14),
            "warranty_expires_on": dt.date(2024, 4, 14),
        },
        on_create={
            "notes": "Condenser on the north side of the house; attic air handler, 16×25 filter.",
            "created_at": john.created_at,
        },
    )
    summer = dt.date(pinned.year, 7, 8)
    while summer.weekday() > 4:
        summer += dt.timedelta(days=1)
    for visit in (
        PinnedVisit(
            code="ac-repair",
            description="AC blowing warm air; outdoor fan not spinning",
            day=summer,
            hour=13,
            lines=(("DIAG-AC", "1"), ("CAP-455", "1")),
        ),
        PinnedVisit(
            code="ac-tune-up",
            description="Fall AC tune-up (Comfort Club)",
            day=pinned,
            hour=9,
            lines=(("TUNE-AC", "1"), ("FILTER", "1")),
        ),
    ):
        _ensure_visit(ctx, customer=john, location=home, equipment=ac, visit=visit)

    bill, oak = _ensure_customer(
        ctx,
        first_name="William",
        last_name="Jenkins",
        phone="+15125550177",
        email="bill.jenkins@example.com",
        since=dt.datetime(2021, 8, 2, 15, 5, tzinfo=ctx.tz),
        tags=[],
        location={
            "label": "Home",
            **normalized_address_fields("123 Oak Street, Austin, TX 78702"),
            "latitude": Decimal("30.262400"),
            "longitude": Decimal("-97.719300"),
            "geocode_quality": ServiceLocation.GeocodeQuality.ZIP_CENTROID,
        },
        notes=[(CustomerNote.Kind.PREFERENCE, "Goes by Bill. Prefers text messages.")],
    )
    heater, _ = upsert(
        Equipment,
        lookup={"organization": org, "location": oak, "kind": Equipment.Kind.WATER_HEATER},
        values={
            "category": "plumbing",
            "make": "Rheem",
            "model_number": "XG50T06EC36U1",
            "serial_number": "1633K41877",
            "installed_on": dt.date(2016, 8, 19),
        },
        on_create={"notes": "50-gallon gas, in the garage.", "created_at": bill.created_at},
    )
    earlier = ctx.today - dt.timedelta(days=75)
    while earlier.weekday() > 4:
        earlier -= dt.timedelta(days=1)
    _ensure_visit(
        ctx,
        customer=bill,
        location=oak,
        equipment=heater,
        visit=PinnedVisit(
            code="water-heater-repair",
            description="Pilot light on the water heater won't stay lit",
            day=earlier,
            hour=10,
            lines=(("DIAG-WH", "1"), ("THERMOCOUPLE", "1")),
            move=False,
        ),
    )
    return {john.pk, bill.pk}


def _ensure_customer(
    ctx: SeedContext,
    *,
    first_name: str,
    last_name: str,
    phone: str,
    email: str,
    since: dt.datetime,
    tags: list[str],
    location: dict,
    notes: list[tuple[str, str]],
) -> tuple[Customer, ServiceLocation]:
    org = ctx.organization
    contact = (
        ContactPoint.objects.filter(organization=org, kind=ContactPoint.Kind.PHONE, value=phone)
        .select_related("customer")
        .order_by("pk")
        .first()
    )
    values = {
        "first_name": first_name,
        "last_name": last_name,
        "kind": Customer.Kind.RESIDENTIAL,
        "lead_status": Customer.LeadStatus.ACTIVE,
        "do_not_service": False,
    }
    if contact is None:
        customer = Customer(organization=org, tags=tags, created_at=since, **values)
        customer.full_clean()
        customer.save()
    else:
        customer, _ = upsert(Customer, lookup={"pk": contact.customer_id}, values=values)
    contacts = [(ContactPoint.Kind.PHONE, phone, ContactPoint.Label.MOBILE)]
    if email:
        contacts.append((ContactPoint.Kind.EMAIL, email, ContactPoint.Label.HOME))
    for kind, value, label in contacts:
        upsert(
            ContactPoint,
            lookup={"organization": org, "customer": customer, "kind": kind, "value": value},
            values={"is_primary": True, "is_valid": True},
            on_create={"label": label, "raw_value": value, "created_at": since},
        )
    home, _ = upsert(
        ServiceLocation,
        lookup={
            "organization": org,
            "customer": customer,
            "street": location["street"],
            "postal_code": location["postal_code"],
        },
        values={k: v for k, v in location.items() if k not in ("street", "postal_code")}
        | {"is_primary": True},
        on_create={"created_at": since},
    )
    for kind, body in notes:
        upsert(
            CustomerNote,
            lookup={"organization": org, "customer": customer, "kind": kind, "body": body},
            values={"visible_to_agent": True},
            on_create={"created_at": since + dt.timedelta(minutes=3)},
        )
    return customer, home


def _ensure_visit(
    ctx: SeedContext,
    *,
    customer: Customer,
    location: ServiceLocation,
    equipment: Equipment,
    visit: PinnedVisit,
) -> Job:
    """A closed job with its completed appointment and paid invoice, on `visit.day`."""
    org = ctx.organization
    job = (
        Job.objects.filter(organization=org, customer=customer, description=visit.description)
        .order_by("pk")
        .first()
    )
    appointment = (
        job.appointments.exclude(status=Appointment.Status.CANCELLED).order_by("start").first()
        if job is not None
        else None
    )
    if job is not None:
        on_day = appointment is None or appointment.start.astimezone(ctx.tz).date() == visit.day
        if on_day or not visit.move:
            return job
        ctx.timetable.release(appointment.technician_id, appointment.start, appointment.end)
        technician_id, start, end = _pinned_slot(ctx, visit)
        _shift_visit(job, appointment, technician_id=technician_id, delta=start - appointment.start)
        return job

    technician_id, start, end = _pinned_slot(ctx, visit)
    lines = [LineDraft(item=ctx.items[code], quantity=Decimal(q)) for code, q in visit.lines]
    totals = invoice_totals(lines, ctx.tax_rate)
    notes = {item.code: item.work_note for item in data.PRICE_BOOK}
    job = Job(
        organization=org,
        number=ctx.numbering.take("job"),
        customer=customer,
        location=location,
        service_type=ctx.service_types[visit.code],
        equipment=equipment,
        description=visit.description,
        status=Job.Status.CLOSED,
        source=Source.STAFF,
        created_by_id=ctx.dispatcher_id,
        created_at=start - dt.timedelta(days=9),
        completed_at=end,
        work_notes=" ".join(notes[code] for code, _ in visit.lines if notes[code]),
    )
    job.full_clean()
    job.save()
    window_start = start.replace(minute=0)
    appointment = Appointment(
        organization=org,
        job=job,
        technician_id=technician_id,
        start=start,
        end=end,
        arrival_window_start=window_start,
        arrival_window_end=window_start + dt.timedelta(hours=2),
        status=Appointment.Status.COMPLETED,
        en_route_at=start - dt.timedelta(minutes=25),
        started_at=start,
        finished_at=end,
        created_at=job.created_at,
    )
    appointment.full_clean()
    appointment.save()
    issued = end + dt.timedelta(minutes=10)
    invoice = Invoice(
        organization=org,
        number=ctx.numbering.take("invoice"),
        customer=customer,
        job=job,
        status=Invoice.Status.PAID,
        currency=org.currency,
        tax_rate=ctx.tax_rate,
        subtotal=totals.subtotal,
        tax_total=totals.tax_total,
        total=totals.total,
        amount_paid=totals.total,
        issued_at=issued,
        due_date=issued.date() + dt.timedelta(days=15),
        sent_at=issued + dt.timedelta(minutes=3),
        paid_at=issued + dt.timedelta(minutes=5),
        created_at=issued,
    )
    invoice.full_clean()
    invoice.save()
    for position, line in enumerate(lines, start=1):
        row = InvoiceLine(
            organization=org,
            invoice=invoice,
            position=position,
            item=line.item,
            description=line.item.name,
            quantity=line.quantity,
            unit_price=line.item.unit_price,
            taxable=line.item.taxable,
            amount=line.amount,
            created_at=issued,
        )
        row.full_clean()
        row.save()
    payment = Payment(
        organization=org,
        invoice=invoice,
        amount=totals.total,
        currency=org.currency,
        method=Payment.Method.CARD,
        status=Payment.Status.SUCCEEDED,
        received_at=invoice.paid_at,
        provider="manual",
        reference="Card on site",
        created_at=invoice.paid_at,
    )
    payment.full_clean()
    payment.save()
    return job


def _pinned_slot(ctx: SeedContext, visit: PinnedVisit) -> tuple[int, dt.datetime, dt.datetime]:
    """The wanted hour with a skilled technician (tech1 first), else any free time that day.

    15 October can be a Sunday; the visit still happens that day, outside the usual shifts.
    """
    minutes = dt.timedelta(minutes=ctx.specs[visit.code].minutes)
    by_user = {t.user.username: t.pk for t in ctx.technicians.values() if t.user}
    preferred = [by_user[s.username] for s in data.TECHNICIANS if s.username in by_user]
    skilled = [t for t in preferred if t in ctx.technicians_for(visit.code)]
    starts = [ctx.at(visit.day, visit.hour)] + [
        ctx.at(visit.day, 7, 30) + dt.timedelta(minutes=30 * n) for n in range(20)
    ]
    for in_shift in (True, False):
        for start in starts:
            for technician_id in skilled:
                end = start + minutes
                if in_shift and not ctx.timetable.within_shift(technician_id, start, end):
                    continue
                if ctx.timetable.is_free(technician_id, start, end):
                    ctx.timetable.book(technician_id, start, end)
                    return technician_id, start, end
    raise DemoSeedError(f"No technician is free on {visit.day} for {visit.description!r}.")


def _shift_visit(job: Job, appointment: Appointment, *, technician_id: int, delta) -> None:
    """Move a finished visit (and its invoice and payments) by `delta`, e.g. a year on."""
    appointment.technician_id = technician_id
    for name in (
        "start",
        "end",
        "arrival_window_start",
        "arrival_window_end",
        "en_route_at",
        "started_at",
        "finished_at",
        "created_at",
    ):
        if getattr(appointment, name) is not None:
            setattr(appointment, name, getattr(appointment, name) + delta)
    appointment.save()
    job.completed_at = appointment.end
    job.created_at += delta
    job.save(update_fields=["completed_at", "created_at", "updated_at"])
    for invoice in job.invoices.all():
        for name in ("issued_at", "sent_at", "paid_at", "created_at"):
            if getattr(invoice, name) is not None:
                setattr(invoice, name, getattr(invoice, name) + delta)
        if invoice.due_date:
            invoice.due_date += dt.timedelta(days=delta.days)
        invoice.save()
        for payment in invoice.payments.all():
            payment.received_at += delta
            payment.created_at += delta
            payment.save(update_fields=["received_at", "created_at", "updated_at"])
