"""Telling a technician when today's day changes: a visit booked for them, moved onto or off
their day, or cancelled. The technician's day page shows it within seconds (it polls); this
texts the technician too.

Outbox subscribers of the booking topics (`appointment.booked`, `appointment.rescheduled`,
`appointment.cancelled`), registered when `bookings.apps` is ready, in every process. Only
changes to a visit that starts (or started, before a move) today in the organisation's timezone
are texted. Delivery is at least once, so each text is stored with a purpose naming the event
and technician, and a second delivery of the same event queues nothing.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from bookings.models import Job, Technician
from customers.messaging import sms_queue
from customers.models import Message
from dispatchnode.core.models import OutboxEvent
from dispatchnode.core.outbox import outbox_register

TOPICS = ("appointment.booked", "appointment.rescheduled", "appointment.cancelled")


def _on_today(value: str | None, *, tz, today: dt.date) -> dt.datetime | None:
    when = parse_datetime(value) if value else None
    if when is None:
        return None
    local = when.astimezone(tz)
    return local if local.date() == today else None


def _time(local: dt.datetime) -> str:
    return local.strftime("%I:%M %p").lstrip("0")


def technician_day_changes(event: OutboxEvent) -> list[tuple[int, str]]:
    """(technician id, text) for each technician whose today `event` changes."""
    organization = event.organization
    tz = organization.tzinfo
    today = timezone.now().astimezone(tz).date()
    payload = event.payload
    start = _on_today(payload.get("start"), tz=tz, today=today)
    technician = payload.get("technician")
    changes: list[tuple[int, str]] = []
    if event.topic == "appointment.booked" and start:
        changes.append((technician, f"New visit today at {_time(start)}"))
    elif event.topic == "appointment.cancelled" and start:
        changes.append((technician, f"Cancelled: your {_time(start)} visit today"))
    elif event.topic == "appointment.rescheduled":
        previous = payload.get("previous") or {}
        before = _on_today(previous.get("start"), tz=tz, today=today)
        before_tech = previous.get("technician")
        if before and (before_tech != technician or not start):
            changes.append((before_tech, f"Removed from your day: the {_time(before)} visit"))
        if start:
            if before and before_tech == technician:
                text = f"Moved: your {_time(before)} visit is now at {_time(start)}"
            else:
                text = f"New visit today at {_time(start)}"
            changes.append((technician, text))
    return [(pk, text) for pk, text in changes if pk]


def _notify(event: OutboxEvent) -> None:
    changes = technician_day_changes(event)
    if not changes:
        return
    organization = event.organization
    job = (
        Job.objects.filter(organization=organization, pk=event.payload.get("job"))
        .select_related("customer", "location")
        .first()
    )
    if job is None:
        return
    technicians = {
        t.pk: t
        for t in Technician.objects.filter(
            organization=organization, pk__in=[pk for pk, _ in changes]
        )
    }
    for pk, text in changes:
        technician = technicians.get(pk)
        if technician is None or not technician.phone:
            continue
        purpose = f"tech_day_change:{event.pk}:{pk}"
        body = (
            f"{text}: {job.customer.display_name}, {job.location.one_line} ({job.number}). "
            "Open My day for details."
        )
        with transaction.atomic():
            if Message.objects.filter(organization=organization, purpose=purpose).exists():
                continue
            sms_queue(
                organization=organization, to=technician.phone, body=body, job=job, purpose=purpose
            )


for _topic in TOPICS:
    outbox_register(_topic, key="bookings.tech-day-change")(_notify)
