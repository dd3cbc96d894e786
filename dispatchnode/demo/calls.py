"""What was said: booking-call transcripts, confirmation wording, and a few calls that booked
nothing (a price question, a caller who wanted a person, a gas smell, a wrong number)."""

from __future__ import annotations

import datetime as dt
import random

from bookings.models import CallSession, CallTurn, Job
from dispatchnode.demo import data
from dispatchnode.demo.accounts import Account, SiteRef
from dispatchnode.demo.context import SeedContext
from dispatchnode.demo.drafts import (
    BATCH,
    CallDraft,
    JobDraft,
    VisitDraft,
    call_row,
    sid,
    turn_rows,
)


def spoken_name(name: str) -> str:
    """Lower-case the first letter for use mid-sentence, unless it starts an acronym (AC, HVAC)."""
    first = name.split()[0]
    return name if first.isupper() else name[0].lower() + name[1:]


def clock(moment: dt.datetime) -> str:
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes} {'AM' if moment.hour < 12 else 'PM'}"


def slot_text(visit: VisitDraft, tz) -> str:
    opens, closes = (t.astimezone(tz) for t in visit.window)
    return f"{opens:%A}, {opens:%B} {opens.day} between {clock(opens)} and {clock(closes)}"


def booking_call(
    ctx: SeedContext, account: Account, site: SiteRef, draft: JobDraft, rng: random.Random
) -> CallDraft:
    spec = ctx.specs[draft.service_type.code]
    technician = ctx.technicians[draft.visit.technician_id]
    duration = rng.randint(95, 260)
    when = slot_text(draft.visit, ctx.tz)
    problem = spoken_name(draft.description)
    greeting = (
        f"Thanks for calling {data.ORG_NAME}. Hi {account.first_name}! "
        f"Is this about {site.street_line}?"
        if account.first_name
        else f"Thanks for calling {data.ORG_NAME}. Is this about {site.street_line}?"
    )
    return CallDraft(
        call_sid=sid("CA", rng),
        from_number=account.phone,
        customer_id=account.customer_id,
        started_at=draft.created_at - dt.timedelta(seconds=duration),
        duration_seconds=duration,
        outcome=CallSession.Outcome.BOOKED,
        priority=draft.priority,
        lead_score=rng.randint(55, 95),
        summary=(
            f"{account.display_name} called about: {problem}. Booked {spoken_name(spec.name)} "
            f"for {when} with {technician.first_name}."
        ),
        turns=[
            ("greeting", "", "", greeting),
            (
                "confirm_location",
                "Yes, that's the one.",
                "affirm",
                "Great. What can I help you with today?",
            ),
            (
                "describe_need",
                f"Yeah, {problem}.",
                "describe_problem",
                f"Sorry to hear that. The first opening I have is {when}. Does that work?",
            ),
            (
                "offer_slots",
                "Yes, that works.",
                "choose_slot",
                f"You're booked with {technician.first_name}. I'll text you a confirmation. "
                "Anything else I can help with?",
            ),
            (
                "wrap_up",
                "No, that's it. Thanks!",
                "goodbye",
                f"Thanks for calling {data.ORG_NAME}. Goodbye!",
            ),
        ],
    )


# --- Calls that did not book ----------------------------------------------------------------


def standalone_calls(*, ctx: SeedContext, accounts: list[Account]) -> int:
    """A price question, a caller who wanted a person, a gas smell and a wrong number."""
    existing = set(
        CallSession.objects.filter(organization=ctx.organization).values_list("call_sid", flat=True)
    )
    bookable = [a for a in accounts if not a.do_not_service]
    drafts = []
    for k, build in enumerate((_price_question, _wants_a_person, _gas_smell, _wrong_number)):
        rng = random.Random(f"{data.SEED}:call:{k}")
        call_sid = sid("CA", rng)
        if call_sid in existing:
            continue
        account = rng.choice(bookable) if bookable else None
        started_at = ctx.now - dt.timedelta(days=k + 1, minutes=rng.randint(0, 8 * 60))
        draft = build(account, rng)
        draft.call_sid, draft.started_at = call_sid, started_at
        drafts.append(draft)
    calls = [call_row(ctx, d, job=None) for d in drafts]
    CallSession.objects.bulk_create(calls, batch_size=BATCH)
    turns = [
        turn for d, call in zip(drafts, calls, strict=True) for turn in turn_rows(ctx, d, call)
    ]
    CallTurn.objects.bulk_create(turns, batch_size=BATCH)
    return len(calls)


def _base(account: Account | None, rng: random.Random, **fields) -> CallDraft:
    return CallDraft(
        call_sid="",
        from_number=account.phone if account else "+12145550163",
        customer_id=account.customer_id if account else None,
        started_at=dt.datetime.min,
        duration_seconds=rng.randint(40, 150),
        **fields,
    )


def _hello(account: Account | None) -> str:
    name = f" Hi {account.first_name}!" if account and account.first_name else ""
    return f"Thanks for calling {data.ORG_NAME}.{name} How can I help you today?"


def _price_question(account, rng) -> CallDraft:
    return _base(
        account,
        rng,
        outcome=CallSession.Outcome.NO_BOOKING,
        outcome_reason="Price question only.",
        lead_score=35,
        summary="Asked what an AC tune-up costs ($129, flat rate); will call back to book.",
        turns=[
            ("greeting", "", "", _hello(account)),
            (
                "describe_need",
                "How much is a tune-up for my AC?",
                "price_question",
                "An AC tune-up is $129, flat rate. Would you like me to book that?",
            ),
            (
                "offer_slots",
                "Not right now, I'll call back.",
                "decline",
                "Sounds good. Thanks for calling!",
            ),
        ],
    )


def _wants_a_person(account, rng) -> CallDraft:
    return _base(
        account,
        rng,
        outcome=CallSession.Outcome.TRANSFERRED,
        outcome_reason="Caller asked for a person.",
        lead_score=50,
        summary="Asked to speak to someone in the office about a quote; transferred.",
        turns=[
            ("greeting", "", "", _hello(account)),
            (
                "describe_need",
                "Can I talk to someone in the office about my quote?",
                "human",
                "Of course, let me connect you with the office.",
            ),
        ],
    )


def _gas_smell(account, rng) -> CallDraft:
    return _base(
        account,
        rng,
        outcome=CallSession.Outcome.TRANSFERRED,
        priority=Job.Priority.EMERGENCY,
        outcome_reason="Gas smell: safety instructions given, transferred to on-call.",
        lead_score=90,
        summary="Smelled gas near the water heater. Told to leave the house now and call the gas "
        "company or 911 from outside; transferred to the on-call technician.",
        turns=[
            ("greeting", "", "", _hello(account)),
            (
                "describe_need",
                "I smell gas in the laundry room by the water heater.",
                "describe_problem",
                "Please leave the house now, don't switch anything on or off, and call the gas "
                "company or 911 from outside. I'm connecting you to our on-call technician.",
            ),
        ],
    )


def _wrong_number(account, rng) -> CallDraft:
    return _base(
        None,
        rng,
        outcome=CallSession.Outcome.NO_BOOKING,
        outcome_reason="Wrong number.",
        lead_score=0,
        summary="Caller was looking for a pizza place; wrong number.",
        turns=[
            ("greeting", "", "", _hello(None)),
            (
                "describe_need",
                "Is this Tony's Pizza?",
                "other",
                f"No, this is {data.ORG_NAME}, a heating, air and plumbing company. Goodbye!",
            ),
        ],
    )
