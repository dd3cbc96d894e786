"""Jobs with their visit, invoice, payments, calls and messages, drafted in memory and written in
bulk: numbered in creation order, every row carrying the organisation."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from bookings.models import Appointment, CallSession, CallTurn, Job, ServiceType
from customers.models import Message
from dispatchnode.core.money import ZERO, money
from dispatchnode.demo import data
from dispatchnode.demo.context import SeedContext
from invoicing.models import Invoice, InvoiceLine, Payment, PriceBookItem

BATCH = 500

# --- Drafts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineDraft:
    item: PriceBookItem
    quantity: Decimal

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.item.unit_price)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


def invoice_totals(lines: list[LineDraft], tax_rate: Decimal) -> Totals:
    """Subtotal of line amounts; tax on the taxable lines, half-up to cents; total adds up."""
    subtotal = sum((line.amount for line in lines), ZERO)
    taxable = sum((line.amount for line in lines if line.item.taxable), ZERO)
    tax_total = money(taxable * tax_rate)
    return Totals(subtotal=subtotal, tax_total=tax_total, total=subtotal + tax_total)


@dataclass
class VisitDraft:
    technician_id: int
    start: dt.datetime
    end: dt.datetime
    status: str

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime]:
        opens = self.start.replace(minute=0, second=0, microsecond=0)
        return opens, opens + dt.timedelta(hours=2)


@dataclass
class PaymentDraft:
    amount: Decimal
    method: str
    received_at: dt.datetime
    provider: str = "manual"
    provider_payment_id: str = ""
    reference: str = ""


@dataclass
class InvoiceDraft:
    lines: list[LineDraft]
    issued_at: dt.datetime
    due_date: dt.date
    payments: list[PaymentDraft] = field(default_factory=list)
    notes: str = ""

    def totals(self, tax_rate: Decimal) -> Totals:
        return invoice_totals(self.lines, tax_rate)

    def status(self, tax_rate: Decimal) -> str:
        paid = sum((p.amount for p in self.payments), ZERO)
        if paid == ZERO:
            return Invoice.Status.SENT
        if paid < self.totals(tax_rate).total:
            return Invoice.Status.PARTIALLY_PAID
        return Invoice.Status.PAID


@dataclass
class MessageDraft:
    """`body` and `subject` may name `{job}` and `{invoice}`: numbers exist only once written."""

    customer_id: int
    channel: str
    to_address: str
    body: str
    purpose: str
    sent_at: dt.datetime
    subject: str = ""
    direction: str = Message.Direction.OUTBOUND
    status: str = Message.Status.DELIVERED
    from_address: str = data.ORG_TWILIO_NUMBER
    provider_message_id: str = ""


@dataclass
class CallDraft:
    call_sid: str
    from_number: str
    customer_id: int | None
    started_at: dt.datetime
    duration_seconds: int
    outcome: str
    summary: str
    turns: list[tuple[str, str, str, str]]  # (state, heard, intent, said)
    priority: str = ""
    outcome_reason: str = ""
    lead_score: int | None = None
    new_customer: bool = False


@dataclass
class JobDraft:
    customer_id: int
    location_id: int
    service_type: ServiceType
    description: str
    status: str
    source: str
    created_at: dt.datetime
    priority: str = Job.Priority.NORMAL
    equipment_id: int | None = None
    completed_at: dt.datetime | None = None
    work_notes: str = ""
    customer_preference: str = ""
    created_by_id: int | None = None
    visit: VisitDraft | None = None
    invoice: InvoiceDraft | None = None
    messages: list[MessageDraft] = field(default_factory=list)
    call: CallDraft | None = None


# --- Building blocks the generators use -----------------------------------------------------


def visit_lines(
    ctx: SeedContext, code: str, rng: random.Random, *, extras: bool = True
) -> list[LineDraft]:
    """The service type's default line, plus the parts and labour a technician typically adds."""
    spec = ctx.specs[code]
    lines = [LineDraft(item=ctx.default_item(code), quantity=Decimal("1"))]
    if not extras:
        return lines
    part_chance = {"repair": 0.75, "emergency": 0.8, "maintenance": 0.35}.get(spec.kind, 0.25)
    parts = list(spec.parts)
    if parts and rng.random() < part_chance:
        count = 2 if len(parts) > 1 and rng.random() < 0.2 else 1
        for part in rng.sample(parts, count):
            item = ctx.items[part]
            quantity = Decimal(rng.randint(1, 4)) if item.unit == "lb" else Decimal("1")
            lines.append(LineDraft(item=item, quantity=quantity))
    if spec.labour and rng.random() < 0.45:
        hours = rng.choice(("1", "1", "1.5", "2", "2.5", "3"))
        lines.append(LineDraft(item=ctx.items[spec.labour], quantity=Decimal(hours)))
    return lines


_CLOSING = {
    "hvac": "System tested and operating normally; thermostat set back to the customer's setting.",
    "plumbing": "Tested for leaks; everything dry and working.",
    "electrical": "Circuits tested and labelled; all working.",
}


def work_notes_for(ctx: SeedContext, code: str, lines: list[LineDraft]) -> str:
    notes = [spec.work_note for line in lines if (spec := _item_spec(line.item.code)).work_note]
    notes.append(_CLOSING.get(ctx.specs[code].category, ""))
    return " ".join(n for n in notes if n)


def _item_spec(code: str) -> data.PriceItemSpec:
    return _ITEM_SPECS[code]


_ITEM_SPECS = {item.code: item for item in data.PRICE_BOOK}


def settle(
    ctx: SeedContext,
    invoice: InvoiceDraft,
    *,
    pattern: str,
    rng: random.Random,
    installation: bool = False,
) -> None:
    """Pay the invoice in full (`paid`), half (`partial`) or not at all (`open`)."""
    if pattern == "open":
        return
    total = invoice.totals(ctx.tax_rate).total
    amount = total if pattern == "paid" else money(total / 2)
    if amount <= ZERO:
        return
    roll = rng.random()
    if installation and roll < 0.35:
        method, delay = Payment.Method.FINANCING, dt.timedelta(days=rng.randint(3, 12))
    elif roll < 0.68:
        on_site = rng.random() < 0.7
        method = Payment.Method.CARD
        delay = dt.timedelta(minutes=12) if on_site else dt.timedelta(days=rng.randint(1, 6))
    elif roll < 0.84:
        method, delay = Payment.Method.CHECK, dt.timedelta(days=rng.randint(2, 14))
    elif roll < 0.93:
        method, delay = Payment.Method.ACH, dt.timedelta(days=rng.randint(2, 10))
    else:
        method, delay = Payment.Method.CASH, dt.timedelta(minutes=8)
    received_at = invoice.issued_at + delay
    if received_at > ctx.now:  # not in the future: paid on site instead
        received_at = min(invoice.issued_at + dt.timedelta(minutes=12), ctx.now)
    payment = PaymentDraft(amount=amount, method=method, received_at=received_at)
    if method == Payment.Method.CARD:
        payment.provider = "stripe"
        payment.provider_payment_id = f"pi_demo{rng.getrandbits(72):018x}"
    elif method == Payment.Method.CHECK:
        payment.reference = f"Check #{rng.randint(1001, 9899)}"
    invoice.payments.append(payment)


def sid(prefix: str, rng: random.Random) -> str:
    """A Twilio-shaped id: two letters and 32 hex digits."""
    return f"{prefix}{rng.getrandbits(128):032x}"


# --- Writing --------------------------------------------------------------------------------


@dataclass
class PersistCounts:
    jobs: int = 0
    appointments: int = 0
    invoices: int = 0
    lines: int = 0
    payments: int = 0
    calls: int = 0
    messages: int = 0

    def add(self, other: PersistCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def drafts_persist(*, ctx: SeedContext, drafts: list[JobDraft]) -> PersistCounts:
    """Write jobs in creation order (so numbers follow time) and everything hanging off them."""
    organization = ctx.organization
    drafts = sorted(drafts, key=lambda d: (d.created_at, d.customer_id))
    jobs = [
        Job(
            organization=organization,
            number=ctx.numbering.take("job"),
            customer_id=d.customer_id,
            location_id=d.location_id,
            service_type=d.service_type,
            equipment_id=d.equipment_id,
            description=d.description,
            priority=d.priority,
            status=d.status,
            source=d.source,
            work_notes=d.work_notes,
            customer_preference=d.customer_preference,
            completed_at=d.completed_at,
            created_by_id=d.created_by_id,
            created_at=d.created_at,
        )
        for d in drafts
    ]
    Job.objects.bulk_create(jobs, batch_size=BATCH)

    appointments = []
    for job, d in zip(jobs, drafts, strict=True):
        if d.visit is None:
            continue
        visit = d.visit
        window_start, window_end = visit.window
        done = visit.status == Appointment.Status.COMPLETED
        going = visit.status in (Appointment.Status.IN_PROGRESS, Appointment.Status.COMPLETED)
        appointments.append(
            Appointment(
                organization=organization,
                job=job,
                technician_id=visit.technician_id,
                start=visit.start,
                end=visit.end,
                arrival_window_start=window_start,
                arrival_window_end=window_end,
                status=visit.status,
                en_route_at=visit.start - dt.timedelta(minutes=25) if going else None,
                started_at=visit.start if going else None,
                finished_at=visit.end if done else None,
                created_at=d.created_at,
            )
        )
    Appointment.objects.bulk_create(appointments, batch_size=BATCH)

    invoiced = sorted(
        ((job, d) for job, d in zip(jobs, drafts, strict=True) if d.invoice is not None),
        key=lambda pair: pair[1].invoice.issued_at,
    )
    invoices, lines, payments = [], [], []
    numbers: dict[int, str] = {}
    for job, d in invoiced:
        draft = d.invoice
        totals = draft.totals(ctx.tax_rate)
        paid = sum((p.amount for p in draft.payments), ZERO)
        status = draft.status(ctx.tax_rate)
        invoice = Invoice(
            organization=organization,
            number=ctx.numbering.take("invoice"),
            customer_id=d.customer_id,
            job=job,
            status=status,
            currency=organization.currency,
            tax_rate=ctx.tax_rate,
            subtotal=totals.subtotal,
            tax_total=totals.tax_total,
            total=totals.total,
            amount_paid=paid,
            issued_at=draft.issued_at,
            due_date=draft.due_date,
            sent_at=min(draft.issued_at + dt.timedelta(minutes=3), ctx.now),
            paid_at=draft.payments[-1].received_at if status == Invoice.Status.PAID else None,
            notes=draft.notes,
            created_at=draft.issued_at,
        )
        invoices.append(invoice)
        numbers[id(d)] = invoice.number
        for position, line in enumerate(draft.lines, start=1):
            lines.append(
                InvoiceLine(
                    organization=organization,
                    invoice=invoice,
                    position=position,
                    item=line.item,
                    description=line.item.name,
                    quantity=line.quantity,
                    unit_price=line.item.unit_price,
                    taxable=line.item.taxable,
                    amount=line.amount,
                    created_at=draft.issued_at,
                )
            )
        for payment in draft.payments:
            payments.append(
                Payment(
                    organization=organization,
                    invoice=invoice,
                    amount=payment.amount,
                    currency=organization.currency,
                    method=payment.method,
                    status=Payment.Status.SUCCEEDED,
                    received_at=payment.received_at,
                    provider=payment.provider,
                    provider_payment_id=payment.provider_payment_id,
                    reference=payment.reference,
                    created_at=payment.received_at,
                )
            )
    Invoice.objects.bulk_create(invoices, batch_size=BATCH)
    InvoiceLine.objects.bulk_create(lines, batch_size=BATCH)
    Payment.objects.bulk_create(payments, batch_size=BATCH)

    messages, calls, turns = [], [], []
    for job, d in zip(jobs, drafts, strict=True):
        fill = {"job": job.number, "invoice": numbers.get(id(d), "")}
        for m in d.messages:
            messages.append(
                Message(
                    organization=organization,
                    customer_id=m.customer_id,
                    channel=m.channel,
                    direction=m.direction,
                    to_address=m.to_address,
                    from_address=m.from_address,
                    subject=m.subject.format(**fill),
                    body=m.body.format(**fill),
                    status=m.status,
                    purpose=m.purpose,
                    provider_message_id=m.provider_message_id,
                    job=job,
                    sent_at=m.sent_at,
                    created_at=m.sent_at,
                )
            )
        if d.call is not None:
            call = call_row(ctx, d.call, job=job)
            calls.append(call)
            turns.extend(turn_rows(ctx, d.call, call))
    Message.objects.bulk_create(messages, batch_size=BATCH)
    CallSession.objects.bulk_create(calls, batch_size=BATCH)
    CallTurn.objects.bulk_create(turns, batch_size=BATCH)
    return PersistCounts(
        jobs=len(jobs),
        appointments=len(appointments),
        invoices=len(invoices),
        lines=len(lines),
        payments=len(payments),
        calls=len(calls),
        messages=len(messages),
    )


def call_row(ctx: SeedContext, draft: CallDraft, *, job: Job | None) -> CallSession:
    ended_at = draft.started_at + dt.timedelta(seconds=draft.duration_seconds)
    return CallSession(
        organization=ctx.organization,
        call_sid=draft.call_sid,
        account_sid=ctx.organization.twilio_account_sid,
        from_number=draft.from_number,
        to_number=data.ORG_TWILIO_NUMBER,
        direction="inbound",
        stir_verstat="TN-Validation-Passed-A",
        twilio_status="completed",
        customer_id=draft.customer_id,
        new_customer=draft.new_customer,
        job=job,
        priority=draft.priority,
        state="ended",
        verified=draft.customer_id is not None,
        verification_method="stir_shaken" if draft.customer_id is not None else "",
        outcome=draft.outcome,
        outcome_reason=draft.outcome_reason,
        summary=draft.summary,
        lead_score=draft.lead_score,
        duration_seconds=draft.duration_seconds,
        started_at=draft.started_at,
        ended_at=ended_at,
        created_at=draft.started_at,
    )


def turn_rows(ctx: SeedContext, draft: CallDraft, call: CallSession) -> list[CallTurn]:
    rng = random.Random(draft.call_sid)
    rows = []
    for sequence, (state, heard, intent, said) in enumerate(draft.turns, start=1):
        rows.append(
            CallTurn(
                organization=ctx.organization,
                call=call,
                sequence=sequence,
                state=state,
                heard=heard,
                confidence=round(rng.uniform(0.82, 0.97), 2) if heard else None,
                intent=intent,
                said=said,
                processing_ms=rng.randint(180, 900),
                created_at=draft.started_at + dt.timedelta(seconds=12 * sequence),
            )
        )
    return rows
