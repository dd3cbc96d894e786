from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_outbox_deliveries_from_events"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='outboxevent',
            name='core_outbox_due_idx',
        ),
        migrations.RemoveField(
            model_name='outboxevent',
            name='attempts',
        ),
        migrations.RemoveField(
            model_name='outboxevent',
            name='dead_at',
        ),
        migrations.RemoveField(
            model_name='outboxevent',
            name='delivered_at',
        ),
        migrations.RemoveField(
            model_name='outboxevent',
            name='last_error',
        ),
        migrations.RemoveField(
            model_name='outboxevent',
            name='next_attempt_at',
        ),
        migrations.RemoveField(
            model_name='outboxevent',
            name='status',
        ),
    ]
