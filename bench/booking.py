"""Latency of `appointment_book` without contention (one client, one booking at a time).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dispatchnode_bench DEBUG=1 \\
        .venv/bin/python bench/booking.py [--technicians 30] [--bookings 400]

Builds a fresh organisation `bench-booking-<unix time>` in whatever DATABASE_URL names:
N HVAC technicians working Mon-Fri 08:00-17:00 in Chicago, a 1-hour service, one job per
booking at scattered Austin addresses. Then books each job in a free (technician, start) of the
next two weeks, one after another, each in its own transaction as the API does, and prints
p50 / p95 / p99 in ms, bookings per second and the queries per booking. The slot search is
measured by its own bench; the (technician, start) pairs here are chosen without it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")

from bench._common import percentile

SLUG = "bench-booking"


def build(*, technicians: int, bookings: int, rng: random.Random):
    from bookings.models import Job, ServiceType, Skill, Technician, WorkingHours
    from customers.models import Customer, ServiceLocation
    from dispatchnode.accounts.models import Organization

    organization = Organization.objects.create(
        name="Bench Booking", slug=f"{SLUG}-{int(time.time())}", timezone="America/Chicago"
    )
    skill = Skill.objects.create(organization=organization, code="hvac", name="HVAC")
    service_type = ServiceType.objects.create(
        organization=organization,
        code="ac-repair",
        name="AC repair",
        category="hvac",
        kind="repair",
        default_duration_minutes=60,
        required_skill=skill,
    )
    crew = []
    for n in range(technicians):
        technician = Technician.objects.create(
            organization=organization,
            first_name=f"Tech{n}",
            home_latitude=Decimal("30.2672"),
            home_longitude=Decimal("-97.7431"),
        )
        technician.skills.add(skill)
        WorkingHours.objects.bulk_create(
            WorkingHours(
                organization=organization,
                technician=technician,
                weekday=day,
                start_time=dt.time(8),
                end_time=dt.time(17),
            )
            for day in range(5)
        )
        crew.append(technician)
    jobs = []
    for n in range(bookings):
        customer = Customer.objects.create(organization=organization, last_name=f"Bench{n}")
        location = ServiceLocation.objects.create(
            organization=organization,
            customer=customer,
            raw_address=f"{n} Bench St, Austin, TX",
            latitude=Decimal("30.2672") + Decimal(rng.randint(-300, 300)) / 10000,
            longitude=Decimal("-97.7431") + Decimal(rng.randint(-300, 300)) / 10000,
        )
        jobs.append(
            Job(
                organization=organization,
                number=f"B-{n}",
                customer=customer,
                location=location,
                service_type=service_type,
            )
        )
    Job.objects.bulk_create(jobs)
    return organization, crew, jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--technicians", type=int, default=30)
    parser.add_argument("--bookings", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bookings.services import appointment_book

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    organization, crew, jobs = build(technicians=args.technicians, bookings=args.bookings, rng=rng)
    tz = organization.tzinfo
    today = timezone.now().astimezone(tz).date()
    days = [
        today + dt.timedelta(days=d)
        for d in range(2, 14)
        if (today + dt.timedelta(days=d)).weekday() < 5
    ]
    # Two-hour spacing leaves room for the drive between scattered addresses.
    free = [
        (technician, dt.datetime.combine(day, dt.time(hour), tzinfo=tz))
        for technician in crew
        for day in days
        for hour in (8, 10, 12, 14)
    ]
    rng.shuffle(free)
    if len(free) < len(jobs):
        raise SystemExit(f"only {len(free)} free slots for {len(jobs)} bookings")

    samples, queries, refused = [], [], 0
    began = time.perf_counter()
    for job, (technician, start) in zip(jobs, free, strict=False):
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            try:
                appointment_book(job=job, technician=technician, start=start)
            except Exception as exc:  # a refused pick is reported, not timed
                refused += 1
                print(f"refused {technician} {start:%a %H:%M}: {exc}")
                continue
            samples.append((time.perf_counter() - t0) * 1000)
        queries.append(len(captured.captured_queries))
    elapsed = time.perf_counter() - began

    print(
        f"{connection.vendor}: {len(samples)} bookings, {args.technicians} technicians, "
        f"{refused} refused\n"
        f"booking latency ms: p50 {percentile(samples, 0.5):.1f}  "
        f"p95 {percentile(samples, 0.95):.1f}  p99 {percentile(samples, 0.99):.1f}\n"
        f"{len(samples) / elapsed:.0f} bookings/s (one client), "
        f"{sum(queries) / len(queries):.0f} queries per booking"
    )


if __name__ == "__main__":
    main()
