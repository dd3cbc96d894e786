"""Resolve the request's organisation once: from the API token, or the session user's membership.

Never from the request body or the URL: a client cannot choose another tenant.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatchnode.accounts.models import ApiToken, Membership, Organization
from dispatchnode.core.scoping import Scope, current_scope, scope_reset, scope_set, tenant_unscoped

SESSION_ORG_KEY = "organization_id"
_CACHE_ATTR = "_dispatchnode_principal"


@dataclass(frozen=True)
class Principal:
    organization: Organization
    token: ApiToken | None = None
    membership: Membership | None = None

    @property
    def role(self) -> str:
        return self.membership.role if self.membership else Membership.Role.INTEGRATOR


def request_principal(request) -> Principal | None:
    """Who is acting, for which organisation; cached on the request. None when nobody is.

    The one resolver: the middleware calls it for a session user, the DRF views after their
    authentication ran (an API token exists only then). A DRF request that is not token
    authenticated reuses the answer cached on the Django request it wraps.
    """
    cached = request.__dict__.get(_CACHE_ATTR, False)
    if cached is not False:
        return cached
    auth = getattr(request, "auth", None)
    inner = getattr(request, "_request", None)  # a DRF Request wraps the HttpRequest
    if isinstance(auth, ApiToken):
        principal = Principal(organization=auth.organization, token=auth)
    elif inner is not None and getattr(inner, "user", None) is getattr(request, "user", None):
        principal = request_principal(inner)
    else:
        principal = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            with tenant_unscoped("resolve the organisation of the request's user"):
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
    request.__dict__[_CACHE_ATTR] = principal
    return principal


def principal_apply(request, principal: Principal | None) -> None:
    """Set `request.organization` / `request.membership` (on a DRF request and the Django
    request it wraps) and make the principal's organisation the tenant scope."""
    organization = principal.organization if principal else None
    membership = principal.membership if principal else None
    for target in (request, getattr(request, "_request", None)):
        if target is not None:
            target.organization = organization
            target.membership = membership
    if organization is not None:
        scope_set(Scope(organization_id=organization.pk, strict=True))


ADMIN_UNSCOPED = (
    "the admin: a user may administer several organisations; TenantAdmin filters "
    "organization__in itself"
)


class TenancyMiddleware:
    """Every request is a tenant entry point (after AuthenticationMiddleware).

    Once the URL is resolved (`process_view`, so URLconf imports run outside any scope):
    - the admin runs unscoped: `TenantAdmin` filters by the organisations the user administers;
      so do views marked with `unscoped_view(view, reason)` (the API schema and its docs);
    - a session user with a membership runs in `tenant_scope(their organisation)`;
    - anything else (anonymous pages, webhooks, token API requests before DRF authenticates)
      runs strict with no organisation until the view resolves its tenant (the Twilio number,
      the calendar token, the API token in `TenantScopedMixin.initial`).
    `request.organization` and `request.membership` are None until resolved.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organization = None
        request.membership = None
        token = scope_set(current_scope())
        try:
            return self.get_response(request)
        finally:
            scope_reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        reason = getattr(view_func, "tenant_unscoped", "")
        if match is not None and "admin" in match.namespaces:
            scope_set(Scope(unscoped=ADMIN_UNSCOPED, strict=True))
        elif reason:
            scope_set(Scope(unscoped=reason, strict=True))
        else:
            scope_set(Scope(strict=True))
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            principal = request_principal(request)
            organization = principal.organization if principal else None
            request.organization = organization
            request.membership = principal.membership if principal else None
            if organization is not None and not current_scope().unscoped:
                scope_set(Scope(organization_id=organization.pk, strict=True))
        return None


def request_organization(request) -> Organization | None:
    principal = request_principal(request)
    return principal.organization if principal else None
