"""`python manage.py dedupe_csv IN.csv OUT.csv`: cluster the customers of a CSV file (for example
an export from an old CRM, before importing it) with the same matcher the app uses on intake.

Input columns (any of; others are ignored): id, first_name, last_name, phone, email, street,
city, state, zip (also company_name, phone2). Output: `id,cluster_id`, one row per input row in
input order; rows of one person share a cluster id (the id of the cluster's first row).
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from customers.dedupe import dedupe_records
from customers.matching import record_from_row
from dispatchnode.core.progress import ProgressBar

KNOWN = {
    "id",
    "first_name",
    "last_name",
    "phone",
    "phone2",
    "email",
    "street",
    "city",
    "state",
    "zip",
    "company_name",
}


class Command(BaseCommand):
    help = "Cluster the customers of a CSV file into people: writes id,cluster_id."

    def add_arguments(self, parser):
        parser.add_argument("input", type=Path)
        parser.add_argument("output", type=Path)
        parser.add_argument(
            "--threshold",
            type=float,
            default=0.95,
            help="probability from which two rows are the same person (default 0.95)",
        )
        parser.add_argument("--region", default="US", help="default country of phone numbers")

    def handle(self, *args, input: Path, output: Path, threshold: float, region: str, **options):
        if not 0 < threshold <= 1:
            raise CommandError("--threshold must be above 0 and at most 1.")
        try:
            with input.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                columns = {(c or "").strip().lower() for c in reader.fieldnames or []}
                if not columns & KNOWN - {"id"}:
                    raise CommandError(
                        f"{input} has none of the columns {', '.join(sorted(KNOWN))} "
                        f"(found: {', '.join(sorted(columns)) or 'no header'})."
                    )
                rows = [
                    {(k or "").strip().lower(): (v or "") for k, v in row.items()} for row in reader
                ]
        except FileNotFoundError as exc:
            raise CommandError(f"{input} does not exist.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{input} is not UTF-8 text: {exc}.") from exc
        except csv.Error as exc:
            raise CommandError(f"{input} is not a readable CSV file: {exc}.") from exc

        ids = [row.get("id") or str(number) for number, row in enumerate(rows, start=1)]
        if len(set(ids)) != len(ids):
            raise CommandError(f"{input} repeats ids; every row needs its own id.")
        progress = ProgressBar(self.stderr._out)
        records = []
        for number, row in enumerate(rows):
            records.append(record_from_row(row, key=ids[number], region=region))
            if number % 1000 == 0 or number == len(rows) - 1:
                progress("normalising", number + 1, len(rows))
        result = dedupe_records(
            records, auto_threshold=threshold, review_threshold=threshold, progress=progress
        )
        owner = result.cluster_of(len(records))
        with output.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "cluster_id"])
            for index, record_id in enumerate(ids):
                writer.writerow([record_id, ids[owner[index]]])
        people = len(set(owner))
        self.stdout.write(
            f"{len(rows)} rows → {people} people ({len(rows) - people} duplicate rows in "
            f"{len(result.clusters)} clusters); wrote {output}."
        )
