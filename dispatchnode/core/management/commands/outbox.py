"""`manage.py outbox status|replay|backfill`: look at the outbox, replay dead letters, backfill
a subscriber added later. See docs/operations.md."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Min

from dispatchnode.core.models import OutboxDelivery, OutboxEvent
from dispatchnode.core.outbox import outbox_backfill, outbox_replay, outbox_subscriber


class Command(BaseCommand):
    help = "Show the outbox backlog, replay dead deliveries, or backfill a subscriber."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="deliveries per subscriber and status")
        replay = sub.add_parser("replay", help="put dead deliveries back in line")
        replay.add_argument("--organization", help="organisation slug (default: all)")
        replay.add_argument("--subscriber", help="only this subscriber's")
        replay.add_argument("--topic", help="only events on this topic")
        backfill = sub.add_parser("backfill", help="give a subscriber the events it missed")
        backfill.add_argument("subscriber")
        backfill.add_argument("--organization", required=True, help="organisation slug")
        backfill.add_argument("--after-event", type=int, default=0, help="the cursor: event id")
        backfill.add_argument("--topic", action="append", help="topics (default: its own)")

    def handle(self, *args, action: str, **options):
        return getattr(self, f"_{action}")(**options)

    def _status(self, **options):
        rows = (
            OutboxDelivery._base_manager.values("subscriber", "status")
            .annotate(count=Count("id"), oldest=Min("next_attempt_at"))
            .order_by("subscriber", "status")
        )
        if not rows:
            self.stdout.write("The outbox has no deliveries.")
        for row in rows:
            due = (
                f", next due {row['oldest']:%Y-%m-%d %H:%M:%S}"
                if row["status"] == "pending"
                else ""
            )
            self.stdout.write(f"{row['subscriber']:<32} {row['status']:<10} {row['count']:>8}{due}")
        unrouted = OutboxEvent._base_manager.filter(routing=OutboxEvent.Routing.UNROUTED).count()
        self.stdout.write(f"Events with no subscriber (unrouted): {unrouted}")

    def _organization(self, slug: str | None):
        if not slug:
            return None
        # The tenant root, as the kernel's models reference it: core stands below accounts.
        organization_model = OutboxDelivery._meta.get_field("organization").related_model
        organization = organization_model.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No organisation with the slug {slug!r}.")
        return organization

    def _replay(self, *, organization=None, subscriber=None, topic=None, **options):
        dead = OutboxDelivery._base_manager.filter(status=OutboxDelivery.Status.DEAD)
        org = self._organization(organization)
        if org is not None:
            dead = dead.filter(organization=org)
        if subscriber:
            dead = dead.filter(subscriber=subscriber)
        if topic:
            dead = dead.filter(event__topic=topic)
        replayed = 0
        for delivery in dead.order_by("event_id", "id").iterator():
            outbox_replay(delivery=delivery)
            replayed += 1
        self.stdout.write(self.style.SUCCESS(f"Replayed {replayed} dead deliveries."))

    def _backfill(self, *, subscriber, organization, after_event, topic=None, **options):
        if outbox_subscriber(subscriber) is None:
            raise CommandError(f"No subscriber named {subscriber!r} is registered.")
        org = self._organization(organization)
        total, cursor = 0, after_event
        while True:
            report = outbox_backfill(
                organization=org, subscriber=subscriber, after_event_id=cursor, topics=topic
            )
            total += report.created
            if report.cursor == cursor:
                break
            cursor = report.cursor
            self.stdout.write(f"  … {total} deliveries so far (cursor {cursor})")
        self.stdout.write(
            self.style.SUCCESS(f"Backfilled {total} deliveries to {subscriber}; cursor {cursor}.")
        )
