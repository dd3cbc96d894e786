"""Writes for technicians' calendar feeds: enable (or rotate) and revoke the secret feed token.

Kept apart from `bookings/services.py` (booking, rescheduling, cancelling): the feed is a
read-only view of appointments and shares nothing with the booking transaction.
"""

from __future__ import annotations

import secrets

from django.db import transaction

from bookings.calendar_feed import calendar_feed_url
from bookings.models import Technician
from dispatchnode.core.errors import ApplicationError


@transaction.atomic
def technician_calendar_enable(*, technician: Technician) -> str:
    """Give the technician a new random feed token and return the feed URL.

    Calling it again rotates the token: the previous URL stops working at once (a leaked URL is
    fixed by rotating and handing the technician the new one).
    """
    if not technician.is_active:
        raise ApplicationError(
            f"{technician} is inactive; reactivate the technician before enabling a calendar feed.",
            code="technician_inactive",
        )
    technician.calendar_token = secrets.token_urlsafe(32)
    technician.save(update_fields=["calendar_token", "updated_at"])
    return calendar_feed_url(technician=technician)


@transaction.atomic
def technician_calendar_revoke(*, technician: Technician) -> Technician:
    """Remove the feed: its URL answers 404 from now on. Revoking twice is harmless."""
    technician.calendar_token = ""
    technician.save(update_fields=["calendar_token", "updated_at"])
    return technician
