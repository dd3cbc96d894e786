"""The next two weeks: each technician's working days filled with visits (today's already done,
under way or still ahead, depending on the clock), a few jobs waiting to be scheduled, the phone
calls that booked some of them and the confirmations that went out.

A technician-day is filled only while it is empty, so a re-run changes nothing and a run on a
later day tops up only the days that have come into the horizon.
"""

from __future__ import annotations

import datetime as dt
import random

from bookings.models import Appointment, CallSession, Job
from customers.models import Message, Source
from dispatchnode.demo import data
from dispatchnode.demo.accounts import Account, SiteRef
from dispatchnode.demo.calls import booking_call, clock, slot_text, spoken_name
from dispatchnode.demo.context import SeedContext
from dispatchnode.demo.drafts import (
    CallDraft,
    JobDraft,
    MessageDraft,
    VisitDraft,
    sid,
    visit_lines,
    work_notes_for,
)
from dispatchnode.demo.history import (
    JOB_SOURCES,
    describe,
    invoice_after,
    lead_time,
    pick_service,
    priority_for,
    weighted,
)

HORIZON_DAYS = 14
FULL_BOOK_CUSTOMERS = 150  # below this many customers, days are booked more lightly


def upcoming_drafts(
    *, ctx: SeedContext, accounts: list[Account], days: int = HORIZON_DAYS
) -> list[JobDraft]:
    bookable = [a for a in accounts if not a.do_not_service]
    if not bookable:
        return []
    scale = min(1.0, len(bookable) / FULL_BOOK_CUSTOMERS)
    drafts: list[JobDraft] = []
    for offset in range(days):
        day = ctx.today + dt.timedelta(days=offset)
        for technician_id in sorted(ctx.technicians):
            timetable = ctx.timetable
            if not timetable.works(technician_id, day) or not timetable.is_empty(
                technician_id, day
            ):
                continue
            technician = ctx.technicians[technician_id]
            rng = random.Random(f"{data.SEED}:day:{technician.display_name}:{day.isoformat()}")
            count = max(1, min(6, round(rng.gauss(4.3 - 0.12 * offset, 0.9))))
            count = max(1, round(count * scale))
            drafts.extend(_technician_day(ctx, technician_id, day, count, bookable, rng))
    return drafts


def _choose(
    ctx: SeedContext, rng: random.Random, bookable: list[Account], codes: list[str], month: int
) -> tuple[Account, SiteRef, str] | None:
    for _ in range(40):
        account = rng.choice(bookable)
        site = account.sites[0] if rng.random() < 0.85 else rng.choice(account.sites)
        code = pick_service(ctx, rng, account, site, month, codes)
        if code is not None:
            return account, site, code
    return None


def _install(
    ctx: SeedContext, rng: random.Random, bookable: list[Account], skills: frozenset[str]
) -> tuple[Account, SiteRef, str] | None:
    """Now and then a technician's day starts with (or is) a replacement."""
    if "installation" in skills and rng.random() < 0.15:
        code, kinds = "hvac-install", ("air_conditioner", "heat_pump")
    elif "plumbing" in skills and rng.random() < 0.1:
        code, kinds = "water-heater-install", ("water_heater",)
    elif "electrical" in skills and rng.random() < 0.08:
        code, kinds = "panel-upgrade", ("electrical_panel",)
    else:
        return None
    for _ in range(40):
        account = rng.choice(bookable)
        if account.sites[0].equipment_id(kinds) is not None:
            return account, account.sites[0], code
    return None


def _technician_day(
    ctx: SeedContext,
    technician_id: int,
    day: dt.date,
    count: int,
    bookable: list[Account],
    rng: random.Random,
) -> list[JobDraft]:
    skills = ctx.skills_of[technician_id]
    codes = [code for code, spec in ctx.specs.items() if spec.skill in skills]
    drafts = []
    for shift_start, shift_end in ctx.timetable.day_spans(technician_id, day):
        cursor = shift_start + dt.timedelta(minutes=rng.choice((0, 0, 30, 60)))
        first = _install(ctx, rng, bookable, skills)
        while len(drafts) < count:
            choice = first or _choose(ctx, rng, bookable, codes, day.month)
            first = None
            if choice is None:
                break
            account, site, code = choice
            end = cursor + dt.timedelta(minutes=ctx.specs[code].minutes)
            if end > shift_end or not ctx.timetable.is_free(technician_id, cursor, end):
                break
            ctx.timetable.book(technician_id, cursor, end)
            # details (status, invoice, messages) depend on the clock: their own stream
            details = random.Random(f"{rng.random()}")
            drafts.append(_booked(ctx, account, site, code, technician_id, cursor, end, details))
            cursor = end + dt.timedelta(minutes=rng.choice((30, 30, 60)))
    return drafts


def _booked(
    ctx: SeedContext,
    account: Account,
    site: SiteRef,
    code: str,
    technician_id: int,
    start: dt.datetime,
    end: dt.datetime,
    rng: random.Random,
) -> JobDraft:
    spec = ctx.specs[code]
    now = ctx.now
    if end <= now:
        visit_status, job_status = Appointment.Status.COMPLETED, Job.Status.COMPLETED
    elif start <= now:
        visit_status, job_status = Appointment.Status.IN_PROGRESS, Job.Status.IN_PROGRESS
    else:
        visit_status, job_status = Appointment.Status.SCHEDULED, Job.Status.SCHEDULED
    if start > now:
        created_at = now - dt.timedelta(minutes=rng.randint(15, 6 * 24 * 60))
    else:
        created_at = start - lead_time(spec, rng)
    created_at = min(max(created_at, account.since + dt.timedelta(hours=1)), now)
    source = weighted(rng, JOB_SOURCES)
    visit = VisitDraft(technician_id, start, end, visit_status)
    draft = JobDraft(
        customer_id=account.customer_id,
        location_id=site.location_id,
        service_type=ctx.service_types[code],
        equipment_id=site.equipment_id(spec.equipment),
        description=describe(spec, rng, member=account.member),
        status=job_status,
        source=source,
        created_at=created_at,
        priority=priority_for(spec, start.month, rng),
        customer_preference=rng.choice(data.CUSTOMER_PREFERENCES) if rng.random() < 0.2 else "",
        created_by_id=ctx.dispatcher_id if source == Source.STAFF else None,
        visit=visit,
    )
    technician = ctx.technicians[technician_id]
    if visit_status == Appointment.Status.COMPLETED:
        lines = visit_lines(ctx, code, rng)
        draft.completed_at = end
        draft.work_notes = work_notes_for(ctx, code, lines)
        draft.invoice = invoice_after(ctx, account, end, lines, rng)
        paid = draft.invoice.status(ctx.tax_rate) == "paid"
        draft.status = Job.Status.CLOSED if paid else Job.Status.INVOICED
    if rng.random() < 0.75:
        draft.messages.append(
            MessageDraft(
                customer_id=account.customer_id,
                channel=Message.Channel.SMS,
                to_address=account.phone,
                body=(
                    f"{data.ORG_NAME}: you're booked for {spoken_name(spec.name)} on "
                    f"{slot_text(visit, ctx.tz)}. Your technician is {technician.first_name}. "
                    "Reply C to confirm or R to reschedule."
                ),
                purpose="booking_confirmation",
                sent_at=created_at + dt.timedelta(minutes=1),
                provider_message_id=sid("SM", rng),
            )
        )
        reply_at = created_at + dt.timedelta(minutes=rng.randint(5, 180))
        if rng.random() < 0.3 and reply_at <= now:
            draft.messages.append(
                MessageDraft(
                    customer_id=account.customer_id,
                    channel=Message.Channel.SMS,
                    direction=Message.Direction.INBOUND,
                    status=Message.Status.RECEIVED,
                    to_address=data.ORG_TWILIO_NUMBER,
                    from_address=account.phone,
                    body=rng.choice(("C", "C", "Confirmed, thanks!", "c")),
                    purpose="booking_reply",
                    sent_at=reply_at,
                    provider_message_id=sid("SM", rng),
                )
            )
    if visit_status != Appointment.Status.SCHEDULED:
        eta = start.astimezone(ctx.tz)
        draft.messages.append(
            MessageDraft(
                customer_id=account.customer_id,
                channel=Message.Channel.SMS,
                to_address=account.phone,
                body=(
                    f"{technician.first_name} from {data.ORG_NAME} is on the way, "
                    f"arriving around {clock(eta)}."
                ),
                purpose="on_my_way",
                sent_at=start - dt.timedelta(minutes=25),
                provider_message_id=sid("SM", rng),
            )
        )
    draft.messages = [m for m in draft.messages if m.sent_at <= now]
    if source == Source.AI_CALL:
        draft.call = booking_call(ctx, account, site, draft, rng)
    return draft


# --- Waiting to be scheduled ----------------------------------------------------------------


def requested_drafts(*, ctx: SeedContext, accounts: list[Account]) -> list[JobDraft]:
    """A handful of unscheduled requests, whenever the organisation has none waiting."""
    if Job.objects.filter(organization=ctx.organization, status=Job.Status.REQUESTED).exists():
        return []
    bookable = [a for a in accounts if not a.do_not_service]
    if not bookable:
        return []
    rng = random.Random(f"{data.SEED}:requested:{ctx.today.isoformat()}")
    drafts = []
    for _ in range(5):
        choice = _choose(ctx, rng, bookable, list(ctx.specs), ctx.today.month)
        if choice is None:
            continue
        account, site, code = choice
        spec = ctx.specs[code]
        source = rng.choice((Source.AI_CALL, Source.ONLINE, Source.STAFF, Source.API))
        created_at = ctx.now - dt.timedelta(minutes=rng.randint(10, 30 * 60))
        created_at = min(max(created_at, account.since + dt.timedelta(hours=1)), ctx.now)
        draft = JobDraft(
            customer_id=account.customer_id,
            location_id=site.location_id,
            service_type=ctx.service_types[code],
            equipment_id=site.equipment_id(spec.equipment),
            description=describe(spec, rng, member=account.member),
            status=Job.Status.REQUESTED,
            source=source,
            created_at=created_at,
            priority=priority_for(spec, ctx.today.month, rng),
            customer_preference=rng.choice(data.CUSTOMER_PREFERENCES),
            created_by_id=ctx.dispatcher_id if source == Source.STAFF else None,
        )
        if source == Source.AI_CALL:
            duration = rng.randint(80, 200)
            problem = spoken_name(draft.description)
            draft.call = CallDraft(
                call_sid=sid("CA", rng),
                from_number=account.phone,
                customer_id=account.customer_id,
                started_at=created_at - dt.timedelta(seconds=duration),
                duration_seconds=duration,
                outcome=CallSession.Outcome.NO_BOOKING,
                outcome_reason="Caller will call back to pick a time.",
                priority=draft.priority,
                lead_score=rng.randint(40, 80),
                summary=(
                    f"{account.display_name} reported: {problem}. Wants "
                    f"'{draft.customer_preference}' and will call back to confirm a time."
                ),
                turns=[
                    ("greeting", "", "", f"Thanks for calling {data.ORG_NAME}. How can I help?"),
                    (
                        "describe_need",
                        f"Hi, {problem}.",
                        "describe_problem",
                        "I can get someone out. Would you like the first available opening?",
                    ),
                    (
                        "offer_slots",
                        f"I need to check my schedule, {draft.customer_preference} is best.",
                        "defer",
                        "No problem, I've noted that. Call us back or reply to our text any time.",
                    ),
                ],
            )
        drafts.append(draft)
    return drafts
