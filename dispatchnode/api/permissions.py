from __future__ import annotations

from rest_framework import permissions

from dispatchnode.accounts.models import Membership
from dispatchnode.api.tenancy import request_principal

WRITE_ROLES = {Membership.Role.OWNER, Membership.Role.DISPATCHER, Membership.Role.INTEGRATOR}


class HasOrganizationAccess(permissions.BasePermission):
    """Someone acting for an organisation, with the scope (tokens) or role (people) the view's
    resource family (`view.scope_family`) and the method need. Technicians read only.

    An action can say otherwise: `@action(..., action_writes=True)` needs write even on GET,
    `@action(methods=["post"], action_reads=True)` only reads (a search with a body).
    """

    message = "You do not have access to this resource."

    def has_permission(self, request, view) -> bool:
        principal = request_principal(request)
        if principal is None:
            return False
        family = getattr(view, "scope_family", None)
        unsafe = request.method not in permissions.SAFE_METHODS
        write = (unsafe and not getattr(view, "action_reads", False)) or getattr(
            view, "action_writes", False
        )
        level = "write" if write else "read"
        if principal.token is not None:
            return family is not None and principal.token.allows(family, level)
        return level == "read" or principal.role in WRITE_ROLES
