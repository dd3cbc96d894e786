from django.db import migrations


def deliveries_from_events(apps, schema_editor):
    """Each event that was still pending or dead becomes a delivery to the one subscriber of
    its time (the SMS sender); re-runnable (the unique constraint skips existing ones)."""
    OutboxEvent = apps.get_model("core", "OutboxEvent")
    OutboxDelivery = apps.get_model("core", "OutboxDelivery")
    subscribers = {"message.sms": "sms.send"}
    rows = []
    for event in OutboxEvent.objects.exclude(status="delivered").iterator():
        key = subscribers.get(event.topic)
        if key is None:
            event.routing = "unrouted"
            event.save(update_fields=["routing"])
            continue
        rows.append(
            OutboxDelivery(
                organization_id=event.organization_id,
                event_id=event.pk,
                subscriber=key,
                aggregate_key=(
                    f"{event.aggregate_type}:{event.aggregate_id}" if event.aggregate_id else ""
                ),
                status=event.status,
                attempts=event.attempts,
                next_attempt_at=event.next_attempt_at,
                last_error=event.last_error,
                dead_at=event.dead_at,
            )
        )
    OutboxDelivery.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_outbox_deliveries"),
    ]

    operations = [
        migrations.RunPython(deliveries_from_events, migrations.RunPython.noop),
    ]
