"""A technician is texted when today's visits change: booked, moved onto or off the day,
cancelled; not for other days, and once per event."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bookings.notifications import _notify, technician_day_changes
from customers.models import Message
from dispatchnode.core.models import OutboxEvent
from dispatchnode.core.outbox import outbox_subscribers
from tests import factories

pytestmark = pytest.mark.django_db


def _local(org, days=0, hour=15):
    today = timezone.now().astimezone(org.tzinfo).date() + dt.timedelta(days=days)
    return dt.datetime.combine(today, dt.time(hour), tzinfo=org.tzinfo).isoformat()


def _event(org, topic, **payload):
    return OutboxEvent.objects.create(organization=org, topic=topic, payload=payload)


@pytest.fixture
def job(org):
    return factories.JobFactory(organization=org)


def test_the_subscriber_listens_to_the_booking_topics(org):
    for topic in ("appointment.booked", "appointment.rescheduled", "appointment.cancelled"):
        keys = {s.key for s in outbox_subscribers(organization_id=org.pk, topic=topic)}
        assert "bookings.tech-day-change" in keys


def test_a_visit_booked_for_today_texts_the_technician_once(org, job):
    tina = factories.TechnicianFactory(organization=org, phone="+15125550199")
    event = _event(org, "appointment.booked", technician=tina.pk, job=job.pk, start=_local(org))

    _notify(event)
    _notify(event)  # delivered again

    message = Message.objects.get()
    assert message.to_address == "+15125550199"
    assert message.body.startswith("New visit today at 3:00 PM: ")
    assert job.number in message.body


def test_a_visit_booked_for_tomorrow_texts_nobody(org, job):
    tina = factories.TechnicianFactory(organization=org)
    event = _event(
        org, "appointment.booked", technician=tina.pk, job=job.pk, start=_local(org, days=1)
    )

    assert technician_day_changes(event) == []


def test_a_move_between_technicians_tells_both(org, job):
    tina = factories.TechnicianFactory(organization=org)
    bob = factories.TechnicianFactory(organization=org)
    event = _event(
        org,
        "appointment.rescheduled",
        technician=bob.pk,
        job=job.pk,
        start=_local(org, hour=16),
        previous={"technician": tina.pk, "start": _local(org, hour=10)},
    )

    changes = technician_day_changes(event)

    assert changes == [
        (tina.pk, "Removed from your day: the 10:00 AM visit"),
        (bob.pk, "New visit today at 4:00 PM"),
    ]


def test_a_move_within_the_day_and_a_cancellation(org, job):
    tina = factories.TechnicianFactory(organization=org)
    moved = _event(
        org,
        "appointment.rescheduled",
        technician=tina.pk,
        job=job.pk,
        start=_local(org, hour=16),
        previous={"technician": tina.pk, "start": _local(org, hour=10)},
    )
    cancelled = _event(org, "appointment.cancelled", technician=tina.pk, start=_local(org))

    assert technician_day_changes(moved) == [
        (tina.pk, "Moved: your 10:00 AM visit is now at 4:00 PM")
    ]
    assert technician_day_changes(cancelled) == [(tina.pk, "Cancelled: your 3:00 PM visit today")]
