"""Invoicing figures: completion → invoice server time, and the follow-up scan at scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dn_bench_invoicing DEBUG=1 \\
        .venv/bin/python bench/invoicing.py [--completions 200] [--customers 100000] \\
        [--jobs 20000] [--skip-scan]

1. Completion: `POST /api/v1/jobs/{id}/complete/` with two price-book lines, through the whole
   Django stack in-process (token auth, tenancy, the service, the invoice and its email and SMS
   queued in the same transaction; the outbox relay is not part of the request in queue mode),
   on the demo organisation. p50 / p95 / p99 ms and queries per completion. Target p95 <= 100 ms.
2. The follow-up scan (`bench/followups.py`): an organisation with `--customers` customers and
   `--jobs` completed jobs; seconds and peak memory to find and queue what is due. Target
   <= 10 s and <= 300 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")

from bench._common import demo_organization, percentile

TARGET_P95_MS = 100.0


def completion_bench(organization, *, completions: int) -> tuple[float, float, float, int]:
    """(p50, p95, p99 ms, queries of one completion) over `completions` jobs."""
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from bookings.models import Job
    from customers.models import ContactPoint
    from dispatchnode.accounts.services import api_token_issue
    from invoicing.models import PriceBookItem

    settings.CELERY_TASK_ALWAYS_EAGER = False  # queue mode: the relay runs in a worker
    customer_id = ContactPoint.objects.get(
        organization=organization, kind="phone", value="+15125550142"
    ).customer_id
    template = Job.objects.filter(organization=organization, customer_id=customer_id).first()
    items = list(
        PriceBookItem.objects.filter(organization=organization, is_active=True).order_by("id")[:2]
    )
    jobs = []
    base = Job.objects.filter(organization=organization).count()
    for n in range(completions + 1):
        jobs.append(
            Job.objects.create(
                organization=organization,
                number=f"J-B{base + n}-{time.time_ns() % 10**8}",
                customer_id=customer_id,
                location_id=template.location_id,
                service_type_id=template.service_type_id,
                description="Bench completion",
                status=Job.Status.IN_PROGRESS,
            )
        )
    token = api_token_issue(organization=organization, name="bench invoicing", scopes=["*:write"])
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = {"notes": "Bench", "lines": [{"item": item.pk, "quantity": "1"} for item in items]}

    def complete(job) -> float:
        started = time.perf_counter()
        answer = client.post(f"/api/v1/jobs/{job.pk}/complete/", body, format="json")
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200 or not answer.json().get("invoice"):
            raise SystemExit(f"completion failed: {answer.status_code} {answer.content[:300]!r}")
        return elapsed

    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        complete(jobs[0])
    samples = []
    for index, job in enumerate(jobs[1:], start=1):
        samples.append(complete(job))
        if index % 50 == 0:
            print(f"  {index}/{completions} completions", flush=True)
    return (
        percentile(samples, 0.5),
        percentile(samples, 0.95),
        percentile(samples, 0.99),
        len(queries),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--completions", type=int, default=200)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--skip-scan", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    organization = demo_organization()
    p50, p95, p99, queries = completion_bench(organization, completions=args.completions)
    verdict = "OK" if p95 <= TARGET_P95_MS else "MISSED"
    print(
        f"completion → invoice ({args.completions} via the API): p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, p99 {p99:.1f} ms, {queries} queries  [target p95 <= "
        f"{TARGET_P95_MS:.0f} ms: {verdict}]"
    )
    if not args.skip_scan:  # its own process, so the memory figure is the scan's own
        followups = Path(__file__).resolve().parent / "followups.py"
        scale = ["--customers", str(args.customers), "--jobs", str(args.jobs)]
        subprocess.run([sys.executable, str(followups), *scale], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
