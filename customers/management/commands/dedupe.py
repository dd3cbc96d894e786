"""`python manage.py dedupe --organization demo [--review-only]`: find and merge duplicate
customers across one organisation, queueing uncertain pairs for review, with progress."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from customers.services import organization_dedupe
from dispatchnode.accounts.models import Organization
from dispatchnode.core.progress import ProgressBar
from dispatchnode.core.scoping import tenant_scope


class Command(BaseCommand):
    help = (
        "Find duplicate customers in an organisation: merge clusters above its automatic "
        "threshold into the oldest record (each merge can be undone) and queue uncertain pairs "
        "for review."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="organisation slug")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="find and count duplicates, change nothing",
        )
        parser.add_argument(
            "--review-only",
            action="store_true",
            help="merge nothing: put every likely pair in the review queue instead",
        )

    def handle(self, *args, organization: str, review_only: bool, dry_run: bool, **options):
        org = Organization.objects.filter(slug=organization).first()
        if org is None:
            known = ", ".join(Organization.objects.values_list("slug", flat=True)[:20]) or "none"
            raise CommandError(f"No organisation {organization!r} (known: {known}).")
        with tenant_scope(org):  # a command acting on one organisation works in its scope
            report = organization_dedupe(
                organization=org,
                merge=not review_only,
                dry_run=dry_run,
                progress=ProgressBar(self.stderr._out),
            )
        stats = report.stats
        if dry_run:
            self.stdout.write(
                f"Dry run: {report.customers} customers loaded in {stats['load_s']:.1f} s, "
                f"{stats['pairs']} candidate pairs scored in "
                f"{stats['blocking_s'] + stats['scoring_s'] + stats['clustering_s']:.1f} s: "
                f"{report.clusters} clusters would be merged "
                f"({stats.get('held_for_review', 0)} held for a "
                f"person), {report.queued} pairs would be queued. Nothing was changed."
            )
            return
        self.stdout.write(
            f"{report.customers} customers, {stats.get('pairs', 0)} candidate pairs compared: "
            f"{report.clusters} duplicate clusters, {report.merged} merged, "
            f"{report.queued} pairs queued for review "
            f"({stats.get('blocking_s', 0) + stats.get('scoring_s', 0):.1f} s to find)."
        )
        if report.merges:
            self.stdout.write(
                f"Merge records {report.merges[0]}..{report.merges[-1]}; undo any of them in the "
                "admin or with POST /api/v1/customer-merges/<id>/undo/."
            )
