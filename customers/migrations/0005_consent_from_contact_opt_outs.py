"""Every existing opt-out flag on a contact point becomes the organisation's consent record for
that address (SMS for `sms_opt_out`, email for `email_opt_out`), source "import".

Re-runnable: an address that already has a consent row keeps it (a later STOP or START is newer
than the flag). Going back removes nothing: the flags themselves are untouched.
"""

from django.db import migrations

NOTE = "Carried over from the contact point's opt-out flag."


def flags_to_consent(apps, schema_editor):
    ContactPoint = apps.get_model("customers", "ContactPoint")
    Consent = apps.get_model("customers", "Consent")
    for flag, kind, channel in (
        ("sms_opt_out", "phone", "sms"),
        ("email_opt_out", "email", "email"),
    ):
        rows = (
            ContactPoint.objects.filter(**{flag: True}, kind=kind)
            .order_by("organization_id", "value", "updated_at")
            .values_list("organization_id", "value", "updated_at")
        )
        for organization_id, address, changed_at in rows.iterator():
            Consent.objects.get_or_create(
                organization_id=organization_id,
                channel=channel,
                address=address,
                defaults={
                    "status": "opted_out",
                    "source": "import",
                    "changed_at": changed_at,
                    "note": NOTE,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_consent")]

    operations = [migrations.RunPython(flags_to_consent, migrations.RunPython.noop)]
