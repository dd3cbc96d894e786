"""Secrets stay secret in the admin, and its actions go through the services."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from bookings.models import Appointment, Skill
from dispatchnode.accounts.models import (
    ApiToken,
    Membership,
    Organization,
    PhoneNumber,
    hash_token_key,
)
from dispatchnode.accounts.services import api_token_issue
from dispatchnode.core.models import OutboxDelivery
from dispatchnode.core.outbox import outbox_emit
from tests import factories
from tests.admin.test_admin_tenancy import inline_management


def organization_form(organization, **fields) -> dict[str, str]:
    data = {
        "name": organization.name,
        "slug": organization.slug,
        "is_active": "on",
        "timezone": organization.timezone,
        "country": organization.country,
        "currency": organization.currency,
        "tax_rate": str(organization.tax_rate),
        "business_hours": json.dumps(organization.business_hours),
        "office_phone": organization.office_phone,
        "email": "",
        "website": "",
        "address": "",
        "caller_privacy": organization.caller_privacy,
        "twilio_account_sid": "AC123",
        "twilio_auth_token": "",
        "match_auto_threshold": str(organization.match_auto_threshold),
        "match_review_threshold": str(organization.match_review_threshold),
    }
    data.update(fields)
    return data


def raw_twilio_token(organization) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT twilio_auth_token FROM accounts_organization WHERE id = %s", [organization.pk]
        )
        return cursor.fetchone()[0]


def test_twilio_auth_token_is_write_only(superuser_client):
    # given an organisation with a stored Twilio auth token
    org = factories.OrganizationFactory(twilio_auth_token="tok-secret-123")
    url = reverse("admin:accounts_organization_change", args=[org.pk])
    stored = raw_twilio_token(org)

    # when the superuser views the organisation and its changelist
    page = superuser_client.get(url)
    changelist = superuser_client.get(reverse("admin:accounts_organization_changelist"))

    # then neither the token nor its ciphertext is in any page
    for response in (page, changelist):
        assert response.status_code == 200
        assert "tok-secret-123" not in response.content.decode()
        assert stored not in response.content.decode()
    management = inline_management(page)

    # when the form is saved with the token field left blank
    kept = superuser_client.post(url, {**organization_form(org), **management})
    org.refresh_from_db()

    # then the stored token is kept
    assert kept.status_code == 302
    assert org.twilio_auth_token == "tok-secret-123"
    assert org.twilio_account_sid == "AC123"

    # when a new token is typed in, and later the clear box is ticked
    superuser_client.post(
        url, {**organization_form(org, twilio_auth_token="tok-new-456"), **management}
    )
    org.refresh_from_db()
    replaced = org.twilio_auth_token
    superuser_client.post(
        url, {**organization_form(org, clear_twilio_auth_token="on"), **management}
    )
    org.refresh_from_db()

    # then it is replaced (stored encrypted), then removed
    assert replaced == "tok-new-456"
    assert org.twilio_auth_token == ""
    assert raw_twilio_token(org) == ""


def test_api_token_key_is_shown_once_and_only_its_hash_is_stored(superuser_client, superuser):
    # given an organisation
    org = factories.OrganizationFactory()

    # when a superuser creates a token in the admin
    response = superuser_client.post(
        reverse("admin:accounts_apitoken_add"),
        {
            "organization": org.pk,
            "name": "Zapier",
            "scopes": ["customers:read", "bookings:write"],
            "expires_at_0": "",
            "expires_at_1": "",
        },
        follow=True,
    )

    # then the key is in the message after saving, and it matches the stored hash
    (message,) = [str(m) for m in response.context["messages"] if "<code>" in str(m)]
    key = re.search(r"<code>([^<]+)</code>", message).group(1)
    token = ApiToken.objects.get()
    assert (token.organization_id, token.name, token.created_by_id) == (
        org.pk,
        "Zapier",
        superuser.pk,
    )
    assert token.scopes == ["customers:read", "bookings:write"]
    assert (token.key_hash, token.prefix) == (hash_token_key(key), key[:8])
    assert len(key) >= 40
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert [name for name, value in row.items() if key in str(value)] == []

    # and it is never shown again
    again = superuser_client.get(reverse("admin:accounts_apitoken_changelist"))
    detail = superuser_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    assert key not in again.content.decode()
    assert key not in detail.content.decode()
    assert token.prefix in detail.content.decode()


def test_revoke_action_revokes_only_live_tokens(staff_member, client_for):
    # given an owner's organisation with a live token and one revoked earlier
    org = factories.OrganizationFactory()
    live = api_token_issue(organization=org, name="live", scopes=["*:read"]).token
    earlier = timezone.now() - dt.timedelta(days=3)
    old = api_token_issue(organization=org, name="old", scopes=["*:read"]).token
    ApiToken.objects.filter(pk=old.pk).update(revoked_at=earlier)
    client = client_for(staff_member(org, role=Membership.Role.OWNER))

    # when the owner runs "revoke" on both
    response = client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [live.pk, old.pk]},
        follow=True,
    )

    # then the live one is revoked now, the old one keeps its revocation time
    live.refresh_from_db()
    old.refresh_from_db()
    assert live.revoked_at is not None
    assert live.is_usable is False
    assert old.revoked_at == earlier
    assert "Revoked 1 token(s)." in [str(m) for m in response.context["messages"]]


def test_replay_action_requeues_dead_deliveries_and_leaves_delivered_ones(staff_member, client_for):
    # given a dead-lettered and a delivered delivery of the dispatcher's organisation
    org = factories.OrganizationFactory()
    died_at = timezone.now() - dt.timedelta(hours=1)
    dead, delivered = (
        OutboxDelivery.objects.create(
            organization=org,
            event=outbox_emit(organization=org, topic="test.replay"),
            subscriber="test.replay",
            **fields,
        )
        for fields in (
            {"status": "dead", "attempts": 8, "dead_at": died_at, "last_error": "HTTP 500"},
            {"status": "delivered", "attempts": 1, "delivered_at": died_at},
        )
    )
    client = client_for(staff_member(org))
    before = timezone.now()

    # when the dispatcher replays both
    response = client.post(
        reverse("admin:core_outboxdelivery_changelist"),
        {"action": "replay", "_selected_action": [dead.pk, delivered.pk]},
        follow=True,
    )

    # then the dead one is pending and due now, with a fresh attempt budget; the other untouched
    dead.refresh_from_db()
    assert (dead.status, dead.dead_at, dead.attempts, dead.last_error) == (
        OutboxDelivery.Status.PENDING,
        None,
        0,
        "HTTP 500",
    )
    assert before <= dead.next_attempt_at <= timezone.now()
    assert OutboxDelivery.objects.filter(pk=delivered.pk).values_list(
        "status", "attempts", "delivered_at"
    ).get() == (OutboxDelivery.Status.DELIVERED, 1, died_at)
    assert "Replayed 1 deliveries; skipped 1 already delivered." in [
        str(m) for m in response.context["messages"]
    ]


def test_superuser_creates_a_row_in_the_organisation_they_pick(superuser_client):
    # given two organisations
    first, second = factories.OrganizationFactory(), factories.OrganizationFactory()

    # when a superuser adds a skill for the second one
    response = superuser_client.post(
        reverse("admin:bookings_skill_add"),
        {"organization": second.pk, "code": "hvac", "name": "HVAC"},
    )

    # then the skill belongs to it
    assert response.status_code == 302
    assert list(Skill.objects.values_list("organization_id", "code")) == [(second.pk, "hvac")]
    assert first.pk != second.pk


def test_duplicate_code_in_the_same_organisation_is_a_form_error(superuser_client):
    # given a skill "hvac" in an organisation
    skill = factories.SkillFactory(code="hvac")

    # when the superuser adds another "hvac" there
    response = superuser_client.post(
        reverse("admin:bookings_skill_add"),
        {"organization": skill.organization_id, "code": "hvac", "name": "HVAC again"},
    )

    # then the unique constraint speaks through the form, and nothing is added
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Skill with this Organization and Code already exists."
    ]
    assert Skill.objects.count() == 1


def test_overlapping_appointment_is_a_form_error_not_a_crash(staff_member, client_for):
    # given a technician booked 10:00-12:00
    existing = factories.AppointmentFactory(
        start=dt.datetime(2030, 1, 7, 10, tzinfo=dt.UTC),
        end=dt.datetime(2030, 1, 7, 12, tzinfo=dt.UTC),
    )
    client = client_for(staff_member(existing.organization))

    def book(start_time: str, end_time: str):
        return client.post(
            reverse("admin:bookings_appointment_add"),
            {
                "job": existing.job_id,
                "technician": existing.technician_id,
                "start_0": "2030-01-07",
                "start_1": start_time,
                "end_0": "2030-01-07",
                "end_1": end_time,
                "status": Appointment.Status.SCHEDULED,
            },
        )

    # when a dispatcher adds 11:00-13:00, then the back-to-back 12:00-14:00
    overlapping = book("11:00", "13:00")
    back_to_back = book("12:00", "14:00")

    # then the overlap is refused on the form and the back-to-back one is booked
    assert overlapping.status_code == 200
    assert list(overlapping.context["adminform"].form.errors) == ["start"]
    assert back_to_back.status_code == 302
    assert sorted(
        (a.start.hour, a.end.hour)
        for a in Appointment.objects.filter(technician_id=existing.technician_id)
    ) == [(10, 12), (12, 14)]


def test_thresholds_out_of_order_are_refused_with_a_message(superuser_client):
    org = factories.OrganizationFactory()
    response = superuser_client.post(
        reverse("admin:accounts_organization_change", args=[org.pk]),
        {
            **organization_form(org, match_auto_threshold="0.700", match_review_threshold="0.900"),
            **inline_management(
                superuser_client.get(reverse("admin:accounts_organization_change", args=[org.pk]))
            ),
        },
    )
    assert response.status_code == 200
    assert "review threshold" in response.content.decode().lower()
    org.refresh_from_db()
    assert org.match_auto_threshold == Decimal("0.950")


def test_superuser_adds_an_organisation_with_its_number_and_first_member(superuser_client):
    # given a login that will own the new organisation
    owner = factories.UserFactory()
    page = superuser_client.get(reverse("admin:accounts_organization_add"))
    prefixes = [inline.formset.prefix for inline in page.context["inline_admin_formsets"]]
    numbers, members = prefixes
    management = inline_management(page, **{numbers: 1, members: 1})
    blank = factories.OrganizationFactory.build(name="Polar Air", slug="polar-air")

    # when the organisation is added with one Twilio number and one owner
    response = superuser_client.post(
        reverse("admin:accounts_organization_add"),
        {
            **organization_form(blank, twilio_auth_token="tok-polar"),
            **management,
            f"{numbers}-0-e164": "+15125550188",
            f"{numbers}-0-label": "Main",
            f"{numbers}-0-is_active": "on",
            f"{members}-0-user": owner.pk,
            f"{members}-0-role": Membership.Role.OWNER,
            f"{members}-0-is_active": "on",
        },
    )

    # then the number and the membership belong to it, and the token is stored encrypted
    assert response.status_code == 302
    org = Organization.objects.get(slug="polar-air")
    assert list(PhoneNumber.objects.values_list("organization_id", "e164")) == [
        (org.pk, "+15125550188")
    ]
    assert list(Membership.objects.values_list("organization_id", "user_id", "role")) == [
        (org.pk, owner.pk, Membership.Role.OWNER)
    ]
    assert org.twilio_auth_token == "tok-polar"
    assert raw_twilio_token(org).startswith("fernet:")


def test_a_call_record_can_only_be_annotated(superuser_client):
    # given a call with two turns
    call = factories.CallSessionFactory()
    factories.CallTurnFactory(call=call, organization=call.organization, sequence=1)
    factories.CallTurnFactory(call=call, organization=call.organization, sequence=2)

    # when its admin page is opened
    page = superuser_client.get(reverse("admin:bookings_callsession_change", args=[call.pk]))

    # then only the outcome and summary are editable and the turns are shown read-only
    assert list(page.context["adminform"].form.fields) == ["outcome", "outcome_reason", "summary"]
    (turns,) = page.context["inline_admin_formsets"]
    assert (turns.has_add_permission, turns.has_change_permission) == (False, False)
    assert turns.formset.total_form_count() == 2
