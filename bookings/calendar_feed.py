"""Each technician's private iCalendar feed (RFC 5545), so Google Calendar or Outlook can subscribe
to their appointments before the two-way calendar connectors exist.

Written by hand rather than with a library: the feed is one small, fixed shape, and writing it
here keeps the runtime free of a dependency (tests parse it with `icalendar`, an independent
reader).

What a subscriber sees
- One VEVENT per appointment from 30 days ago to 90 days ahead, times in UTC (`...Z`), so no
  VTIMEZONE is needed and daylight-saving changes cannot shift an event. The organisation's
  timezone is named in `X-WR-TIMEZONE` and used for the arrival window in the description.
- Cancelled appointments are left out. A subscribed calendar is a read-only snapshot that the
  client replaces on every refresh, so an event missing from the feed disappears from Google,
  Outlook and Apple Calendar within one refresh. Publishing them as `STATUS:CANCELLED` instead
  would leave struck-through "cancelled" entries in some clients (Apple, Outlook) cluttering the
  technician's day, and RFC 5546 expresses cancellation with `METHOD:CANCEL`, which a
  `METHOD:PUBLISH` feed cannot carry.
- `UID` is stable per appointment; `SEQUENCE` is the seconds between the row's creation and its
  last change, so it only grows and every change (reschedule, status) propagates. It starts at 0
  and stays far below the 32-bit limit some clients assume.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from bookings.models import Appointment, Technician

FEED_PAST = dt.timedelta(days=30)
FEED_AHEAD = dt.timedelta(days=90)
REFRESH_INTERVAL = "PT15M"
PRODID = "-//DispatchNode//Technician calendar feed//EN"
_LINE_OCTETS = 75  # RFC 5545 §3.1: lines SHOULD NOT be longer than 75 octets, excluding CRLF
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # CTLs TEXT may not hold (HTAB and LF may)


def ics_escape(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped.

    Other control characters are dropped: they are invalid in TEXT and some parsers reject the
    whole feed for one stray character pasted into a note.
    """
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ics_fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character.

    Continuation lines start with one space, which counts towards their 75 octets.
    """
    if len(line.encode()) <= _LINE_OCTETS:
        return line
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, _LINE_OCTETS
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, _LINE_OCTETS - 1
        current.append(char)
        size += octets
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _clock(value: dt.datetime) -> str:
    return value.strftime("%I:%M %p").lstrip("0")


def _day(value: dt.datetime) -> str:
    return f"{value:%a} {value.day} {value:%b}"


def arrival_window_text(start: dt.datetime, end: dt.datetime, *, tz: zoneinfo.ZoneInfo) -> str:
    """ "Mon 9 Mar, 8:00 AM – 10:00 AM CDT" in the organisation's timezone; each end carries its
    own abbreviation when the window crosses a daylight-saving change."""
    start, end = start.astimezone(tz), end.astimezone(tz)
    same_zone = start.tzname() == end.tzname()
    first = f"{_day(start)}, {_clock(start)}" + ("" if same_zone else f" {start.tzname()}")
    second = _clock(end) if start.date() == end.date() else f"{_day(end)}, {_clock(end)}"
    return f"{first} – {second} {end.tzname()}"


def calendar_feed_url(*, technician: Technician) -> str:
    """The feed's URL: absolute under PUBLIC_BASE_URL when that is set, else the path alone.
    Empty when the technician has no feed."""
    if not technician.calendar_token:
        return ""
    path = reverse("calendar_feed", kwargs={"token": technician.calendar_token})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def calendar_feed_technician(*, token: str) -> Technician | None:
    """The active technician (of an active organisation) whose feed token this is, or None.

    A blank token never matches: blank is how a technician without a feed is stored.
    """
    if not token:
        return None
    return (
        Technician.objects.select_related("organization")
        .filter(calendar_token=token, is_active=True, organization__is_active=True)
        .first()
    )


def calendar_feed_appointments(
    *, technician: Technician, now: dt.datetime
) -> QuerySet[Appointment]:
    """The feed's appointments with everything an event renders, in one query."""
    return (
        Appointment.objects.filter(
            organization_id=technician.organization_id,
            technician=technician,
            start__lt=now + FEED_AHEAD,
            end__gt=now - FEED_PAST,
        )
        .filter(status__in=Appointment.ACTIVE_STATUSES)
        .select_related("job", "job__service_type", "job__customer", "job__location")
        .order_by("start", "id")
    )


def _description(appointment: Appointment, *, tz: zoneinfo.ZoneInfo) -> str:
    """What the technician needs on the way: the job, the promise made, how to get in."""
    job, location = appointment.job, appointment.job.location
    window_start, window_end = appointment.arrival_window_start, appointment.arrival_window_end
    if window_start and window_end:
        promise = f"Arrival window promised: {arrival_window_text(window_start, window_end, tz=tz)}"
    else:
        start = appointment.start.astimezone(tz)
        promise = f"Arrival: {_day(start)}, {_clock(start)} {start.tzname()}"
    lines = [f"Job {job.number}", promise, f"Customer: {job.customer.display_name}"]
    if job.description:
        lines += ["", job.description]
    access = [
        ("Gate code", location.gate_code),
        ("Pets", location.pets),
        ("Parking", location.parking),
        ("Access notes", location.access_notes),
    ]
    if any(value for _, value in access):
        lines.append("")
        lines += [f"{label}: {value}" for label, value in access if value]
    return "\n".join(lines)


def _event(appointment: Appointment, *, host: str, stamp: str, tz: zoneinfo.ZoneInfo) -> list[str]:
    job, location = appointment.job, appointment.job.location
    what = job.service_type.name if job.service_type else f"Job {job.number}"
    sequence = max(0, int((appointment.updated_at - appointment.created_at).total_seconds()))
    lines = [
        "BEGIN:VEVENT",
        f"UID:appointment-{appointment.pk}@{host}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{_utc(appointment.start)}",
        f"DTEND:{_utc(appointment.end)}",
        f"CREATED:{_utc(appointment.created_at)}",
        f"LAST-MODIFIED:{_utc(appointment.updated_at)}",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{ics_escape(f'{what} — {job.customer.display_name}')}",
        f"LOCATION:{ics_escape(location.one_line)}",
        f"DESCRIPTION:{ics_escape(_description(appointment, tz=tz))}",
    ]
    if location.latitude is not None and location.longitude is not None:
        lines.append(f"GEO:{location.latitude};{location.longitude}")
    # Gate codes are in the description: ask clients not to show details on shared views.
    lines += ["CLASS:PRIVATE", "STATUS:CONFIRMED", "TRANSP:OPAQUE", "END:VEVENT"]
    return lines


def calendar_feed_ics(*, technician: Technician, now: dt.datetime | None = None) -> str:
    """The technician's feed as an RFC 5545 document (CRLF line endings, folded lines)."""
    now = now or timezone.now()
    organization = technician.organization
    tz = zoneinfo.ZoneInfo(organization.timezone)
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or "dispatchnode"
    name = ics_escape(f"{technician.display_name} — {organization.name}")
    stamp = _utc(now)
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{name}",
        f"X-WR-CALNAME:{name}",
        f"X-WR-TIMEZONE:{organization.timezone}",
        f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH_INTERVAL}",
        f"X-PUBLISHED-TTL:{REFRESH_INTERVAL}",
    ]
    for appointment in calendar_feed_appointments(technician=technician, now=now):
        lines += _event(appointment, host=host, stamp=stamp, tz=tz)
    lines.append("END:VCALENDAR")
    return "".join(f"{ics_fold(line)}\r\n" for line in lines)
