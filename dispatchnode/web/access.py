"""Who may open which page. Every HTML view of the dashboard and the technician app is wrapped
in exactly one of these decorators; `tests/web/test_access.py` checks every pattern.

- `office_view`: owners and dispatchers of the request's organisation;
- `technician_view`: a technician whose login is linked to an active `Technician` row; the row is
  `request.technician`, and a technician's pages show only that technician's own visits.

Anonymous users go to the login page (with `?next=`); a signed-in user of the wrong role gets a
403 page that says where their own pages are. The organisation comes from the session's
membership (`dispatchnode.api.tenancy.TenancyMiddleware`), never from the URL.
"""

from __future__ import annotations

import functools

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from bookings.selectors import technician_for_user
from dispatchnode.accounts.models import Membership

OFFICE_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.DISPATCHER})


def _role(request) -> str:
    membership = getattr(request, "membership", None)
    return membership.role if membership is not None else ""


def forbidden(request, *, reason: str):
    return render(
        request, "web/forbidden.html", {"reason": reason, "role": _role(request)}, status=403
    )


def office_view(view):
    """Owners and dispatchers only."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if _role(request) not in OFFICE_ROLES:
            return forbidden(request, reason="The dashboard is for office staff.")
        return view(request, *args, **kwargs)

    wrapped.access = "office"
    return wrapped


def technician_view(view):
    """A technician with a technician record; it is set as `request.technician`."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        technician = None
        if _role(request) == Membership.Role.TECHNICIAN:
            technician = technician_for_user(organization=request.organization, user=request.user)
        if technician is None:
            return forbidden(
                request,
                reason="The technician app is for technicians whose login is linked to a "
                "technician record.",
            )
        request.technician = technician
        return view(request, *args, **kwargs)

    wrapped.access = "technician"
    return wrapped


def home_for(request) -> str:
    """Where a signed-in user starts: the dashboard, their day, or the admin."""
    role = _role(request)
    if role in OFFICE_ROLES:
        return "dashboard:home"
    if role == Membership.Role.TECHNICIAN:
        return "tech:day"
    return "admin:index"
