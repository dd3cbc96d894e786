"""Latency of the foundation's read API against the seeded demo company.

    DEBUG=1 .venv/bin/python bench/api_reads.py [--requests 300]

Uses whatever DATABASE_URL names (SQLite under var/ by default), seeds the demo if it is missing,
and drives the real stack in-process (token auth, tenancy, DRF, serializers, the database)
through Django's test client. Prints p50 / p95 / p99 per endpoint in milliseconds.
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
    parser.add_argument("--requests", type=int, default=300, help="requests per endpoint")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from dispatchnode.accounts.services import api_token_issue

    organization = demo_organization()
    key = api_token_issue(organization=organization, name="bench", scopes=["*:read"]).key

    today = timezone.localdate(timezone=organization.tzinfo).isoformat()
    endpoints = {
        "customer by phone (any format)": "/api/v1/customers/?phone=(512)%20555-0142",
        "customers page of 50": "/api/v1/customers/",
        "customer search 'smith'": "/api/v1/customers/?search=smith",
        "today's appointments": f"/api/v1/appointments/?date={today}",
        "jobs page of 100": "/api/v1/jobs/?page_size=100",
        "invoices page of 50": "/api/v1/invoices/",
    }
    client = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_HOST="localhost")
    print(
        f"database: {connection.vendor} ({settings.DATABASES['default']['NAME']}), "
        f"{args.requests} requests per endpoint, in-process"
    )
    print(f"{'endpoint':34} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'rows':>5}")
    for label, url in endpoints.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:200])
        rows = len(response.json()["results"])
        samples = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        print(
            f"{label:34} {statistics.median(samples):8.2f} {percentile(samples, 0.95):8.2f} "
            f"{percentile(samples, 0.99):8.2f} {rows:5d}"
        )


if __name__ == "__main__":
    main()
