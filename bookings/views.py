"""HTML and file views of the bookings app that are not part of the REST API."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from bookings.calendar_feed import calendar_feed_ics, calendar_feed_technician
from dispatchnode.core.scoping import tenant_scope, tenant_unscoped


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A technician's iCalendar feed. No login: the token in the URL is the secret.

    Any token that does not open a feed (unknown, revoked, an inactive technician or
    organisation) gets the same bare 404, so the answer tells a guesser nothing.
    """
    with tenant_unscoped("find the technician whose calendar token this is"):
        technician = calendar_feed_technician(token=token)
    if technician is None:
        return HttpResponseNotFound("Not found.", content_type="text/plain; charset=utf-8")
    request.organization = technician.organization
    with tenant_scope(technician.organization):
        body = calendar_feed_ics(technician=technician)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    # Private: the body holds gate codes, so no shared cache may keep it.
    patch_cache_control(response, private=True, max_age=300)
    return response
