"""Server time and SQL queries per Twilio webhook turn of the phone agent, with 100,000 customers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dispatchnode_bench DEBUG=1 \\
        .venv/bin/python bench/voice_turn.py [--customers 100000] [--calls 40]

Seeds the demo organisation in whatever DATABASE_URL names (when missing), tops its customers up
to `--customers` with generated ones (kept for the next run), gives one caller a long history
(300 completed jobs), then plays whole calls through the real webhooks in-process (signed like
Twilio, TwiML followed): returning callers who book (John Smith, and the long-history caller),
new callers who give name, address and number and book, and an emergency transfer. Each
webhook request is timed from the request to the TwiML (Django's test client, no network) and
its SQL queries counted. With REDIS_URL set (production) the outbox is left to the workers;
without it (embedded mode) each request also delivers its outbox events after commit, texts
included (console backend under DEBUG=1), and the figures include that. Prints p50 / p95 /
p99 per kind of turn and overall, and the largest query count per kind of turn for a short
and a long history, which must be equal. Query logging is off, as in production.

The bookings a round makes are removed after it (untimed), so every round books into the same
schedule; the run's jobs, calls and customers are deleted at the end, so runs repeat.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")

from bench._common import demo_organization, percentile

HEAVY_PHONE = "+15125550166"
HEAVY_JOBS = 300
OUR_NUMBER = "+15125550100"
ATTESTED = "TN-Validation-Passed-A"

RETURNING = ("Yes, same place.", "My air conditioner is blowing warm air.", "The first one.", "No.")
NEW_CALLER = (
    "My water heater is leaking from the bottom.",
    "{name}.",
    "{number} Duval Street, Austin, Texas 78751.",
    "Yes, that's right.",
    "Yes, this number is fine.",
    "The second one, please.",
    "No, thank you.",
)
EMERGENCY = ("Yes.", "I smell gas near my furnace.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=40, help="calls of each kind")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from twilio.request_validator import RequestValidator

    from bench.customer_match_latency import load
    from bookings.models import Appointment, CallSession, Job
    from customers.hygiene.synthetic import CustomerGenerator
    from customers.models import ContactPoint, Customer
    from dispatchnode.core.models import OutboxEvent
    from dispatchnode.core.progress import ProgressBar

    organization = demo_organization()
    have = Customer.objects.filter(organization=organization).count()
    if have < args.customers:
        taken = set(
            ContactPoint.objects.filter(organization=organization).values_list("value", flat=True)
        )
        rows = [
            row
            for row in CustomerGenerator(seed=args.seed).records(args.customers - have + 500)
            if row.phone not in taken and row.phone2 not in taken
        ][: args.customers - have]
        started = time.perf_counter()
        load(organization, rows, progress=ProgressBar())
        print(f"loaded {len(rows)} customers in {time.perf_counter() - started:.0f} s")
    heavy = _long_history_caller(organization, jobs=HEAVY_JOBS)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # the previous run deleted what it made
    total = Customer.objects.filter(organization=organization).count()
    print(
        f"{connection.vendor}: {total} customers in {organization.name!r}, "
        f"{heavy.jobs.count()} jobs for the long-history caller"
    )

    client = Client()
    validator = RequestValidator(settings.DEMO_TWILIO_AUTH_TOKEN)
    started_at = dt.datetime.now(dt.UTC)
    timings: dict[str, list[float]] = defaultdict(list)
    queries: dict[tuple[str, str], int] = defaultdict(int)

    # Production does not log every query (DEBUG=0); count them with a wrapper instead, which
    # costs next to nothing.
    settings.DEBUG = False
    executed = [0]

    def count(execute, sql, params, many, context):
        executed[0] += 1
        return execute(sql, params, many, context)

    def post(path: str, params: dict[str, str], *, kind: str, history: str) -> str:
        signature = validator.compute_signature(f"http://testserver{path}", params)
        executed[0] = 0
        with connection.execute_wrapper(count):
            begun = time.perf_counter()
            response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
            elapsed = (time.perf_counter() - begun) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]}")
        timings[kind].append(elapsed)
        queries[(kind, history)] = max(queries[(kind, history)], executed[0])
        return response.content.decode()

    def play(n: int, caller: str, answers: tuple[str, ...], *, history: str, stir: str) -> None:
        sid = f"CA{n:032x}"
        params = {
            "CallSid": sid,
            "AccountSid": organization.twilio_account_sid,
            "From": caller,
            "To": OUR_NUMBER,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            "StirVerstat": stir,
        }
        twiml = post("/twilio/voice/incoming", params, kind="greeting", history=history)
        state = "greeting"
        for said in answers:
            action = re.search(r'<Gather action="([^"]+)"', twiml)
            if action is None:
                break
            state = CallSession.objects.values_list("state", flat=True).get(call_sid=sid)
            turn = {**params, "CallStatus": "in-progress", "SpeechResult": said}
            turn["Confidence"] = "0.9"
            twiml = post(action.group(1).replace("&amp;", "&"), turn, kind=state, history=history)
        status = {**params, "CallStatus": "completed", "CallDuration": "95"}
        post("/twilio/voice/status", status, kind="status callback", history=history)

    used = set(
        ContactPoint.objects.filter(
            organization=organization, value__startswith="+1737555"
        ).values_list("value", flat=True)
    )
    fresh = [n for n in (f"+1737555{k:04d}" for k in range(2000, 9999)) if n not in used]
    progress = ProgressBar()
    kinds = 4
    for i in range(args.calls):
        play(4 * i, "+15125550142", RETURNING, history="short", stir=ATTESTED)
        play(4 * i + 1, HEAVY_PHONE, RETURNING, history="long", stir=ATTESTED)
        answers = tuple(
            a.format(name=f"Pat Benchley{_letters(i)}", number=4500 + 2 * i) for a in NEW_CALLER
        )
        play(4 * i + 2, fresh[i], answers, history="new", stir=ATTESTED)
        play(4 * i + 3, "+15125550142", EMERGENCY, history="short", stir=ATTESTED)
        # Free the calendar again (untimed), so every round books into the same schedule.
        Appointment.objects.filter(
            organization=organization, job__source="ai_call", job__created_at__gte=started_at
        ).delete()
        progress("calls", (i + 1) * kinds, args.calls * kinds)

    every = [t for samples in timings.values() for t in samples]
    print(f"\n{len(every)} webhook requests, {args.calls * kinds} calls")
    print(f"{'turn (state before it)':28} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind, samples in sorted(timings.items(), key=lambda kv: -percentile(kv[1], 0.95)):
        print(
            f"{kind:28} {len(samples):5d} {percentile(samples, 0.5):8.1f} "
            f"{percentile(samples, 0.95):8.1f} {percentile(samples, 0.99):8.1f}"
        )
    print(
        f"{'all turns':28} {len(every):5d} {percentile(every, 0.5):8.1f} "
        f"{percentile(every, 0.95):8.1f} {percentile(every, 0.99):8.1f}"
    )
    print("\nSQL queries per turn (max), by history length of the caller:")
    print(f"{'turn':28} {'short':>6} {'long':>6} {'new':>6}")
    for kind in sorted({k for k, _ in queries}):
        row = [queries.get((kind, h)) for h in ("short", "long", "new")]
        print(f"{kind:28} " + " ".join(f"{q if q is not None else '-':>6}" for q in row))
    same = all(
        queries[(k, "short")] == queries[(k, "long")]
        for k, h in queries
        if h == "short" and (k, "long") in queries
    )
    print(f"short and long history need the same queries: {'yes' if same else 'NO'}")

    outcomes = Counter(
        CallSession.objects.filter(
            organization=organization, created_at__gte=started_at
        ).values_list("outcome", flat=True)
    )
    print("call outcomes: " + ", ".join(f"{k or 'open'} {v}" for k, v in sorted(outcomes.items())))
    reasons = Counter(
        CallSession.objects.filter(organization=organization, created_at__gte=started_at)
        .exclude(outcome=CallSession.Outcome.BOOKED)
        .values_list("outcome_reason", flat=True)
    )
    for reason, n in reasons.most_common(5):
        print(f"  {n:4d} × {reason}")

    # Leave the database as it was: the run's bookings freed, its calls gone.
    jobs = Job.objects.filter(
        organization=organization, source="ai_call", created_at__gte=started_at
    )
    Appointment.objects.filter(job__in=jobs).delete()
    jobs.delete()
    CallSession.objects.filter(organization=organization, created_at__gte=started_at).delete()
    OutboxEvent.objects.filter(organization=organization, created_at__gte=started_at).delete()
    Customer.objects.filter(organization=organization, last_name__startswith="Benchley").delete()


def _letters(i: int) -> str:
    """A distinct surname suffix per call, so every new caller is a new customer."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def _long_history_caller(organization, *, jobs: int):
    """A customer with `jobs` completed jobs at one address (created once, kept)."""
    from django.utils import timezone

    from bookings.models import Job, ServiceType
    from customers.intake import customer_find_or_create
    from customers.models import Customer

    existing = Customer.objects.filter(
        organization=organization, contacts__value=HEAVY_PHONE
    ).first()
    if existing is not None and existing.jobs.count() >= jobs:
        return existing
    customer = (
        existing
        or customer_find_or_create(
            organization=organization,
            first_name="Harriet",
            last_name="Longhistory",
            phone=HEAVY_PHONE,
            address="880 West Lynn Street, Austin, TX 78703",
        ).customer
    )
    location = customer.locations.first()
    service = ServiceType.objects.filter(organization=organization, code="ac-tune-up").first()
    now = timezone.now()
    Job.objects.bulk_create(
        Job(
            organization=organization,
            number=f"H-{customer.pk}-{n}",
            customer=customer,
            location=location,
            service_type=service,
            description="Seasonal tune-up",
            work_notes="Cleaned coils, checked refrigerant, replaced filter.",
            status=Job.Status.COMPLETED,
            completed_at=now - dt.timedelta(days=30 + 20 * n),
        )
        for n in range(jobs - customer.jobs.count())
    )
    return customer


if __name__ == "__main__":
    main()
