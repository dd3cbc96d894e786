"""Two years of finished work for newly created demo customers: Comfort Club tune-ups each spring
and fall, installations on the day the equipment went in, and seasonal repair calls, each with a
completed visit by a technician who has the skill, an invoice from the price book and, mostly,
its payment."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from bookings.models import Appointment, Job
from customers.models import Customer, Message, Source
from dispatchnode.demo import data
from dispatchnode.demo.accounts import Account, SiteRef
from dispatchnode.demo.context import SeedContext
from dispatchnode.demo.drafts import (
    InvoiceDraft,
    JobDraft,
    MessageDraft,
    VisitDraft,
    invoice_totals,
    settle,
    sid,
    visit_lines,
    work_notes_for,
)
from dispatchnode.demo.population import HISTORY_DAYS

INSTALL_TYPES = {
    "air_conditioner": "hvac-install",
    "heat_pump": "hvac-install",
    "water_heater": "water-heater-install",
    "tankless_water_heater": "water-heater-install",
    "electrical_panel": "panel-upgrade",
    "ev_charger": "ev-charger-install",
}
_KIND_WEIGHT = {
    "repair": 1.0,
    "emergency": 0.12,
    "maintenance": 0.35,
    "installation": 0.2,
    "inspection": 0.2,
}
_CATEGORY_WEIGHT = {"hvac": 1.7, "plumbing": 1.0, "electrical": 0.7}
JOB_SOURCES = [
    (Source.STAFF, 40),
    (Source.AI_CALL, 18),
    (Source.ONLINE, 15),
    (Source.CRM_SYNC, 10),
    (Source.API, 6),
    (Source.REFERRAL, 4),
]


@dataclass
class Wish:
    """A visit a customer needed on (or soon after) `day`."""

    day: dt.date
    code: str
    site: SiteRef
    equipment_id: int | None
    exact: bool = False  # an installation: the equipment's install date follows the visit


def needs_equipment(spec: data.ServiceTypeSpec) -> bool:
    if not spec.equipment or spec.kind not in ("repair", "maintenance", "emergency"):
        return False
    return spec.category != "electrical" or spec.code == "generator-maintenance"


def eligible(spec: data.ServiceTypeSpec, account: Account, site: SiteRef) -> bool:
    if spec.commercial_only and not account.commercial:
        return False
    if spec.code in INSTALL_TYPES.values():
        return False  # replacements come from the equipment's install dates
    return not needs_equipment(spec) or site.equipment_id(spec.equipment) is not None


def service_weight(spec: data.ServiceTypeSpec, month: int, account: Account) -> float:
    weight = _KIND_WEIGHT[spec.kind] * _CATEGORY_WEIGHT[spec.category]
    if spec.months:
        weight *= 3.0 if month in spec.months else 0.4
    if spec.commercial_only:
        weight *= 4.0
    if account.member and spec.kind == "maintenance" and spec.category == "hvac":
        weight *= 0.3  # members' tune-ups are planned separately
    return weight


def pick_service(
    ctx: SeedContext,
    rng: random.Random,
    account: Account,
    site: SiteRef,
    month: int,
    codes: list[str] | None = None,
) -> str | None:
    options = [
        (spec.code, service_weight(spec, month, account))
        for spec in ctx.specs.values()
        if (codes is None or spec.code in codes) and eligible(spec, account, site)
    ]
    if not options:
        return None
    values, weights = zip(*options, strict=True)
    return rng.choices(values, weights=weights)[0]


def describe(spec: data.ServiceTypeSpec, rng: random.Random, *, member: bool) -> str:
    club = [p for p in spec.problems if "Comfort Club" in p]
    other = [p for p in spec.problems if "Comfort Club" not in p] or list(spec.problems)
    return rng.choice(club if member and club else other)


def priority_for(spec: data.ServiceTypeSpec, month: int, rng: random.Random) -> str:
    if spec.kind == "emergency":
        return Job.Priority.EMERGENCY
    if spec.kind == "repair" and month in spec.months and rng.random() < 0.3:
        return Job.Priority.HIGH
    if spec.kind in ("maintenance", "inspection") and rng.random() < 0.4:
        return Job.Priority.LOW
    return Job.Priority.NORMAL


def lead_time(spec: data.ServiceTypeSpec, rng: random.Random) -> dt.timedelta:
    if spec.kind == "emergency":
        return dt.timedelta(minutes=rng.randint(30, 180))
    if spec.kind == "repair":
        return dt.timedelta(minutes=rng.randint(120, 3 * 24 * 60))
    if spec.kind == "maintenance":
        return dt.timedelta(days=rng.randint(5, 30), minutes=rng.randint(0, 600))
    return dt.timedelta(days=rng.randint(2, 20), minutes=rng.randint(0, 600))


def weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


# --- Wishes ---------------------------------------------------------------------------------


def _random_day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _wishes(ctx: SeedContext, account: Account, rng: random.Random) -> list[Wish]:
    today = ctx.today
    first = max(today - dt.timedelta(days=HISTORY_DAYS), account.since.astimezone(ctx.tz).date())
    first += dt.timedelta(days=1)
    last = today - dt.timedelta(days=1)
    if account.lead_status == Customer.LeadStatus.LEAD:
        return []
    if account.lead_status == Customer.LeadStatus.INACTIVE:
        last = min(last, today - dt.timedelta(days=400))
    if first > last:
        return []
    wishes: list[Wish] = []
    home = account.sites[0]
    if account.member:
        for year in range(today.year - 2, today.year + 1):
            spring = _random_day(rng, dt.date(year, 3, 15), dt.date(year, 5, 31))
            fall = _random_day(rng, dt.date(year, 9, 15), dt.date(year, 11, 30))
            if first <= spring <= last:
                cooling = home.equipment_id(("air_conditioner", "heat_pump"))
                wishes.append(Wish(spring, "ac-tune-up", home, cooling))
            heating = home.equipment_id(("furnace", "heat_pump"))
            if heating and first <= fall <= last:
                wishes.append(Wish(fall, "furnace-tune-up", home, heating))
    for site in account.sites:
        for equipment_id, kind, installed_on in site.equipment:
            code = INSTALL_TYPES.get(kind)
            if code and installed_on and first <= installed_on <= last:
                wishes.append(Wish(installed_on, code, site, equipment_id, exact=True))
    if account.commercial:
        calls = rng.randint(2, 7)
    else:
        calls = weighted(rng, [(0, 25), (1, 33), (2, 22), (3, 12), (4, 8)])
    if account.do_not_service or account.lead_status == Customer.LeadStatus.INACTIVE:
        calls = max(calls, 1)
    for _ in range(calls):
        day = _random_day(rng, first, last)
        site = account.sites[0] if rng.random() < 0.8 else rng.choice(account.sites)
        code = pick_service(ctx, rng, account, site, day.month)
        if code is None:
            continue
        wishes.append(Wish(day, code, site, site.equipment_id(ctx.specs[code].equipment)))
    wishes.sort(key=lambda w: w.day)
    return wishes


# --- Drafting -------------------------------------------------------------------------------


def history_drafts(
    *, ctx: SeedContext, accounts: list[Account]
) -> tuple[list[JobDraft], dict[int, dt.date]]:
    """Finished jobs for `accounts`, and the equipment whose install date moved to its visit."""
    drafts: list[JobDraft] = []
    moved: dict[int, dt.date] = {}
    for account in accounts:
        index = account.plan.index if account.plan else account.customer_id
        rng = random.Random(f"{data.SEED}:history:{index}")
        account_drafts = []
        for number, wish in enumerate(_wishes(ctx, account, rng)):
            # one stream per visit: what depends on the clock cannot shift later visits
            visit_rng = random.Random(f"{data.SEED}:history:{index}:{number}")
            draft = _visit(ctx, account, wish, visit_rng)
            if draft is None:
                continue
            account_drafts.append(draft)
            day = draft.visit.start.astimezone(ctx.tz).date()
            if wish.exact and day != wish.day and wish.equipment_id:
                moved[wish.equipment_id] = day
        if account.do_not_service and account_drafts:
            last = max(account_drafts, key=lambda d: d.created_at)
            owes = account.plan is not None and "collections" in account.plan.dns_reason
            if last.invoice is not None and owes:
                last.invoice.payments.clear()
                last.status = Job.Status.INVOICED
        drafts.extend(account_drafts)
    return drafts, moved


def _visit(ctx: SeedContext, account: Account, wish: Wish, rng: random.Random) -> JobDraft | None:
    spec = ctx.specs[wish.code]
    technician_ids = ctx.technicians_for(wish.code)
    day = wish.day
    slot = None
    for _ in range(10):
        if day >= ctx.today:
            return None
        slot = ctx.timetable.find_slot(
            day=day, technician_ids=technician_ids, minutes=spec.minutes, rng=rng
        )
        if slot is not None:
            break
        day += dt.timedelta(days=1)
    if slot is None:
        return None
    technician_id, start, end = slot
    ctx.timetable.book(technician_id, start, end)
    created_at = max(start - lead_time(spec, rng), account.since + dt.timedelta(hours=1))
    source = weighted(rng, JOB_SOURCES)
    lines = visit_lines(ctx, wish.code, rng)
    draft = JobDraft(
        customer_id=account.customer_id,
        location_id=wish.site.location_id,
        service_type=ctx.service_types[wish.code],
        equipment_id=wish.equipment_id,
        description=describe(spec, rng, member=account.member),
        status=Job.Status.CLOSED,
        source=source,
        created_at=min(created_at, start - dt.timedelta(minutes=20)),
        priority=priority_for(spec, day.month, rng),
        completed_at=end,
        work_notes=work_notes_for(ctx, wish.code, lines),
        created_by_id=ctx.dispatcher_id if source == Source.STAFF else None,
        visit=VisitDraft(technician_id, start, end, Appointment.Status.COMPLETED),
    )
    draft.invoice = invoice_after(ctx, account, end, lines, rng, installation=wish.exact)
    if draft.invoice.payments and draft.invoice.status(ctx.tax_rate) == "paid":
        draft.status = Job.Status.CLOSED
    else:
        draft.status = Job.Status.INVOICED
    if (ctx.now - end).days <= 30:
        draft.messages.append(invoice_message(ctx, account, draft.invoice, rng))
    return draft


def invoice_after(
    ctx: SeedContext,
    account: Account,
    completed_at: dt.datetime,
    lines,
    rng: random.Random,
    *,
    installation: bool = False,
) -> InvoiceDraft:
    terms = 30 if account.commercial else 15
    invoice = InvoiceDraft(
        lines=lines,
        issued_at=completed_at + dt.timedelta(minutes=10),
        due_date=completed_at.astimezone(ctx.tz).date() + dt.timedelta(days=terms),
        notes="Net 30." if account.commercial else "Thank you for choosing Demo Heating & Air!",
    )
    age = (ctx.now - completed_at).days
    if age <= 14:
        unpaid, partial = 0.3, 0.08
    elif age <= 60:
        unpaid, partial = 0.08, 0.04
    else:
        unpaid, partial = 0.015, 0.01
    roll = rng.random()
    pattern = "open" if roll < unpaid else "partial" if roll < unpaid + partial else "paid"
    settle(ctx, invoice, pattern=pattern, rng=rng, installation=installation)
    return invoice


def invoice_message(
    ctx: SeedContext, account: Account, invoice: InvoiceDraft, rng: random.Random
) -> MessageDraft:
    total = invoice_totals(invoice.lines, ctx.tax_rate).total
    sent_at = min(invoice.issued_at + dt.timedelta(minutes=3), ctx.now)
    greeting = f"Hi {account.first_name}," if account.first_name else "Hello,"
    if account.email:
        return MessageDraft(
            customer_id=account.customer_id,
            channel=Message.Channel.EMAIL,
            to_address=account.email,
            from_address=data.ORG_EMAIL,
            subject=f"Invoice {{invoice}} from {data.ORG_NAME}",
            body=(
                f"{greeting}\n\nThank you for choosing {data.ORG_NAME}. Your invoice {{invoice}} "
                f"for ${total:,} (job {{job}}) is ready, due {invoice.due_date:%B} "
                f"{invoice.due_date.day}.\n\nQuestions? Call us at (512) 555-0101."
            ),
            purpose="invoice",
            sent_at=sent_at,
        )
    return MessageDraft(
        customer_id=account.customer_id,
        channel=Message.Channel.SMS,
        to_address=account.phone,
        body=(
            f"{data.ORG_NAME}: invoice {{invoice}} for ${total:,} is ready. "
            "Reply HELP for help, STOP to opt out."
        ),
        purpose="invoice",
        sent_at=sent_at,
        provider_message_id=sid("SM", rng),
    )
