"""Time of each owner's report (`invoicing.selectors_reports`) on a large organisation.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dispatchnode_bench_reports DEBUG=1 \\
        .venv/bin/python bench/reports.py [--customers 100000] [--jobs 20000] [--runs 20]

Builds (once; reused when it already holds the counts) an organisation `bench-reports` with
`--customers` customers from every source and `--jobs` completed jobs spread over two years,
each with a paid invoice (one in ten partly refunded, one in twenty still open at some age),
then runs every report `--runs` times over the last twelve months and prints p50 / p95 in ms
and the queries each report made. Target: p95 <= 500 ms per report, queries constant.
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

TARGET_P95_MS = 500.0
SOURCES = ["ai_call", "ai_call", "ai_call", "staff", "staff", "online", "api", "import", "referral"]


def build(*, customers: int, jobs: int, seed: int):
    from django.core.management import call_command
    from django.utils import timezone

    from bookings.models import Job
    from customers.models import Customer, ServiceLocation
    from dispatchnode.accounts.models import Organization
    from invoicing.models import Invoice, Payment

    call_command("migrate", verbosity=0)
    org, _ = Organization.objects.get_or_create(
        slug="bench-reports", defaults={"name": "Bench reports", "timezone": "America/Chicago"}
    )
    if Job.objects.filter(organization=org).count() >= jobs:
        return org
    rng = random.Random(seed)
    have = Customer.objects.filter(organization=org).count()
    Customer.objects.bulk_create(
        [
            Customer(
                organization=org,
                first_name=f"F{n}",
                last_name=f"L{n}",
                source=rng.choice(SOURCES),
            )
            for n in range(have, customers)
        ],
        batch_size=5000,
    )
    people = list(Customer.objects.filter(organization=org).values_list("pk", flat=True))
    buyers = people[: max(1, jobs // 3)]  # about three jobs per buyer: repeats and cohorts
    ServiceLocation.objects.bulk_create(
        [
            ServiceLocation(organization=org, customer_id=pk, raw_address=f"{pk} Main St")
            for pk in buyers
        ],
        batch_size=5000,
    )
    where = dict(ServiceLocation.objects.filter(organization=org).values_list("customer_id", "pk"))
    today = timezone.localdate(timezone=org.tzinfo)
    tz = org.tzinfo
    made = []
    for n in range(jobs):
        who = rng.choice(buyers)
        when = dt.datetime.combine(
            today - dt.timedelta(days=rng.randrange(730)), dt.time(10), tzinfo=tz
        )
        made.append(
            Job(
                organization=org,
                number=f"B-{n:06d}",
                customer_id=who,
                location_id=where[who],
                status=Job.Status.CLOSED,
                source=rng.choice(SOURCES),
                completed_at=when,
            )
        )
    made = Job.objects.bulk_create(made, batch_size=5000)
    invoices, payments = [], []
    for n, job in enumerate(made):
        total = Decimal(rng.randrange(90, 900))
        open_ = n % 20 == 0
        invoices.append(
            Invoice(
                organization=org,
                number=f"BI-{n:06d}",
                customer_id=job.customer_id,
                job=job,
                status=Invoice.Status.SENT if open_ else Invoice.Status.PAID,
                subtotal=total,
                total=total,
                amount_paid=Decimal(0) if open_ else total,
                issued_at=job.completed_at,
                due_date=job.completed_at.date() + dt.timedelta(days=30),
            )
        )
    invoices = Invoice.objects.bulk_create(invoices, batch_size=5000)
    for n, invoice in enumerate(invoices):
        if invoice.status == Invoice.Status.PAID:
            refunded = (invoice.total / 4).quantize(Decimal("0.01")) if n % 10 == 0 else 0
            payments.append(
                Payment(
                    organization=org,
                    invoice=invoice,
                    amount=invoice.total,
                    refunded_amount=refunded,
                    received_at=invoice.issued_at + dt.timedelta(days=2),
                )
            )
    Payment.objects.bulk_create(payments, batch_size=5000)
    return org


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.utils import timezone

    from dispatchnode.core.scoping import tenant_unscoped
    from invoicing import selectors_reports as reports

    settings.DEBUG = True  # count queries
    with tenant_unscoped("the benchmark builds and reads its own organisation"):
        started = time.perf_counter()
        org = build(customers=args.customers, jobs=args.jobs, seed=args.seed)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"database: {connection.vendor}; built in {time.perf_counter() - started:.0f} s")
        today = timezone.localdate(timezone=org.tzinfo)
        start, end = reports.default_period(today=today)
        span = {"organization": org, "start": start, "end": end}
        runs = {
            "revenue by source (months)": lambda: reports.revenue_by_source(**span),
            "revenue by source (weeks)": lambda: reports.revenue_by_source(**span, bucket="week"),
            "customer lifetime value": lambda: reports.customer_lifetime_value(organization=org),
            "repeat-customer rate": lambda: reports.repeat_customer_rate(**span),
            "retention by cohort": lambda: reports.retention_by_cohort(**span),
            "receivables by age": lambda: reports.receivables_by_age(organization=org, today=today),
        }
        met = True
        print(f"  {'report':28s} {'p50 ms':>7s} {'p95 ms':>7s} {'queries':>7s}  target")
        for label, run in runs.items():
            samples = []
            for _ in range(args.runs):
                reset_queries()
                began = time.perf_counter()
                run()
                samples.append((time.perf_counter() - began) * 1000)
                queries = len(connection.queries)
            p95 = percentile(samples, 0.95)
            met &= p95 <= TARGET_P95_MS
            verdict = "met" if p95 <= TARGET_P95_MS else "MISSED"
            print(
                f"  {label:28s} {percentile(samples, 0.5):7.1f} {p95:7.1f} {queries:7d}  {verdict}"
            )
        print(f"targets met: {'yes' if met else 'no'}")


if __name__ == "__main__":
    main()
