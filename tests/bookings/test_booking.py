"""Booking services: create jobs, book, reschedule and cancel appointments, with their outbox
events and every refusal (which must leave nothing behind)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import pytest

from bookings.models import Appointment, Job, ServiceType, Skill, Technician
from bookings.services import (
    SlotTaken,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    job_create,
)
from customers.models import ServiceLocation
from dispatchnode.accounts.models import Organization
from dispatchnode.core.errors import ApplicationError, Conflict, NotFound
from dispatchnode.core.models import OutboxEvent
from tests import factories

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
# Friday before the clocks spring forward (Sunday 2026-03-08 02:00): CST, UTC-6.
NOW = dt.datetime(2026, 3, 6, 10, 0, tzinfo=CHICAGO)
# The Monday after: CDT, UTC-5.
MONDAY_9 = dt.datetime(2026, 3, 9, 9, 0, tzinfo=CHICAGO)
AUSTIN = ("30.267200", "-97.743100")


@dataclass
class World:
    """An organisation with HVAC technicians working Mon-Fri 08:00-17:00 (Chicago) from a
    home base at the customers' address (so travel is zero), and a 2-hour HVAC repair."""

    organization: Organization
    skill: Skill
    service_type: ServiceType
    technicians: list[Technician]
    location: ServiceLocation

    @property
    def technician(self) -> Technician:
        return self.technicians[0]

    def job(self, **fields) -> Job:
        customer = factories.CustomerFactory(organization=self.organization)
        location = factories.ServiceLocationFactory(
            customer=customer, latitude=AUSTIN[0], longitude=AUSTIN[1]
        )
        return factories.JobFactory(
            organization=self.organization,
            customer=customer,
            location=location,
            service_type=self.service_type,
            **fields,
        )


def build_world(*, technicians: int = 1, organization: Organization | None = None) -> World:
    organization = organization or factories.OrganizationFactory()
    skill = factories.SkillFactory(organization=organization, code="hvac", name="HVAC")
    service_type = factories.ServiceTypeFactory(
        organization=organization, default_duration_minutes=120, required_skill=skill
    )
    crew = []
    for _ in range(technicians):
        technician = factories.TechnicianFactory(
            organization=organization, home_latitude=AUSTIN[0], home_longitude=AUSTIN[1]
        )
        technician.skills.set([skill])
        for weekday in range(5):
            factories.WorkingHoursFactory(technician=technician, weekday=weekday)
        crew.append(technician)
    location = factories.ServiceLocationFactory(
        customer=factories.CustomerFactory(organization=organization),
        latitude=AUSTIN[0],
        longitude=AUSTIN[1],
    )
    return World(organization, skill, service_type, crew, location)


@pytest.fixture
def world(db) -> World:
    return build_world()


def _events(topic: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(topic=topic).order_by("id"))


def _local(value: dt.datetime) -> str:
    return value.astimezone(CHICAGO).isoformat()


# --- booking ----------------------------------------------------------------------------------


def test_booking_creates_the_offered_appointment_schedules_the_job_and_emits_an_event(world):
    # given a requested job
    job = world.job()

    # when it is booked on the Monday after the clocks sprang forward
    appointment = appointment_book(job=job, technician=world.technician, start=MONDAY_9, now=NOW)

    # then the visit runs 9-11 CDT and the customer is promised the 8-10 window
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (MONDAY_9, MONDAY_9 + dt.timedelta(hours=2))
    assert _local(appointment.arrival_window_start) == "2026-03-09T08:00:00-05:00"
    assert _local(appointment.arrival_window_end) == "2026-03-09T10:00:00-05:00"
    assert (appointment.status, appointment.technician_id) == ("scheduled", world.technician.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SCHEDULED
    [event] = _events("appointment.booked")
    assert (event.aggregate_type, event.aggregate_id) == (
        "bookings.appointment",
        str(appointment.pk),
    )
    assert event.payload == {
        "appointment": appointment.pk,
        "job": job.pk,
        "customer": job.customer_id,
        "technician": world.technician.pk,
        "start": "2026-03-09T09:00:00-05:00",
        "end": "2026-03-09T11:00:00-05:00",
        "arrival_window_start": "2026-03-09T08:00:00-05:00",
        "arrival_window_end": "2026-03-09T10:00:00-05:00",
        "status": "scheduled",
        "actor": None,
    }


def test_the_day_the_clocks_fall_back_keeps_wall_clock_hours(world):
    # given Friday before 2026-11-01 (the clocks fall back at 02:00 on Sunday)
    now = dt.datetime(2026, 10, 30, 10, 0, tzinfo=CHICAGO)
    start = dt.datetime(2026, 11, 2, 8, 0, tzinfo=CHICAGO)

    # when the first slot of Monday is booked
    appointment = appointment_book(
        job=world.job(), technician=world.technician, start=start, now=now
    )

    # then it is 08:00 CST, which is 14:00 UTC (it was 13:00 UTC the week before)
    assert _local(appointment.start) == "2026-11-02T08:00:00-06:00"
    assert appointment.start.astimezone(dt.UTC).hour == 14
    assert _local(appointment.arrival_window_end) == "2026-11-02T10:00:00-06:00"


def test_a_job_may_end_exactly_when_the_shift_ends_but_not_after(world):
    # given two jobs
    last, too_late = world.job(), world.job()

    # when 15:00 on Monday and 15:30 on Tuesday are booked for 2-hour jobs (shift 08:00-17:00)
    booked = appointment_book(
        job=last, technician=world.technician, start=MONDAY_9.replace(hour=15), now=NOW
    )
    with pytest.raises(ApplicationError) as refused:
        appointment_book(
            job=too_late,
            technician=world.technician,
            start=MONDAY_9.replace(day=10, hour=15, minute=30),
            now=NOW,
        )

    # then 15:00-17:00 stands (promised 14-16); 15:30-17:30 is not a time we offer
    assert _local(booked.end) == "2026-03-09T17:00:00-05:00"
    assert _local(booked.arrival_window_start) == "2026-03-09T14:00:00-05:00"
    assert refused.value.code == "not_offered"
    assert "is not a time we offer" in refused.value.message
    assert not too_late.appointments.exists()


def test_a_taken_slot_is_slot_taken_with_fresh_alternatives_and_nothing_written(world):
    # given the technician already booked 9-11 on Monday for another job
    appointment_book(job=world.job(), technician=world.technician, start=MONDAY_9, now=NOW)
    job = world.job()
    events_before = OutboxEvent.objects.count()

    # when this job asks for 9:00 too
    with pytest.raises(SlotTaken) as taken:
        appointment_book(job=job, technician=world.technician, start=MONDAY_9, now=NOW)

    # then: a 409 with three alternatives that are really free, and no trace of the attempt
    error = taken.value
    assert (error.status_code, error.code) == (409, "slot_taken")
    assert len(error.alternatives) == 3
    for slot in error.alternatives:
        assert slot.technician_id == world.technician.pk
        assert slot.start >= MONDAY_9 + dt.timedelta(hours=2) or slot.end <= MONDAY_9
    body = error.as_dict()
    assert body["code"] == "slot_taken"
    assert body["alternatives"][0] == {
        "technician": world.technician.pk,
        "start": error.alternatives[0].start.isoformat(),
        "end": error.alternatives[0].end.isoformat(),
        "arrival_window_start": error.alternatives[0].arrival_window_start.isoformat(),
        "arrival_window_end": error.alternatives[0].arrival_window_end.isoformat(),
    }
    assert not job.appointments.exists()
    job.refresh_from_db()
    assert job.status == Job.Status.REQUESTED
    assert OutboxEvent.objects.count() == events_before


@pytest.mark.parametrize(
    ("start", "code", "words"),
    [
        (NOW - dt.timedelta(hours=1), "start_in_past", "in the past"),
        (MONDAY_9.replace(tzinfo=None), "naive_time", "UTC offset"),
        (MONDAY_9.replace(minute=10), "not_offered", "every 30 minutes"),
        (MONDAY_9.replace(hour=19), "not_offered", "outside their hours"),
        (NOW + dt.timedelta(days=30), "not_offered", "is not a time we offer"),
    ],
    ids=["past", "naive", "misaligned", "after-hours", "beyond-horizon"],
)
def test_a_start_that_was_never_offered_is_refused_with_the_reason(world, start, code, words):
    # given
    job = world.job()

    # when
    with pytest.raises(ApplicationError) as refused:
        appointment_book(job=job, technician=world.technician, start=start, now=NOW)

    # then
    assert (refused.value.status_code, refused.value.code) == (400, code)
    assert words in refused.value.message
    assert not Appointment.objects.exists()
    assert not OutboxEvent.objects.filter(topic__startswith="appointment.").exists()


def test_a_technician_without_the_skill_is_refused(world):
    # given a plumber
    plumber = factories.TechnicianFactory(organization=world.organization)
    factories.WorkingHoursFactory(technician=plumber, weekday=0)

    # when
    with pytest.raises(ApplicationError) as refused:
        appointment_book(job=world.job(), technician=plumber, start=MONDAY_9, now=NOW)

    # then
    assert refused.value.code == "missing_skill"
    assert "'HVAC'" in refused.value.message
    assert not Appointment.objects.exists()


def test_time_off_makes_a_start_unbookable(world):
    # given Monday morning off
    factories.TimeOffFactory(
        technician=world.technician, start=MONDAY_9.replace(hour=8), end=MONDAY_9.replace(hour=12)
    )

    # when
    with pytest.raises(ApplicationError) as refused:
        appointment_book(job=world.job(), technician=world.technician, start=MONDAY_9, now=NOW)

    # then
    assert refused.value.code == "not_offered"
    assert not Appointment.objects.exists()


def test_an_unknown_or_foreign_technician_or_job_is_not_found(world):
    # given another organisation with its own technician and job
    elsewhere = build_world()
    ours = world.job()
    deleted = factories.TechnicianFactory(organization=world.organization)
    deleted_copy = Technician.objects.get(pk=deleted.pk)
    deleted.delete()

    # when / then: their technician for our job, our technician for their job, a deleted one
    for job, technician in (
        (ours, elsewhere.technician),
        (elsewhere.job(), world.technician),
        (ours, deleted_copy),
    ):
        with pytest.raises(NotFound) as missing:
            appointment_book(job=job, technician=technician, start=MONDAY_9, now=NOW)
        assert missing.value.message == "Unknown technician."
    assert not Appointment.objects.exists()


def test_an_emergency_is_booked_after_hours_with_the_on_call_technician(world):
    # given Saturday night on-call cover and an emergency
    saturday_22 = dt.datetime(2026, 3, 7, 22, 0, tzinfo=CHICAGO)
    factories.OnCallShiftFactory(
        technician=world.technician,
        start=saturday_22.replace(hour=17),
        end=saturday_22 + dt.timedelta(hours=10),
    )
    emergency, routine = world.job(priority="emergency"), world.job()

    # when both ask for 22:00 on Saturday, the routine job first
    with pytest.raises(ApplicationError) as refused:
        appointment_book(job=routine, technician=world.technician, start=saturday_22, now=NOW)
    booked = appointment_book(
        job=emergency, technician=world.technician, start=saturday_22, now=NOW
    )

    # then the emergency gets it with a window from its start; a routine job does not
    assert (_local(booked.arrival_window_start), _local(booked.arrival_window_end)) == (
        "2026-03-07T22:00:00-06:00",
        "2026-03-08T00:00:00-06:00",
    )
    assert refused.value.code == "not_offered"


def test_a_job_that_is_already_booked_or_closed_is_refused(world):
    # given a booked job and a cancelled one
    booked = world.job()
    appointment_book(job=booked, technician=world.technician, start=MONDAY_9, now=NOW)
    cancelled = world.job(status=Job.Status.CANCELLED)

    # when each is booked (again)
    with pytest.raises(Conflict) as again:
        appointment_book(
            job=booked, technician=world.technician, start=MONDAY_9.replace(hour=13), now=NOW
        )
    with pytest.raises(Conflict) as closed:
        appointment_book(job=cancelled, technician=world.technician, start=MONDAY_9, now=NOW)

    # then
    assert again.value.code == "already_booked"
    assert closed.value.code == "job_not_bookable"
    assert Appointment.objects.count() == 1


# --- rescheduling -----------------------------------------------------------------------------


def test_rescheduling_moves_the_visit_frees_the_old_time_and_emits_an_event(db):
    # given two technicians and a visit at 9:00 with the first
    world = build_world(technicians=2)
    first, second = world.technicians
    job = world.job()
    appointment = appointment_book(job=job, technician=first, start=MONDAY_9, now=NOW)

    # when it moves half an hour (within its own interval), then to the second technician at 13:00
    appointment_reschedule(appointment=appointment, start=MONDAY_9.replace(minute=30), now=NOW)
    moved = appointment_reschedule(
        appointment=appointment, start=MONDAY_9.replace(hour=13), technician=second, now=NOW
    )
    other = appointment_book(job=world.job(), technician=first, start=MONDAY_9, now=NOW)

    # then it is the same appointment, and the old time is bookable again
    assert moved.pk == appointment.pk
    moved.refresh_from_db()
    assert (moved.technician_id, _local(moved.start), _local(moved.arrival_window_start)) == (
        second.pk,
        "2026-03-09T13:00:00-05:00",
        "2026-03-09T12:00:00-05:00",
    )
    assert other.start == MONDAY_9
    events = _events("appointment.rescheduled")
    assert len(events) == 2
    assert events[1].payload["previous"] == {
        "technician": first.pk,
        "start": "2026-03-09T09:30:00-05:00",
        "end": "2026-03-09T11:30:00-05:00",
        "arrival_window_start": "2026-03-09T08:00:00-05:00",
        "arrival_window_end": "2026-03-09T10:00:00-05:00",
    }
    assert events[1].payload["start"] == "2026-03-09T13:00:00-05:00"
    assert events[1].payload["technician"] == second.pk


def test_rescheduling_into_a_taken_time_changes_nothing(world):
    # given visits at 9:00 and 13:00
    appointment = appointment_book(
        job=world.job(), technician=world.technician, start=MONDAY_9, now=NOW
    )
    appointment_book(
        job=world.job(), technician=world.technician, start=MONDAY_9.replace(hour=13), now=NOW
    )

    # when the 9:00 visit asks for 12:00 (it would overlap 13:00)
    with pytest.raises(SlotTaken) as taken:
        appointment_reschedule(appointment=appointment, start=MONDAY_9.replace(hour=12), now=NOW)

    # then it stays at 9:00, in memory and in the database, with no event
    assert taken.value.alternatives
    assert appointment.start == MONDAY_9
    appointment.refresh_from_db()
    assert appointment.start == MONDAY_9
    assert not _events("appointment.rescheduled")


def test_a_visit_under_way_cannot_be_rescheduled(world):
    # given a technician on the way
    appointment = appointment_book(
        job=world.job(), technician=world.technician, start=MONDAY_9, now=NOW
    )
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.EN_ROUTE)

    # when
    with pytest.raises(Conflict) as refused:
        appointment_reschedule(appointment=appointment, start=MONDAY_9.replace(hour=13), now=NOW)

    # then
    assert refused.value.code == "not_reschedulable"
    appointment.refresh_from_db()
    assert (appointment.start, appointment.status) == (MONDAY_9, "en_route")


# --- cancelling -------------------------------------------------------------------------------


def test_cancelling_frees_the_slot_at_once_and_puts_the_job_back_to_requested(world):
    # given a booked visit
    job = world.job()
    appointment = appointment_book(job=job, technician=world.technician, start=MONDAY_9, now=NOW)

    # when it is cancelled (twice: a retried request), and another job takes the time
    appointment_cancel(appointment=appointment, reason="Customer fixed it", now=NOW)
    appointment_cancel(appointment=appointment, reason="Customer fixed it", now=NOW)
    other = appointment_book(job=world.job(), technician=world.technician, start=MONDAY_9, now=NOW)

    # then
    appointment.refresh_from_db()
    job.refresh_from_db()
    assert (appointment.status, appointment.cancelled_at) == ("cancelled", NOW)
    assert job.status == Job.Status.REQUESTED
    assert other.start == MONDAY_9
    [event] = _events("appointment.cancelled")
    assert (event.payload["reason"], event.payload["job_cancelled"], event.payload["status"]) == (
        "Customer fixed it",
        False,
        "cancelled",
    )


def test_cancelling_with_the_job_cancels_the_job(world):
    # given
    job = world.job()
    appointment = appointment_book(job=job, technician=world.technician, start=MONDAY_9, now=NOW)

    # when
    appointment_cancel(appointment=appointment, reason="Moved house", cancel_job=True, now=NOW)

    # then
    job.refresh_from_db()
    assert (job.status, job.cancel_reason, job.cancelled_at) == ("cancelled", "Moved house", NOW)
    assert _events("appointment.cancelled")[0].payload["job_cancelled"] is True


def test_a_visit_in_progress_cannot_be_cancelled(world):
    # given
    appointment = appointment_book(
        job=world.job(), technician=world.technician, start=MONDAY_9, now=NOW
    )
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.IN_PROGRESS)

    # when
    with pytest.raises(Conflict) as refused:
        appointment_cancel(appointment=appointment, now=NOW)

    # then
    assert refused.value.code == "not_cancellable"
    assert not _events("appointment.cancelled")


# --- creating jobs ----------------------------------------------------------------------------


def test_jobs_are_numbered_from_j_10001_and_emit_job_created(world):
    # given
    customer = world.location.customer

    # when
    first, second = (
        job_create(
            organization=world.organization,
            customer=customer,
            location=world.location,
            service_type=world.service_type,
            description="No cooling",
            priority="high",
            customer_preference="Tuesday afternoon",
        )
        for _ in range(2)
    )

    # then
    assert (first.number, second.number) == ("J-10001", "J-10002")
    first.refresh_from_db()
    assert (first.status, first.source, first.priority, first.customer_preference) == (
        "requested",
        "api",
        "high",
        "Tuesday afternoon",
    )
    assert _events("job.created")[0].payload == {
        "job": first.pk,
        "number": "J-10001",
        "customer": customer.pk,
        "location": world.location.pk,
        "service_type": world.service_type.pk,
        "priority": "high",
        "source": "api",
        "actor": None,
    }


def test_a_job_needs_the_customers_location_an_offered_service_and_a_serviceable_customer(world):
    # given
    customer = world.location.customer
    strangers_home = factories.ServiceLocationFactory(
        customer=factories.CustomerFactory(organization=world.organization)
    )
    retired = factories.ServiceTypeFactory(organization=world.organization, is_active=False)
    banned = factories.CustomerFactory(
        organization=world.organization, do_not_service=True, do_not_service_reason="Unpaid"
    )
    banned_home = factories.ServiceLocationFactory(customer=banned)
    foreign = build_world()

    def create(**overrides):
        fields = {
            "organization": world.organization,
            "customer": customer,
            "location": world.location,
            "service_type": world.service_type,
        }
        with pytest.raises(ApplicationError) as refused:
            job_create(**{**fields, **overrides})
        return refused.value

    # when / then
    assert create(location=strangers_home).code == "location_mismatch"
    assert create(service_type=retired).code == "service_type_inactive"
    banned_error = create(customer=banned, location=banned_home)
    assert (banned_error.code, banned_error.message.endswith("Unpaid.")) == (
        "do_not_service",
        True,
    )
    assert isinstance(create(customer=foreign.location.customer), NotFound)
    assert isinstance(create(service_type=foreign.service_type), NotFound)
    assert not Job.objects.filter(organization=world.organization).exists()
    assert not _events("job.created")
