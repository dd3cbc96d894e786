"""The follow-ups page: the rules with their counts, the owner edits one, a dispatcher cannot."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.models import FollowUpRule

pytestmark = pytest.mark.django_db


def test_the_page_lists_the_default_rules_and_an_empty_state(office_client):
    html = office_client.get("/dashboard/followups/").content.decode()
    assert "Invoice overdue" in html
    assert "Nothing scheduled." in html
    assert "Only the owner changes the rules." in html


def test_the_owner_turns_a_rule_off_and_changes_its_delay(org, owner_client):
    owner_client.get("/dashboard/followups/")
    rule = FollowUpRule.objects.filter(organization=org).order_by("id").first()

    answer = owner_client.post(
        f"/dashboard/followups/rules/{rule.pk}/",
        {"delay_hours": "48", "body": "Hello {first_name}"},
        follow=True,
    )

    assert "saved" in answer.content.decode()
    rule.refresh_from_db()
    assert (rule.is_active, rule.delay, rule.body) == (
        False,
        dt.timedelta(hours=48),
        "Hello {first_name}",
    )


def test_a_dispatcher_cannot_edit_and_another_organisations_rule_is_a_404(
    org, other_org, office_client, owner_client
):
    owner_client.get("/dashboard/followups/")
    rule = FollowUpRule.objects.filter(organization=org).first()
    office_client.post(f"/dashboard/followups/rules/{rule.pk}/", {"delay_hours": "1"})
    rule.refresh_from_db()
    assert rule.is_active is True

    theirs = FollowUpRule.objects.create(
        organization=other_org, name="Theirs", trigger=rule.trigger, body="x", delay=rule.delay
    )
    other = owner_client.post(f"/dashboard/followups/rules/{theirs.pk}/", {"delay_hours": "1"})
    missing = owner_client.post("/dashboard/followups/rules/999999/", {"delay_hours": "1"})
    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content
