"""Double-booking is impossible on PostgreSQL: an exclusion constraint over (technician,
[start, end)) for every appointment that is not cancelled.

Written as SQL run only on PostgreSQL (SQLite has no GiST; there, booking relies on immediate
transactions), so Django's model state does not carry it and `full_clean()` stays portable.
`btree_gist` lets the integer technician id share the GiST index with the time range.
"""

from django.db import migrations

CONSTRAINT = "bookings_appointment_no_overlap"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"""
        ALTER TABLE bookings_appointment
        ADD CONSTRAINT {CONSTRAINT}
        EXCLUDE USING gist (
            technician_id WITH =,
            tstzrange("start", "end", '[)') WITH &&
        ) WHERE (status <> 'cancelled')
        """
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_relations")]

    operations = [migrations.RunPython(add_constraint, drop_constraint, elidable=False)]
