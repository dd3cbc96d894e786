"""Latency of `slots_find` (the availability engine) over a busy fortnight.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dispatchnode_bench DEBUG=1 \\
        .venv/bin/python bench/slot_search.py [--searches 300]

Seeds organisation `bench-slots` (`--organization`) of whatever DATABASE_URL names, once: 30
technicians working 8-17 Monday to Saturday from homes around Austin, a few skills, and 2,000
appointments over the 14 days from Monday 2030-03-04 at customers spread across the city. Then
times `slots_find` from Sunday 2030-03-03 noon (the default 14-day horizon covers the data) for
random jobs: 60, 90 or 120 minutes, a third needing a skill, a fifth with a customer preference,
one in twenty an emergency. Prints p50 / p95 / p99 / max in ms and the queries per search.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
import zoneinfo
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")

from bench._common import percentile

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
FIRST_DAY = dt.date(2030, 3, 4)  # a Monday
NOW = dt.datetime(2030, 3, 3, 12, 0, tzinfo=CHICAGO)
AUSTIN = (30.2672, -97.7431)
TECHNICIANS, DAYS, APPOINTMENTS, LOCATIONS = 30, 14, 2000, 400
PREFERENCES = ("tomorrow morning", "Tuesday afternoon", "after 3", "next week", "Friday")


def near_austin(rng: random.Random) -> tuple[Decimal, Decimal]:
    """A point within about 20 km of downtown."""
    return (
        Decimal(f"{AUSTIN[0] + rng.uniform(-0.18, 0.18):.6f}"),
        Decimal(f"{AUSTIN[1] + rng.uniform(-0.2, 0.2):.6f}"),
    )


def seed(organization, rng: random.Random) -> None:
    from bookings.models import (
        Appointment,
        Job,
        ServiceType,
        Skill,
        Technician,
        WorkingHours,
    )
    from customers.models import Customer, ServiceLocation

    skills = [
        Skill.objects.create(organization=organization, code=code, name=code.title())
        for code in ("hvac", "plumbing", "electrical")
    ]
    services = [
        ServiceType.objects.create(
            organization=organization,
            code=f"service-{minutes}-{skill.code if skill else 'any'}",
            name=f"{minutes}-minute {skill.name if skill else 'visit'}",
            category="general",
            kind=ServiceType.Kind.REPAIR,
            default_duration_minutes=minutes,
            required_skill=skill,
        )
        for minutes in (60, 90, 120)
        for skill in (None, *skills)
    ]
    technicians = []
    for n in range(TECHNICIANS):
        lat, lon = near_austin(rng)
        technicians.append(
            Technician.objects.create(
                organization=organization,
                first_name=f"Tech{n:02d}",
                home_latitude=lat,
                home_longitude=lon,
            )
        )
        technicians[-1].skills.add(skills[n % 3])
    WorkingHours.objects.bulk_create(
        WorkingHours(
            organization=organization,
            technician=tech,
            weekday=weekday,
            start_time=dt.time(8),
            end_time=dt.time(17),
        )
        for tech in technicians
        for weekday in range(6)
    )
    customers = Customer.objects.bulk_create(
        Customer(organization=organization, first_name="Bench", last_name=f"Customer{n}")
        for n in range(LOCATIONS)
    )
    locations = ServiceLocation.objects.bulk_create(
        ServiceLocation(
            organization=organization,
            customer=customer,
            raw_address=f"{100 + n} Bench St, Austin, TX",
            latitude=lat,
            longitude=lon,
        )
        for n, customer in enumerate(customers)
        for lat, lon in [near_austin(rng)]
    )
    # Fill technician-days with visits (mostly an hour, 15 or 30 minutes apart for travel) until
    # 2,000 exist: about six a working day, the busy season.
    tech_days = [
        (tech, FIRST_DAY + dt.timedelta(days=d))
        for d in range(DAYS)
        if (FIRST_DAY + dt.timedelta(days=d)).weekday() < 6
        for tech in technicians
    ]
    rng.shuffle(tech_days)
    planned = []
    for tech, day in tech_days:
        clock = dt.datetime.combine(day, dt.time(8), tzinfo=CHICAGO)
        closing = dt.datetime.combine(day, dt.time(17), tzinfo=CHICAGO)
        for _ in range(rng.randrange(6, 10)):
            length = dt.timedelta(minutes=rng.choice((60, 60, 90)))
            if clock + length > closing:
                break
            planned.append((tech, clock, clock + length))
            clock += length + dt.timedelta(minutes=rng.choice((15, 30)))
    if len(planned) < APPOINTMENTS:
        raise SystemExit(f"only {len(planned)} visits fit; the bench needs {APPOINTMENTS}")
    planned = planned[:APPOINTMENTS]
    jobs = Job.objects.bulk_create(
        Job(
            organization=organization,
            number=f"B-{n:05d}",
            customer_id=location.customer_id,
            location=location,
            service_type=rng.choice(services),
            status=Job.Status.SCHEDULED,
        )
        for n in range(len(planned))
        for location in [rng.choice(locations)]
    )
    Appointment.objects.bulk_create(
        Appointment(
            organization=organization,
            job=job,
            technician=tech,
            start=start,
            end=end,
            arrival_window_start=start,
            arrival_window_end=start + dt.timedelta(hours=2),
        )
        for job, (tech, start, end) in zip(jobs, planned, strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--organization", default="bench-slots")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from bookings.availability import slots_find
    from bookings.models import Appointment, Job, ServiceType, Skill, Technician
    from bookings.preferences import preference_parse
    from customers.models import Customer, ServiceLocation
    from dispatchnode.accounts.models import Organization

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    organization, _ = Organization.objects.get_or_create(
        slug=args.organization,
        defaults={"name": f"Bench {args.organization}", "timezone": "America/Chicago"},
    )
    if Appointment.objects.filter(organization=organization).count() != APPOINTMENTS:
        started = time.perf_counter()
        with transaction.atomic():  # start over, dependants first (protected foreign keys)
            for model in (Appointment, Job, ServiceLocation, Customer, ServiceType, Technician):
                model.objects.filter(organization=organization).delete()
            Skill.objects.filter(organization=organization).delete()
            seed(organization, rng)
        print(f"seeded {APPOINTMENTS} appointments in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    services = list(ServiceType.objects.filter(organization=organization))
    locations = list(ServiceLocation.objects.filter(organization=organization)[:200])
    timings, queries, offered = [], [], 0
    for n in range(args.searches + 20):
        service = rng.choice(services)
        preference = (
            preference_parse(rng.choice(PREFERENCES), now=NOW, tz=CHICAGO)
            if rng.random() < 0.2
            else None
        )
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            slots = slots_find(
                organization=organization,
                service_type=service,
                location=rng.choice(locations),
                count=3,
                preference=preference,
                emergency=rng.random() < 0.05,
                now=NOW,
            )
            elapsed = (time.perf_counter() - started) * 1000
        if n >= 20:  # the first searches warm caches and connections
            timings.append(elapsed)
            queries.append(len(captured))
            offered += len(slots)
    print(
        f"slots_find over {TECHNICIANS} technicians, {DAYS} days, {APPOINTMENTS} appointments "
        f"({connection.vendor}), {len(timings)} searches, {offered / len(timings):.1f} slots each:"
    )
    print(
        f"  p50 {percentile(timings, 0.5):.1f} ms  p95 {percentile(timings, 0.95):.1f} ms  "
        f"p99 {percentile(timings, 0.99):.1f} ms  max {max(timings):.1f} ms; "
        f"{max(queries)} queries at most per search"
    )


if __name__ == "__main__":
    main()
