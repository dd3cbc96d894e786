"""Writes for organisations, members, numbers and API tokens."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from dispatchnode.accounts.models import ApiToken, Membership, Organization, PhoneNumber, User


@transaction.atomic
def organization_create(*, name: str, slug: str, **fields) -> Organization:
    organization = Organization(name=name, slug=slug, **fields)
    organization.full_clean()
    organization.save()
    return organization


@transaction.atomic
def membership_grant(*, organization: Organization, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        organization=organization, user=user, defaults={"role": role, "is_active": True}
    )
    membership.full_clean()
    return membership


@transaction.atomic
def phone_number_add(*, organization: Organization, e164: str, label: str = "") -> PhoneNumber:
    number = PhoneNumber(organization=organization, e164=e164, label=label)
    number.full_clean()
    number.save()
    return number


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once; only its hash is stored


@transaction.atomic
def api_token_issue(
    *,
    organization: Organization,
    name: str,
    scopes: list[str],
    created_by: User | None = None,
    key: str | None = None,
) -> IssuedToken:
    """Create a token. `key` fixes the secret (the demo's DEMO_API_TOKEN); otherwise random."""
    key = key or ApiToken.generate_key()
    if len(key) < 20:
        raise ValueError("An API token key needs at least 20 characters.")
    token = ApiToken(organization=organization, name=name, scopes=scopes, created_by=created_by)
    token.set_key(key)
    token.full_clean()
    token.save()
    return IssuedToken(token=token, key=key)


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    from django.utils import timezone

    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token
