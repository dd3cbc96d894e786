"""API tokens: only a hash is stored, scopes are checked, revoked and expired keys are dead."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from dispatchnode.accounts.models import ApiToken, validate_scopes
from dispatchnode.accounts.services import api_token_issue, api_token_revoke


def test_only_the_hash_of_the_key_is_stored(org):
    # when a token is issued
    issued = api_token_issue(organization=org, name="Zapier", scopes=["customers:read"])

    # then the key is long and random, and no column holds it: only its SHA-256 and prefix
    row = ApiToken.objects.filter(pk=issued.token.pk).values().get()
    assert len(issued.key) >= 40
    assert [column for column, value in row.items() if issued.key in str(value)] == []
    assert row["key_hash"] == hashlib.sha256(issued.key.encode()).hexdigest()
    assert row["prefix"] == issued.key[:8]
    assert row["organization_id"] == org.pk


def test_two_tokens_never_share_a_key(org):
    first = api_token_issue(organization=org, name="a", scopes=["*:read"])
    second = api_token_issue(organization=org, name="b", scopes=["*:read"])

    assert first.key != second.key
    assert first.token.key_hash != second.token.key_hash


def test_a_key_never_starts_with_a_dash_so_a_command_line_takes_it_as_a_value():
    # when many keys are generated (about 1 in 64 random keys would start with "-")
    keys = [ApiToken.generate_key() for _ in range(3000)]

    # then none reads as an option to argparse or a shell tool, and they are still random
    assert [key for key in keys if key.startswith("-")] == []
    assert len(set(keys)) == 3000
    assert {key[0] for key in keys} >= {"A", "z", "0", "_"}


def test_a_fixed_key_must_be_long_enough(org):
    # when a key shorter than 20 characters is asked for
    with pytest.raises(ValueError, match="at least 20 characters"):
        api_token_issue(organization=org, name="demo", scopes=["*:read"], key="short-key")

    # then no token exists
    assert ApiToken.objects.count() == 0


def test_invalid_scopes_are_refused_before_saving(org):
    with pytest.raises(ValidationError) as refused:
        api_token_issue(organization=org, name="bad", scopes=["billing:read"])

    assert list(refused.value.message_dict) == ["scopes"]
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize(
    ("scopes", "family", "level", "allowed"),
    [
        (["customers:read"], "customers", "read", True),
        (["customers:read"], "customers", "write", False),
        (["customers:write"], "customers", "read", True),  # write implies read
        (["customers:write"], "customers", "write", True),
        (["customers:write"], "bookings", "read", False),
        (["*:read"], "invoicing", "read", True),
        (["*:read"], "invoicing", "write", False),
        (["*:write"], "routing", "read", True),
        (["*:write"], "routing", "write", True),
        (["calls:read", "bookings:write"], "calls", "read", True),
        (["calls:read", "bookings:write"], "calls", "write", False),
        (["calls:read", "bookings:write"], "bookings", "write", True),
        (["customers:read"], "unknown", "read", False),
        (["*:read"], "customers", "admin", False),  # unknown level
    ],
)
def test_scope_matrix(scopes, family, level, allowed):
    assert ApiToken(scopes=scopes).allows(family, level) is allowed


@pytest.mark.parametrize(
    "scopes",
    [
        [],
        "customers:read",
        ["customers"],
        ["customers:admin"],
        ["billing:read"],
        [""],
        ["customers:read", "nope:write"],
        None,
    ],
)
def test_validate_scopes_rejects(scopes):
    with pytest.raises(ValidationError):
        validate_scopes(scopes)


@pytest.mark.parametrize(
    "scopes", [["customers:read"], ["*:write"], ["calls:read", "integrations:write", "*:read"]]
)
def test_validate_scopes_accepts(scopes):
    assert validate_scopes(scopes) is None


def test_revoked_and_expired_tokens_are_not_usable(org):
    # given a live token, a revoked one, an expired one and one expiring tomorrow
    now = timezone.now()
    live = api_token_issue(organization=org, name="live", scopes=["*:read"]).token
    revoked = api_token_revoke(
        token=api_token_issue(organization=org, name="revoked", scopes=["*:read"]).token
    )
    expired = api_token_issue(organization=org, name="expired", scopes=["*:read"]).token
    expired.expires_at = now - dt.timedelta(seconds=1)
    tomorrow = api_token_issue(organization=org, name="tomorrow", scopes=["*:read"]).token
    tomorrow.expires_at = now + dt.timedelta(days=1)

    # then only the live one and the not-yet-expired one are usable
    assert [t.is_usable for t in (live, revoked, expired, tomorrow)] == [True, False, False, True]


def test_revoking_twice_keeps_the_first_time(org):
    # given a token revoked once
    token = api_token_issue(organization=org, name="t", scopes=["*:read"]).token
    first = api_token_revoke(token=token).revoked_at

    # when it is revoked again
    api_token_revoke(token=token)

    # then the revocation time is unchanged
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first


def test_revoked_and_expired_keys_are_refused_by_the_api(org):
    # given a revoked key and an expired key
    revoked = api_token_issue(organization=org, name="revoked", scopes=["*:read"])
    api_token_revoke(token=revoked.token)
    expired = api_token_issue(organization=org, name="expired", scopes=["*:read"])
    ApiToken.objects.filter(pk=expired.token.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    live = api_token_issue(organization=org, name="live", scopes=["*:read"])

    def get_with(key: str) -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client.get("/api/v1/technicians/").status_code

    # when each calls the API
    statuses = [get_with(issued.key) for issued in (revoked, expired, live)]

    # then the dead keys get 401 and the live one is served
    assert statuses == [401, 401, 200]
    assert ApiToken.objects.get(pk=revoked.token.pk).last_used_at is None
