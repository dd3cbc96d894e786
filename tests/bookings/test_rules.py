"""The status rules of `bookings.rules`: the tables drive the tests, so a change to a table is a
change to what is tested."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.db.models import Q

from bookings.models import Appointment, Job
from bookings.rules import APPOINTMENT_ACTIVE_STATUSES, JOB_TRANSITIONS, job_transition_check
from bookings.services import appointment_book, appointment_cancel
from dispatchnode.core.errors import ApplicationError, Conflict
from dispatchnode.core.models import OutboxEvent
from tests.bookings.test_booking import MONDAY_9, NOW, World, build_world

ALL_PAIRS = list(itertools.product(Job.Status.values, repeat=2))
ALLOWED = [(a, b) for a, b in ALL_PAIRS if b in JOB_TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in ALL_PAIRS if b not in JOB_TRANSITIONS[a]]
LABEL = dict(Job.Status.choices)


@pytest.fixture
def world(org) -> World:
    return build_world(organization=org)


def _no_overlap() -> object:
    [constraint] = [
        c for c in Appointment._meta.constraints if c.name == "bookings_appointment_no_overlap"
    ]
    return constraint


# --- the job transition table -----------------------------------------------------------------


def test_the_table_names_every_job_status_and_only_job_statuses():
    # then every status has a row, every target is a status, and no status moves to itself
    assert sorted(JOB_TRANSITIONS) == sorted(Job.Status.values)
    assert set().union(*JOB_TRANSITIONS.values()) <= set(Job.Status.values)
    assert all(status not in targets for status, targets in JOB_TRANSITIONS.items())
    assert (len(ALLOWED), len(REFUSED)) == (16, 65)


@pytest.mark.parametrize(("current", "to"), ALLOWED)
def test_an_allowed_job_transition_passes(current, to):
    # given
    job = Job(number="J-10001", status=current)

    # when / then: no error
    assert job_transition_check(job=job, to=to) is None


@pytest.mark.parametrize(("current", "to"), REFUSED)
def test_any_other_job_transition_is_a_409_naming_both_statuses(current, to):
    # given
    job = Job(number="J-10001", status=current)

    # when
    with pytest.raises(Conflict) as refused:
        job_transition_check(job=job, to=to)

    # then
    assert refused.value.status_code == 409
    assert refused.value.as_dict() == {
        "detail": f"Job J-10001 is {LABEL[current].lower()}; it cannot become {LABEL[to].lower()}.",
        "code": "illegal_transition",
        "status": current,
        "to": to,
    }


def test_an_unknown_target_status_is_a_400():
    # when
    with pytest.raises(ApplicationError) as refused:
        job_transition_check(job=Job(number="J-10001", status="requested"), to="done")

    # then
    assert (type(refused.value), refused.value.status_code) == (ApplicationError, 400)
    assert refused.value.as_dict() == {
        "detail": "'done' is not a job status.",
        "code": "unknown_status",
        "status": "done",
    }


# --- the services follow the table ------------------------------------------------------------


def test_cancelling_a_visit_of_a_completed_job_with_the_job_is_refused_and_writes_nothing(world):
    # given a booked visit whose job was then marked completed (by the office, say)
    job = world.job()
    appointment = appointment_book(job=job, technician=world.technician, start=MONDAY_9, now=NOW)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.COMPLETED)

    # when the visit is cancelled together with the job
    with pytest.raises(Conflict) as refused:
        appointment_cancel(appointment=appointment, cancel_job=True, now=NOW)

    # then completed -> cancelled is not in the table: nothing changed, no event
    assert (refused.value.code, refused.value.message) == (
        "illegal_transition",
        f"Job {job.number} is completed; it cannot become cancelled.",
    )
    appointment.refresh_from_db()
    job.refresh_from_db()
    assert (appointment.status, job.status, job.cancelled_at) == ("scheduled", "completed", None)
    assert not OutboxEvent.objects.filter(topic="appointment.cancelled").exists()


def test_an_illegal_move_through_the_api_is_a_409_with_the_reason(world, api):
    # given a booked visit whose job is already closed
    job = world.job()
    appointment = appointment_book(job=job, technician=world.technician, start=MONDAY_9, now=NOW)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CLOSED)

    # when
    response = api.post(
        f"/api/v1/appointments/{appointment.pk}/cancel/", {"cancel_job": True}, format="json"
    )

    # then
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Job {job.number} is closed; it cannot become cancelled.",
        "code": "illegal_transition",
        "status": "closed",
        "to": "cancelled",
    }
    assert Appointment.objects.get(pk=appointment.pk).status == "scheduled"


# --- active appointments and the exclusion constraint -----------------------------------------


def test_active_appointments_are_every_status_but_cancelled():
    assert APPOINTMENT_ACTIVE_STATUSES is Appointment.ACTIVE_STATUSES
    assert set(APPOINTMENT_ACTIVE_STATUSES) == set(Appointment.Status.values) - {"cancelled"}


def test_the_exclusion_constraint_covers_exactly_the_active_statuses():
    # given the model's constraint
    constraint = _no_overlap()

    # then its condition is built from the one tuple
    assert constraint.condition == Q(status__in=APPOINTMENT_ACTIVE_STATUSES)
    assert constraint.index_type.lower() == "gist"


@pytest.mark.postgres
def test_the_database_holds_the_constraint_the_model_declares(db):
    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
            ["bookings_appointment_no_overlap"],
        )
        [(definition,)] = cursor.fetchall()

    # then
    statuses = ", ".join(f"'{s}'::character varying" for s in APPOINTMENT_ACTIVE_STATUSES)
    assert definition == (
        "EXCLUDE USING gist (technician_id WITH =, tstzrange(start, \"end\", '[)'::text) WITH &&)"
        f" WHERE (((status)::text = ANY ((ARRAY[{statuses}])::text[])))"
    )
