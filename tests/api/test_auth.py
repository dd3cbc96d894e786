"""Who may read: API tokens (scopes, revocation, expiry) and session users (membership)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from dispatchnode.accounts.models import ApiToken, Membership
from dispatchnode.accounts.services import api_token_issue, api_token_revoke
from dispatchnode.api.tenancy import SESSION_ORG_KEY
from tests import factories

CUSTOMERS = "/api/v1/customers/"
LOCATIONS = "/api/v1/locations/"
FORBIDDEN = {"detail": "You do not have access to this resource.", "code": "permission_denied"}


def _token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_no_credentials_is_a_401_envelope_with_the_token_challenge(db):
    # when
    response = APIClient().get(CUSTOMERS)

    # then
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    "header",
    ["Token not-a-real-key-0123456789", "Token two parts", "Token"],
    ids=["unknown-key", "three-words", "no-key"],
)
def test_a_bad_token_header_is_a_401(db, header):
    # given
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    # when
    response = client.get(CUSTOMERS)

    # then
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert set(response.json()) == {"detail", "code"}


def test_a_revoked_token_is_a_401(org):
    # given
    issued = api_token_issue(organization=org, name="old", scopes=["*:read"])
    api_token_revoke(token=issued.token)

    # when
    response = _token_client(issued.key).get(CUSTOMERS)

    # then
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid or revoked token.",
        "code": "authentication_failed",
    }


def test_an_expired_token_is_a_401(org):
    # given
    issued = api_token_issue(organization=org, name="old", scopes=["*:read"])
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    # when
    response = _token_client(issued.key).get(CUSTOMERS)

    # then
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid or revoked token.",
        "code": "authentication_failed",
    }


def test_a_token_of_a_deactivated_organisation_is_a_401(org):
    # given
    issued = api_token_issue(organization=org, name="t", scopes=["*:read"])
    org.is_active = False
    org.save(update_fields=["is_active"])

    # when
    response = _token_client(issued.key).get(CUSTOMERS)

    # then
    assert response.status_code == 401


def test_a_used_token_records_when_it_was_last_used(org, api_client_for):
    # given
    client = api_client_for(org, scopes=["customers:read"])

    # when
    response = client.get(CUSTOMERS)

    # then
    assert response.status_code == 200
    client.token.refresh_from_db()
    assert client.token.last_used_at is not None


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        (["customers:read"], {"customers": 200, "jobs": 403, "calls": 403, "invoices": 403}),
        (["customers:write"], {"customers": 200, "jobs": 403, "calls": 403, "invoices": 403}),
        (["bookings:read"], {"customers": 403, "jobs": 200, "calls": 403, "invoices": 403}),
        (["calls:read"], {"customers": 403, "jobs": 403, "calls": 200, "invoices": 403}),
        (["invoicing:read"], {"customers": 403, "jobs": 403, "calls": 403, "invoices": 200}),
        (["integrations:write"], {"customers": 403, "jobs": 403, "calls": 403, "invoices": 403}),
        (["*:read"], {"customers": 200, "jobs": 200, "calls": 200, "invoices": 200}),
        (["*:write"], {"customers": 200, "jobs": 200, "calls": 200, "invoices": 200}),
    ],
    ids=lambda value: ",".join(value) if isinstance(value, list) else "",
)
def test_token_scopes_decide_which_resource_families_it_reads(
    org, api_client_for, scopes, expected
):
    # given
    client = api_client_for(org, scopes=scopes)

    # when
    statuses = {name: client.get(f"/api/v1/{name}/").status_code for name in expected}

    # then
    assert statuses == expected


def test_a_refused_scope_gets_the_403_envelope(org, api_client_for):
    # given
    client = api_client_for(org, scopes=["customers:read"])

    # when
    response = client.get("/api/v1/jobs/")

    # then
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


def test_a_read_token_cannot_write_and_a_write_token_meets_a_read_only_resource(
    org, api_client_for
):
    # given
    reader = api_client_for(org, scopes=["*:read"])
    writer = api_client_for(org, scopes=["*:write"])

    # when
    refused = reader.post(CUSTOMERS, {"first_name": "Ann"})
    not_allowed = writer.post(LOCATIONS, {"raw_address": "1 Main St"})

    # then
    assert refused.status_code == 403
    assert refused.json() == FORBIDDEN
    assert not_allowed.status_code == 405
    assert not_allowed.json() == {
        "detail": 'Method "POST" not allowed.',
        "code": "method_not_allowed",
    }


@pytest.mark.parametrize("role", [choice.value for choice in Membership.Role])
def test_a_session_member_reads_their_organisations_data(org, other_org, role):
    # given
    mine = factories.CustomerFactory(organization=org)
    factories.CustomerFactory(organization=other_org)
    member = factories.MembershipFactory(organization=org, role=role)
    client = APIClient()
    client.force_login(member.user)

    # when
    response = client.get(CUSTOMERS)

    # then
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


def test_a_session_picks_the_organisation_chosen_among_several_memberships(org, other_org):
    # given: one user, member of both; the session names the second organisation
    user = factories.UserFactory()
    factories.MembershipFactory(organization=org, user=user)
    factories.MembershipFactory(organization=other_org, user=user)
    factories.CustomerFactory(organization=org)
    theirs = factories.CustomerFactory(organization=other_org)
    client = APIClient()
    client.force_login(user)
    session = client.session
    session[SESSION_ORG_KEY] = other_org.pk
    session.save()

    # when
    response = client.get(CUSTOMERS)

    # then
    assert [row["id"] for row in response.json()["results"]] == [theirs.pk]


def test_a_session_user_without_membership_gets_a_403(org):
    # given
    factories.CustomerFactory(organization=org)
    client = APIClient()
    client.force_login(factories.UserFactory())

    # when
    response = client.get(CUSTOMERS)

    # then
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


def test_an_inactive_membership_gets_a_403(org):
    # given
    member = factories.MembershipFactory(organization=org, is_active=False)
    client = APIClient()
    client.force_login(member.user)

    # when
    response = client.get(CUSTOMERS)

    # then
    assert response.status_code == 403
