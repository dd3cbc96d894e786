"""Latency and query count of the phone agent's caller context against the seeded demo company.

    DEBUG=1 .venv/bin/python bench/caller_context.py [--calls 300]

Uses whatever DATABASE_URL names (SQLite under var/ by default) and seeds the demo if it is
missing. Times `caller_context` for John Smith, William Jenkins, the customer with the longest
history, and an unknown number, plus the REST lookup in-process (token auth, DRF, serializer).
Prints p50 / p95 / p99 in milliseconds and the SQL queries per call, which must not grow with
the customer's history.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")

from bench._common import demo_organization, percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per caller")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bookings.voice.context import caller_context
    from customers.models import ContactPoint, Customer
    from dispatchnode.accounts.services import api_token_issue

    organization = demo_organization()
    if connection.vendor == "postgresql":
        # Fresh planner statistics, as autovacuum keeps them in production: right after a seed
        # PostgreSQL believes the tables are empty and picks nested loops over seq scans.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    busiest = (
        Customer.objects.filter(
            organization=organization, merged_into__isnull=True, contacts__kind="phone"
        )
        .annotate(jobs_count=Count("jobs", distinct=True))
        .order_by("-jobs_count", "id")
        .first()
    )
    busiest_phone = (
        ContactPoint.objects.filter(customer=busiest, kind="phone").values_list("value", flat=True)
    )[0]
    callers = {
        "John Smith (512) 555-0142": "(512) 555-0142",
        "William Jenkins +15125550177": "+15125550177",
        f"busiest customer ({busiest.jobs_count} jobs)": busiest_phone,
        "unknown number": "+15125550198",
    }
    print(
        f"database: {connection.vendor} ({settings.DATABASES['default']['NAME']}), "
        f"{args.calls} calls per caller, in-process"
    )
    print(f"{'caller_context':40} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'queries':>8}")
    for label, phone in callers.items():
        with CaptureQueriesContext(connection) as queries:
            caller_context(organization=organization, phone=phone)
        samples = []
        for _ in range(args.calls):
            started = time.perf_counter()
            caller_context(organization=organization, phone=phone)
            samples.append((time.perf_counter() - started) * 1000)
        print(
            f"{label:40} {statistics.median(samples):8.2f} {percentile(samples, 0.95):8.2f} "
            f"{percentile(samples, 0.99):8.2f} {len(queries.captured_queries):8d}"
        )

    key = api_token_issue(organization=organization, name="bench", scopes=["customers:read"]).key
    client = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_HOST="localhost")
    url = "/api/v1/customers/lookup/?phone=(512)%20555-0142"
    assert client.get(url).status_code == 200
    samples = []
    for _ in range(args.calls):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    label = "GET /api/v1/customers/lookup/ (John)"
    print(
        f"{label:40} {statistics.median(samples):8.2f} {percentile(samples, 0.95):8.2f} "
        f"{percentile(samples, 0.99):8.2f}"
    )


if __name__ == "__main__":
    main()
