"""The day a page shows: today in the organisation's timezone, or the `?date=` asked for."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def local_today(organization) -> dt.date:
    """Today where the organisation works."""
    return timezone.localdate(timezone=organization.tzinfo)


def day_parse(organization, raw: str | None) -> tuple[dt.date, str]:
    """`(day, problem)`: the ISO date `raw`, or today with a message saying why `raw` was not
    used ("" when nothing was asked or it was a date)."""
    if not raw:
        return local_today(organization), ""
    try:
        return dt.date.fromisoformat(raw), ""
    except ValueError:
        return local_today(organization), f"“{raw}” is not a date (use YYYY-MM-DD); showing today."
