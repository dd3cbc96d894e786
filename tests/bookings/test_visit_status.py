"""On my way and Start: statuses, timestamps, the ETA text, idempotency and refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bookings.models import Appointment, Job, VisitAction
from bookings.services_visits import appointment_en_route, appointment_start, visit_action_run
from customers.models import Message
from dispatchnode.core.errors import Conflict
from dispatchnode.core.models import OutboxEvent
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 9, 19, 0, tzinfo=dt.UTC)  # 2:00 PM in Chicago (CDT)


@pytest.fixture
def visit(org):
    technician = factories.TechnicianFactory(organization=org, first_name="Tina")
    job = factories.JobFactory(organization=org, status=Job.Status.SCHEDULED)
    factories.ContactPointFactory(customer=job.customer, value="+15125550142")
    return factories.AppointmentFactory(
        organization=org,
        job=job,
        technician=technician,
        start=NOW + dt.timedelta(hours=1),
        end=NOW + dt.timedelta(hours=3),
    )


def test_on_my_way_moves_visit_and_job_and_texts_the_eta(visit):
    appointment_en_route(appointment=visit, eta_minutes=40, now=NOW)

    visit.refresh_from_db()
    assert visit.status == Appointment.Status.EN_ROUTE
    assert visit.en_route_at == NOW
    assert visit.job.status == Job.Status.EN_ROUTE
    message = Message.objects.get(purpose="on_my_way")
    assert message.to_address == "+15125550142"
    assert "Tina is on the way, arriving about 2:40 PM" in message.body
    assert message.job_id == visit.job_id
    assert OutboxEvent.objects.filter(topic="appointment.en_route").count() == 1


def test_on_my_way_twice_is_one_effect(visit):
    appointment_en_route(appointment=visit, eta_minutes=40, now=NOW)
    appointment_en_route(appointment=visit, eta_minutes=10, now=NOW + dt.timedelta(minutes=5))

    visit.refresh_from_db()
    assert visit.en_route_at == NOW
    assert Message.objects.filter(purpose="on_my_way").count() == 1
    assert OutboxEvent.objects.filter(topic="appointment.en_route").count() == 1


def test_start_after_on_my_way(visit):
    appointment_en_route(appointment=visit, now=NOW)
    appointment_start(appointment=visit, now=NOW + dt.timedelta(minutes=30))
    appointment_start(appointment=visit, now=NOW + dt.timedelta(minutes=45))

    visit.refresh_from_db()
    assert visit.status == Appointment.Status.IN_PROGRESS
    assert visit.started_at == NOW + dt.timedelta(minutes=30)
    assert visit.job.status == Job.Status.IN_PROGRESS
    assert OutboxEvent.objects.filter(topic="appointment.started").count() == 1


def test_start_without_on_my_way_walks_the_job_through_legal_steps(visit):
    appointment_start(appointment=visit, now=NOW)

    visit.refresh_from_db()
    assert visit.job.status == Job.Status.IN_PROGRESS
    assert Message.objects.count() == 0


def test_without_eta_the_text_uses_the_start_when_ahead(visit):
    appointment_en_route(appointment=visit, now=NOW)

    assert "arriving about 3:00 PM" in Message.objects.get().body


def test_on_my_way_after_start_is_a_conflict(visit):
    appointment_start(appointment=visit, now=NOW)

    with pytest.raises(Conflict) as caught:
        appointment_en_route(appointment=visit, now=NOW)

    assert "in progress" in caught.value.message
    assert caught.value.code == "illegal_visit_transition"


def test_a_cancelled_visit_cannot_start(visit):
    Appointment.objects.filter(pk=visit.pk).update(status=Appointment.Status.CANCELLED)

    with pytest.raises(Conflict, match="cancelled"):
        appointment_start(appointment=visit, now=NOW)
    assert Job.objects.get(pk=visit.job_id).status == Job.Status.SCHEDULED


def test_a_visit_action_key_applies_once(visit):
    def run():
        return visit_action_run(
            technician=visit.technician,
            appointment=visit,
            key="k-1",
            kind=VisitAction.Kind.EN_ROUTE,
            perform=lambda: {
                "status": appointment_en_route(appointment=visit, now=timezone.now()).status
            },
        )

    first, first_replayed = run()
    second, second_replayed = run()

    assert (first_replayed, second_replayed) == (False, True)
    assert first.pk == second.pk
    assert second.result == {"status": "en_route"}
    assert VisitAction.objects.count() == 1
    assert Message.objects.count() == 1


def test_a_failed_action_leaves_its_key_unused(visit):
    Appointment.objects.filter(pk=visit.pk).update(status=Appointment.Status.CANCELLED)

    with pytest.raises(Conflict):
        visit_action_run(
            technician=visit.technician,
            appointment=visit,
            key="k-2",
            kind=VisitAction.Kind.START,
            perform=lambda: {"status": appointment_start(appointment=visit).status},
        )

    assert VisitAction.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_at_once_from_many_threads_applies_once(org):
    # given: a visit, and eight copies of one tap arriving together (a phone retrying)
    from tests.bookings.test_double_booking_race import race

    technician = factories.TechnicianFactory(organization=org)
    job = factories.JobFactory(organization=org, status=Job.Status.SCHEDULED)
    factories.ContactPointFactory(customer=job.customer)
    visit = factories.AppointmentFactory(organization=org, job=job, technician=technician)

    def attempt(_i):
        appointment = Appointment.objects.get(pk=visit.pk)
        _action, replayed = visit_action_run(
            technician=technician,
            appointment=appointment,
            key="same-key",
            kind=VisitAction.Kind.EN_ROUTE,
            perform=lambda: {"status": appointment_en_route(appointment=appointment).status},
        )
        return replayed

    # when
    outcomes, _seconds = race(8, attempt)

    # then: one applied it, seven got its answer back, one text
    assert sorted(outcomes, key=str) == [False] + [True] * 7
    assert VisitAction.objects.count() == 1
    assert Message.objects.filter(purpose="on_my_way").count() == 1
