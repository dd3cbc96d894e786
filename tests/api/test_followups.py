"""Follow-ups and their rules through /api/v1/: filtered lists, and the owner's rule edits."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from customers.models import FollowUpRule
from tests import factories


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_followups_filter_by_customer_status_and_rule(org, other_org, api_client_for):
    # given
    reader = api_client_for(org, scopes=["customers:read"])
    customer = factories.CustomerFactory(organization=org)
    rule = factories.FollowUpRuleFactory(organization=org)
    scheduled = factories.FollowUpFactory(organization=org, customer=customer, rule=rule)
    sent = factories.FollowUpFactory(organization=org, customer=customer, status="sent")
    other = factories.FollowUpFactory(organization=org)
    factories.FollowUpFactory(organization=other_org)

    # when
    by_customer = reader.get("/api/v1/followups/", {"customer": customer.pk})
    by_status = reader.get("/api/v1/followups/", {"status": "sent"})
    by_rule = reader.get("/api/v1/followups/", {"rule": rule.pk})
    everything = reader.get("/api/v1/followups/")

    # then
    assert sorted(_ids(by_customer)) == sorted([scheduled.pk, sent.pk])
    assert _ids(by_status) == [sent.pk]
    assert _ids(by_rule) == [scheduled.pk]
    assert sorted(_ids(everything)) == sorted([scheduled.pk, sent.pk, other.pk])
    row = by_rule.json()["results"][0]
    assert row["rule_name"] == rule.name
    assert row["status"] == "scheduled"


def _session(org, role):
    member = factories.MembershipFactory(organization=org, role=role)
    client = APIClient()
    client.force_login(member.user)
    return client


def test_the_owner_edits_a_rule_and_a_dispatcher_cannot(org):
    # given
    rule = factories.FollowUpRuleFactory(organization=org, name="30 days after the job")
    url = f"/api/v1/followup-rules/{rule.pk}/edit/"

    # when a dispatcher tries, then the owner
    refused = _session(org, "dispatcher").post(url, {"is_active": False}, format="json")
    edited = _session(org, "owner").post(
        url, {"is_active": False, "delay": "21 00:00:00", "body": "Hi {first_name}!"}, format="json"
    )

    # then
    assert refused.status_code == 403
    assert edited.status_code == 200, edited.content
    assert edited.json()["delay"] == "21 00:00:00"
    rule.refresh_from_db()
    assert (rule.is_active, rule.delay.days, rule.body) == (False, 21, "Hi {first_name}!")


@pytest.mark.parametrize(
    ("payload", "code"), [({"delay": "00:00:00"}, "delay"), ({"body": "  "}, "invalid")]
)
def test_a_bad_rule_edit_is_refused_and_changes_nothing(org, payload, code):
    rule = factories.FollowUpRuleFactory(organization=org)

    response = _session(org, "owner").post(
        f"/api/v1/followup-rules/{rule.pk}/edit/", payload, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert FollowUpRule.objects.get(pk=rule.pk).updated_at == rule.updated_at
