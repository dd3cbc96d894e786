"""The dispatch board: the day's timeline, the unassigned queue, moves through the booking
services (and their refusals), the poll, tenancy, roles and the query budget."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import Appointment, Job
from bookings.services import appointment_book, job_create
from tests import factories

BOARD = reverse("dashboard:board")
MOVE = reverse("dashboard:board_move")
POLL = reverse("dashboard:board_poll")


def _day(org) -> dt.date:
    return (timezone.now().astimezone(org.tzinfo) + dt.timedelta(days=2)).date()


def _at(org, day, hh, mm=0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=org.tzinfo)


@pytest.fixture
def shop(org):
    service = factories.ServiceTypeFactory(organization=org, name="AC repair")
    technicians = []
    for name in ("Ana", "Ben"):
        tech = factories.TechnicianFactory(organization=org, first_name=name, last_name="Tech")
        for weekday in range(7):
            factories.WorkingHoursFactory(organization=org, technician=tech, weekday=weekday)
        technicians.append(tech)
    return service, technicians


def _job(org, service, *, priority=Job.Priority.NORMAL, name="Cara"):
    customer = factories.CustomerFactory(organization=org, first_name=name, last_name="Client")
    location = factories.ServiceLocationFactory(organization=org, customer=customer)
    return job_create(
        organization=org,
        customer=customer,
        location=location,
        service_type=service,
        priority=priority,
    )


def _booked(org, service, technician, day, hh, **kw):
    job = _job(org, service, **kw)
    return appointment_book(job=job, technician=technician, start=_at(org, day, hh))


def test_the_board_shows_technicians_visits_drives_and_the_queue(office_client, org, shop):
    service, (ana, _ben) = shop
    day = _day(org)
    first = _booked(org, service, ana, day, 8, name="Dora")
    _booked(org, service, ana, day, 11, name="Eli")
    _job(org, service, name="Fay")
    _job(org, service, priority=Job.Priority.EMERGENCY, name="Gus")

    response = office_client.get(BOARD, {"date": day.isoformat()})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Ana Tech" in html
    assert "Ben Tech" in html
    assert first.job.number in html
    assert "Dora Client" in html
    assert "AC repair" in html
    assert "arrive 08:00–10:00" in html
    assert "st-scheduled" in html
    assert "′ drive" in html  # the drive between Dora's and Eli's visits
    queue = html[html.index('id="queue-title"') :]
    assert queue.index("Gus Client") < queue.index("Fay Client")  # emergencies first
    assert "badge pr-emergency" in queue
    assert 'aria-current="page"' in html
    assert ">Board</a>" in html


def test_a_bad_date_says_so_and_shows_today(office_client, org, shop):
    response = office_client.get(BOARD, {"date": "2026-13-45"})
    assert response.status_code == 400
    assert "is not a date (use YYYY-MM-DD)" in response.content.decode()


def test_empty_states(office_client, org):
    html = office_client.get(BOARD).content.decode()
    assert "No technicians yet: add them in the" in html
    assert "Nothing unassigned." in html


def _move(client, **fields):
    return client.post(MOVE, fields, HTTP_HX_REQUEST="true")


def test_a_move_books_an_unassigned_job_through_the_service(office_client, org, shop, dispatcher):
    service, (_ana, ben) = shop
    day = _day(org)
    job = _job(org, service)

    response = _move(
        office_client,
        kind="job",
        id=job.pk,
        technician=ben.pk,
        start=f"{day.isoformat()}T09:30",
        date=day.isoformat(),
    )

    assert response.status_code == 200
    assert f"Booked {job.number} with Ben Tech" in response.content.decode()
    appointment = Appointment.objects.get(job=job)
    assert appointment.technician == ben
    assert appointment.start == _at(org, day, 9, 30)
    job.refresh_from_db()
    assert job.status == Job.Status.SCHEDULED


def test_a_move_reschedules_a_visit_to_another_technician(office_client, org, shop):
    service, (ana, ben) = shop
    day = _day(org)
    visit = _booked(org, service, ana, day, 8)

    response = _move(
        office_client,
        kind="appointment",
        id=visit.pk,
        technician=ben.pk,
        start=f"{day.isoformat()}T13:00",
        date=day.isoformat(),
    )

    assert response.status_code == 200
    assert "Moved" in response.content.decode()
    visit.refresh_from_db()
    assert (visit.technician, visit.start) == (ben, _at(org, day, 13))


def test_an_overlapping_move_is_refused_with_alternatives_and_nothing_changes(
    office_client, org, shop
):
    service, (ana, _ben) = shop
    day = _day(org)
    _booked(org, service, ana, day, 10)
    job = _job(org, service)

    response = _move(
        office_client,
        kind="job",
        id=job.pk,
        technician=ana.pk,
        start=f"{day.isoformat()}T10:30",
        date=day.isoformat(),
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "Not moved:" in html
    assert "Ana Tech is no longer free" in html
    assert 'class="alt"' in html  # alternatives, clickable
    assert not Appointment.objects.filter(job=job).exists()


def test_a_move_outside_hours_is_refused_with_its_reason(office_client, org, shop):
    service, (ana, _ben) = shop
    day = _day(org)
    visit = _booked(org, service, ana, day, 8)

    response = _move(
        office_client,
        kind="appointment",
        id=visit.pk,
        technician=ana.pk,
        start=f"{day.isoformat()}T18:00",
        date=day.isoformat(),
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "is not a time we offer with Ana Tech: outside their hours" in html
    assert 'class="alt"' in html
    visit.refresh_from_db()
    assert visit.start == _at(org, day, 8)


@pytest.mark.parametrize("field", ["id", "technician"])
def test_another_organisations_ids_are_404_like_missing_ones(
    office_client, org, other_org, shop, field
):
    service, (ana, _) = shop
    day = _day(org)
    job = _job(org, service)
    foreign_service = factories.ServiceTypeFactory(organization=other_org)
    foreign_job = _job(other_org, foreign_service)
    foreign_tech = factories.TechnicianFactory(organization=other_org)
    fields = {
        "kind": "job",
        "id": job.pk,
        "technician": ana.pk,
        "start": f"{day.isoformat()}T09:00",
        "date": day.isoformat(),
    }
    foreign = dict(fields, **{field: foreign_job.pk if field == "id" else foreign_tech.pk})
    missing = dict(fields, **{field: 999999})

    answers = [_move(office_client, **f) for f in (foreign, missing)]

    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].content == answers[1].content
    assert not Appointment.objects.exists()


def test_another_organisations_appointment_is_404_like_a_missing_one(
    office_client, org, other_org, shop
):
    _service, (ana, _) = shop
    day = _day(other_org)
    foreign_tech = factories.TechnicianFactory(organization=other_org)
    factories.WorkingHoursFactory(
        organization=other_org, technician=foreign_tech, weekday=day.weekday()
    )
    foreign = _booked(
        other_org, factories.ServiceTypeFactory(organization=other_org), foreign_tech, day, 9
    )
    fields = {"kind": "appointment", "technician": ana.pk, "start": f"{day}T09:00", "date": day}

    answers = [_move(office_client, id=pk, **fields) for pk in (foreign.pk, 999999)]

    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].content == answers[1].content
    foreign.refresh_from_db()
    assert foreign.technician == foreign_tech


def test_technicians_may_not_use_the_board(tech_client, org, shop):
    assert tech_client.get(BOARD).status_code == 403
    assert tech_client.get(POLL).status_code == 403
    assert tech_client.post(MOVE, {"kind": "job", "id": 1}).status_code == 403


def test_the_poll_is_204_until_something_changes(office_client, org, shop):
    service, (ana, ben) = shop
    day = _day(org)
    page = office_client.get(BOARD, {"date": day.isoformat()})
    version = page.context["version"]

    unchanged = office_client.get(POLL, {"date": day.isoformat(), "v": version})
    assert unchanged.status_code == 204

    job = _job(org, service, name="Hal")  # e.g. a call booked a job
    changed = office_client.get(POLL, {"date": day.isoformat(), "v": version})
    assert changed.status_code == 200
    assert "Hal Client" in changed.content.decode()
    version = changed.context["version"]

    appointment_book(job=job, technician=ben, start=_at(org, day, 9))
    assert office_client.get(POLL, {"date": day.isoformat(), "v": version}).status_code == 200

    version = office_client.get(POLL, {"date": day.isoformat()}).context["version"]
    ana.is_active = False  # a technician's status changes
    ana.save()
    answer = office_client.get(POLL, {"date": day.isoformat(), "v": version})
    assert answer.status_code == 200
    assert "Ana Tech" not in answer.content.decode()


@pytest.mark.parametrize("url", [BOARD, POLL])
def test_the_query_count_does_not_grow_with_the_day(
    office_client, org, shop, django_assert_max_num_queries, url
):
    service, _technicians = shop
    day = _day(org)

    def fill(count):
        for i in range(count):
            tech = factories.TechnicianFactory(organization=org)
            factories.WorkingHoursFactory(organization=org, technician=tech, weekday=day.weekday())
            _booked(org, service, tech, day, 8 + (i % 3) * 3)
            _job(org, service)

    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert office_client.get(url, {"date": day.isoformat()}).status_code == 200
        return len(captured.captured_queries)

    fill(3)
    small = count_queries()
    fill(27)
    with django_assert_max_num_queries(small):
        assert office_client.get(url, {"date": day.isoformat()}).status_code == 200
    assert small <= 15, small


def test_without_javascript_the_move_form_answers_the_whole_page(office_client, org, shop):
    service, (ana, _ben) = shop
    day = _day(org)
    job = _job(org, service)

    response = office_client.post(
        MOVE,
        {"kind": "job", "id": job.pk, "technician": ana.pk, "start": f"{day}T13:00", "date": day},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert f"Booked {job.number} with Ana Tech" in html
    assert Appointment.objects.get(job=job).start == _at(org, day, 13)


def test_a_start_that_is_not_a_time_is_refused(office_client, org, shop):
    service, (ana, _ben) = shop
    job = _job(org, service)
    response = _move(office_client, kind="job", id=job.pk, technician=ana.pk, start="soon")
    assert response.status_code == 400
    assert "“soon” is not a start time." in response.content.decode()
    assert not Appointment.objects.exists()
