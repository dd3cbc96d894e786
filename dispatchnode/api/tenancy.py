"""Resolve the request's organisation once: from the API token, or the session user's membership.

Never from the request body or the URL: a client cannot choose another tenant.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatchnode.accounts.models import ApiToken, Membership, Organization

SESSION_ORG_KEY = "organization_id"


@dataclass(frozen=True)
class Principal:
    organization: Organization
    token: ApiToken | None = None
    membership: Membership | None = None

    @property
    def role(self) -> str:
        return self.membership.role if self.membership else Membership.Role.INTEGRATOR


def request_principal(request) -> Principal | None:
    """Who is acting, for which organisation; cached on the request. None when nobody is."""
    cached = getattr(request, "_dispatchnode_principal", False)
    if cached is not False:
        return cached
    principal = None
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        principal = Principal(organization=auth.organization, token=auth)
    else:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = Membership.objects.select_related("organization").filter(
                user=user, is_active=True, organization__is_active=True
            )
            session = getattr(request, "session", None)
            wanted = session.get(SESSION_ORG_KEY) if session is not None else None
            membership = (
                memberships.filter(organization_id=wanted).first() if wanted else None
            ) or memberships.order_by("id").first()
            if membership is not None:
                principal = Principal(organization=membership.organization, membership=membership)
    request._dispatchnode_principal = principal
    return principal


def request_organization(request) -> Organization | None:
    principal = request_principal(request)
    return principal.organization if principal else None
