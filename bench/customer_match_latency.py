"""Latency of `customer_match` (the intake-time duplicate check) against a large customer base.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dispatchnode_bench DEBUG=1 \\
        .venv/bin/python bench/customer_match_latency.py [--customers 100000] [--queries 500]

Loads N generated field-service customers (names, phones, emails, normalised addresses, the
stored blocking keys) into organisation `bench-match` (`--organization`) of whatever
DATABASE_URL names (reused when it already holds N), then times `customer_match` for callers
the base has not seen: about half are the same people typed again, the rest are new. Prints
p50 / p95 / p99 in ms, the queries per call, and how many callers were recognised.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")

from bench._common import percentile


def load(organization, rows, *, progress) -> None:
    from customers.hygiene.addresses import address_normalize
    from customers.hygiene.emails import email_normalize
    from customers.hygiene.phones import phone_key
    from customers.intake import customer_refresh_name_key, location_set_address
    from customers.models import ContactPoint, Customer, ServiceLocation

    batch = 2000
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        customers = []
        for row in chunk:
            customer = Customer(
                organization=organization,
                first_name=row.first_name[:100],
                last_name=row.last_name[:100],
                source="import",
            )
            customer_refresh_name_key(customer)
            customers.append(customer)
        Customer.objects.bulk_create(customers)
        contacts, locations = [], []
        for customer, row in zip(customers, chunk, strict=True):
            for number, raw in enumerate((row.phone, row.phone2)):
                key = phone_key(raw) if raw else ""
                if key:
                    contacts.append(
                        ContactPoint(
                            organization=organization,
                            customer=customer,
                            kind="phone",
                            value=key,
                            is_primary=number == 0,
                        )
                    )
            email = email_normalize(row.email) if row.email else None
            if email and email.is_valid:
                contacts.append(
                    ContactPoint(
                        organization=organization,
                        customer=customer,
                        kind="email",
                        value=email.value,
                        is_primary=True,
                    )
                )
            location = ServiceLocation(
                organization=organization, customer=customer, is_primary=True
            )
            location_set_address(
                location,
                address_normalize(
                    street=row.street, city=row.city, state=row.state, postal_code=row.zip
                ),
            )
            locations.append(location)
        ContactPoint.objects.bulk_create(contacts, ignore_conflicts=True)
        ServiceLocation.objects.bulk_create(locations)
        progress("loading", start + len(chunk), len(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--organization",
        default="bench-match",
        help="slug of the organisation to load (then `manage.py dedupe --organization` it)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from customers.hygiene.addresses import address_normalize
    from customers.hygiene.synthetic import CustomerGenerator
    from customers.intake import customer_match
    from customers.matching import match_record
    from customers.models import Customer
    from dispatchnode.accounts.models import Organization
    from dispatchnode.core.progress import ProgressBar

    call_command("migrate", verbosity=0)
    rows = CustomerGenerator(seed=args.seed).records(args.customers + args.queries)
    stored, callers = rows[: args.customers], rows[args.customers :]
    organization, _ = Organization.objects.get_or_create(
        slug=args.organization, defaults={"name": f"Bench {args.organization}"}
    )
    have = Customer.objects.filter(organization=organization).count()
    if have != len(stored):
        Customer.objects.filter(organization=organization).delete()
        started = time.perf_counter()
        load(organization, stored, progress=ProgressBar())
        print(f"loaded {len(stored)} customers in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    seen_entities = {row.entity for row in stored}

    timings, queries, recognised, returning = [], [], 0, 0
    for row in callers:
        candidate = match_record(
            first_name=row.first_name,
            last_name=row.last_name,
            phones=[p for p in (row.phone, row.phone2) if p],
            emails=[row.email] if row.email else [],
            addresses=[
                address_normalize(
                    street=row.street, city=row.city, state=row.state, postal_code=row.zip
                )
            ],
        )
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            matches = customer_match(organization=organization, candidate=candidate, limit=1)
            timings.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured))
        returning += row.entity in seen_entities
        recognised += bool(matches and matches[0].probability >= 0.95)
    print(
        f"customer_match over {len(stored)} customers ({connection.vendor}), "
        f"{len(callers)} callers ({returning} returning):"
    )
    print(
        f"  p50 {percentile(timings, 0.5):.1f} ms  p95 {percentile(timings, 0.95):.1f} ms  "
        f"p99 {percentile(timings, 0.99):.1f} ms  max {max(timings):.1f} ms; "
        f"{max(queries)} queries at most per call"
    )
    print(f"  recognised at p >= 0.95: {recognised} of {returning} returning callers")


if __name__ == "__main__":
    main()
