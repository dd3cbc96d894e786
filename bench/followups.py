"""The follow-up scan at scale: an organisation with 100,000 customers and 20,000 completed jobs.

    DATABASE_URL=postgres://... .venv/bin/python bench/followups.py [--customers 100000]
        [--jobs 20000]

Builds the data once with `bulk_create` (organisation `bench-followups`, reused on later runs,
its follow-ups deleted before each measurement), then, in a fresh process so the memory figure
is the scan's own, runs `followups_scan` and `followups_send` (until nothing is due) at local
noon and prints seconds and peak resident memory. Target: ≤ 10 s and ≤ 300 MB on PostgreSQL.
Call `measure(organization)` from Python for the same figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bench._common  # noqa: F401  (DEBUG=1 unless chosen)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")
SLUG = "bench-followups"
CHUNK = 5000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_now(organization) -> dt.datetime:
    """Noon, local time, on a fixed day: daytime, so what is due is sent."""
    return dt.datetime(2026, 6, 15, 12, tzinfo=zoneinfo.ZoneInfo(organization.timezone))


def build(*, customers: int, jobs: int):
    """The organisation with `customers` customers (one phone each) and `jobs` jobs completed
    over the year before `bench_now`, one a day-slice apart; built once."""
    from bookings.models import Job, ServiceType
    from customers.models import ContactPoint, Customer, ServiceLocation
    from dispatchnode.accounts.models import Organization

    organization = Organization.objects.filter(slug=SLUG).first()
    if organization is not None:
        return organization
    organization = Organization.objects.create(
        name="Bench Heating", slug=SLUG, office_phone="+15125550199"
    )
    service = ServiceType.objects.create(
        organization=organization,
        code="ac-repair",
        name="AC repair",
        category="hvac",
        kind="repair",
    )
    for start in range(0, customers, CHUNK):
        rows = Customer.objects.bulk_create(
            Customer(organization=organization, first_name=f"Pat{n}", last_name="Bench")
            for n in range(start, min(customers, start + CHUNK))
        )
        ContactPoint.objects.bulk_create(
            ContactPoint(
                organization=organization,
                customer=c,
                kind="phone",
                value=f"+1512{2000000 + i + start:07d}",
                is_primary=True,
            )
            for i, c in enumerate(rows)
        )
    customer_ids = list(
        Customer.objects.filter(organization=organization)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    end = bench_now(organization)
    step = dt.timedelta(days=365) / jobs
    for start in range(0, jobs, CHUNK):
        batch = range(start, min(jobs, start + CHUNK))
        locations = ServiceLocation.objects.bulk_create(
            ServiceLocation(
                organization=organization,
                customer_id=customer_ids[n * 5 % len(customer_ids)],
                raw_address=f"{n} Main St, Austin, TX",
                street=f"{n} Main St",
                city="Austin",
                state="TX",
                postal_code="78701",
            )
            for n in batch
        )
        Job.objects.bulk_create(
            Job(
                organization=organization,
                number=f"B-{n}",
                customer_id=loc.customer_id,
                location=loc,
                service_type=service,
                status=Job.Status.COMPLETED,
                completed_at=end - step * n,
            )
            for n, loc in zip(batch, locations, strict=True)
        )
    return organization


def measure(organization) -> tuple[float, float, int, int, float]:
    """Scan and send what is due for `organization`:
    (seconds, peak MB, scheduled, sent, seconds of the scan alone)."""
    from customers.followups import followups_scan, followups_send
    from customers.models import FollowUp

    FollowUp.objects.filter(organization=organization).delete()
    now = bench_now(organization)
    started = time.perf_counter()
    scheduled = followups_scan(now=now, organization=organization)
    scan_seconds = time.perf_counter() - started
    sent = 0
    while True:
        result = followups_send(now=now, organization=organization, batch=500)
        done = result.sent + result.skipped + result.cancelled + result.failed
        sent += result.sent
        if done == 0:
            break
    return time.perf_counter() - started, peak_mb(), scheduled, sent, scan_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from dispatchnode.accounts.models import Organization

    if args.measure:
        seconds, peak, scheduled, sent, scan = measure(Organization.objects.get(slug=SLUG))
        print(
            f"follow-up scan + send: {seconds:.2f} s (scan {scan:.2f} s), peak RSS {peak:.0f} MB; "
            f"{scheduled} scheduled, {sent} sent"
        )
        return
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build(customers=args.customers, jobs=args.jobs)
    print(f"data ready in {time.perf_counter() - started:.1f} s")
    subprocess.run([sys.executable, __file__, "--measure"], check=True)


if __name__ == "__main__":
    main()
