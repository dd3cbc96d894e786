"""The booking API: create a job, ask for slots, book, reschedule, cancel, and a technician's
free time, over HTTP with the scope and tenant rules.

The clock is Django's `timezone.now`, fixed to Friday 2026-03-06 10:00 in Chicago (the clocks
spring forward on the Sunday after), so offers and offsets are exact.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from bookings.models import Appointment
from bookings.services import appointment_book
from dispatchnode.core.models import OutboxEvent
from tests.bookings.test_booking import MONDAY_9, NOW, World, build_world

NOT_FOUND = {"detail": "Not found.", "code": "not_found"}
SLOT_KEYS = {"technician", "start", "end", "arrival_window_start", "arrival_window_end"}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(dt.UTC))


@pytest.fixture
def world(org) -> World:
    return build_world(organization=org)


def _book(api, job, technician, start: str):
    return api.post(
        f"/api/v1/jobs/{job.pk}/book/", {"technician": technician.pk, "start": start}, format="json"
    )


def test_creating_a_job_numbers_it_and_returns_201(world, api):
    # when
    response = api.post(
        "/api/v1/jobs/",
        {
            "customer": world.location.customer_id,
            "location": world.location.pk,
            "service_type": world.service_type.pk,
            "description": "No cooling upstairs",
            "priority": "high",
            "customer_preference": "Monday morning",
        },
        format="json",
    )

    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("number", "customer", "location", "status", "source")} == {
        "number": "J-10001",
        "customer": world.location.customer_id,
        "location": world.location.pk,
        "status": "requested",
        "source": "api",
    }
    assert body["service_type"]["id"] == world.service_type.pk
    assert body["created_at"].endswith("-06:00")  # the organisation's offset in winter
    assert OutboxEvent.objects.filter(topic="job.created").count() == 1


def test_a_job_with_foreign_or_mismatched_rows_is_a_400(world, api, other_org):
    # given a customer of another organisation and a location of another customer
    foreign = build_world(organization=other_org)
    fields = {
        "customer": world.location.customer_id,
        "location": world.location.pk,
        "service_type": world.service_type.pk,
    }

    # when
    foreign_customer = api.post(
        "/api/v1/jobs/", {**fields, "customer": foreign.location.customer_id}, format="json"
    )
    someone_elses_home = api.post(
        "/api/v1/jobs/", {**fields, "location": world.job().location_id}, format="json"
    )

    # then
    assert foreign_customer.status_code == 400
    assert foreign_customer.json()["errors"] == {"customer": ["Not found."]}
    assert someone_elses_home.status_code == 400
    assert someone_elses_home.json() == {
        "detail": "The location is not one of this customer's.",
        "code": "location_mismatch",
    }
    assert not OutboxEvent.objects.filter(topic="job.created").exists()


def test_slots_are_offered_with_offsets_and_honour_a_preference_across_dst(world, api):
    # given
    job = world.job()
    technician = world.technician.pk

    # when
    soonest = api.get(f"/api/v1/jobs/{job.pk}/slots/", {"count": 2})
    monday = api.get(f"/api/v1/jobs/{job.pk}/slots/", {"count": 1, "preference": "Monday morning"})

    # then: Friday is still CST (-06:00); Monday after the change is CDT (-05:00)
    assert soonest.status_code == 200, soonest.content
    assert soonest.json() == [
        {
            "technician": technician,
            "start": "2026-03-06T11:00:00-06:00",
            "end": "2026-03-06T13:00:00-06:00",
            "arrival_window_start": "2026-03-06T10:00:00-06:00",
            "arrival_window_end": "2026-03-06T12:00:00-06:00",
        },
        {
            "technician": technician,
            "start": "2026-03-06T12:00:00-06:00",
            "end": "2026-03-06T14:00:00-06:00",
            "arrival_window_start": "2026-03-06T12:00:00-06:00",
            "arrival_window_end": "2026-03-06T14:00:00-06:00",
        },
    ]
    assert monday.json() == [
        {
            "technician": technician,
            "start": "2026-03-09T08:00:00-05:00",
            "end": "2026-03-09T10:00:00-05:00",
            "arrival_window_start": "2026-03-09T08:00:00-05:00",
            "arrival_window_end": "2026-03-09T10:00:00-05:00",
        }
    ]


def test_booking_an_offered_slot_is_201_with_the_appointment(world, api):
    # given
    job = world.job()
    offer = api.get(
        f"/api/v1/jobs/{job.pk}/slots/", {"count": 1, "preference": "Monday morning"}
    ).json()[0]

    # when
    response = api.post(
        f"/api/v1/jobs/{job.pk}/book/",
        {"technician": offer["technician"], "start": offer["start"]},
        format="json",
    )

    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert {key: body[key] for key in SLOT_KEYS | {"job", "customer", "status"}} == {
        **offer,
        "job": job.pk,
        "customer": job.customer_id,
        "status": "scheduled",
    }
    job.refresh_from_db()
    assert job.status == "scheduled"


def test_a_time_given_in_utc_books_the_same_instant(world, api):
    # when 14:00Z is asked for (09:00 in Chicago on the Monday after the clocks changed)
    response = _book(api, world.job(), world.technician, "2026-03-09T14:00:00Z")

    # then
    assert response.status_code == 201, response.content
    assert response.json()["start"] == "2026-03-09T09:00:00-05:00"


def test_a_taken_slot_is_a_409_with_alternatives(world, api):
    # given 9:00 on Monday is already booked
    appointment_book(job=world.job(), technician=world.technician, start=MONDAY_9, now=NOW)
    job = world.job()

    # when
    response = _book(api, job, world.technician, MONDAY_9.isoformat())

    # then
    assert response.status_code == 409
    body = response.json()
    assert set(body) == {"detail", "code", "alternatives"}
    assert body["code"] == "slot_taken"
    assert "no longer free at Mon 09 Mar 09:00" in body["detail"]
    assert len(body["alternatives"]) == 3
    assert all(set(alternative) == SLOT_KEYS for alternative in body["alternatives"])
    assert MONDAY_9.isoformat() not in [a["start"] for a in body["alternatives"]]
    assert not job.appointments.exists()


@pytest.mark.parametrize(
    ("start", "status", "expected"),
    [
        (
            "2026-03-09T09:00:00",
            400,
            {
                "detail": "Invalid input.",
                "code": "invalid",
                "errors": {
                    "start": ["Give the time with its UTC offset, e.g. 2026-03-09T09:00:00-05:00."]
                },
            },
        ),
        (
            "2026-03-05T09:00:00-06:00",
            400,
            {"detail": "The start time is in the past.", "code": "start_in_past"},
        ),
        ("2026-03-09T09:10:00-05:00", 400, None),
    ],
    ids=["naive", "past", "misaligned"],
)
def test_a_bad_start_is_a_400_and_books_nothing(world, api, start, status, expected):
    # when
    response = _book(api, world.job(), world.technician, start)

    # then
    assert response.status_code == status
    if expected is not None:
        assert response.json() == expected
    else:
        assert response.json()["code"] == "not_offered"
        assert "appointments start every 30 minutes" in response.json()["detail"]
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("start", ["2024-01-01T12:99:00Z", "2026-02-30T09:00:00-06:00", "soon"])
def test_an_impossible_start_is_a_400_naming_the_field_when_booking_or_rescheduling(
    world, api, start
):
    # given a visit booked at 9:00
    job = world.job()
    appointment_id = _book(api, job, world.technician, MONDAY_9.isoformat()).json()["id"]

    # when a start that is no time is sent to book another job, or to move the visit
    booked = _book(api, world.job(), world.technician, start)
    moved = api.post(
        f"/api/v1/appointments/{appointment_id}/reschedule/", {"start": start}, format="json"
    )

    slots = api.get(f"/api/v1/jobs/{world.job().pk}/slots/", {"earliest": start})

    # then each is a 400 naming its field, and nothing changed
    for response, field in ((booked, "start"), (moved, "start"), (slots, "earliest")):
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "invalid"
        assert list(response.json()["errors"]) == [field]
    assert Appointment.objects.count() == 1
    assert Appointment.objects.get().start == MONDAY_9


def test_another_tenants_job_or_technician_is_a_404(world, api, other_org):
    # given
    foreign = build_world(organization=other_org)
    job = world.job()

    # when
    their_job = _book(api, foreign.job(), world.technician, MONDAY_9.isoformat())
    their_technician = _book(api, job, foreign.technician, MONDAY_9.isoformat())
    their_slots = api.get(f"/api/v1/jobs/{foreign.job().pk}/slots/")
    their_day = api.get(
        f"/api/v1/technicians/{foreign.technician.pk}/availability/", {"date": "2026-03-09"}
    )

    # then
    assert (their_job.status_code, their_job.json()) == (404, NOT_FOUND)
    assert (their_technician.status_code, their_technician.json()) == (
        404,
        {"detail": "Unknown technician.", "code": "not_found"},
    )
    assert (their_slots.status_code, their_day.status_code) == (404, 404)
    assert not Appointment.objects.exists()


def test_rescheduling_and_cancelling_through_the_api(world, api):
    # given a booked visit
    job = world.job()
    appointment_id = _book(api, job, world.technician, MONDAY_9.isoformat()).json()["id"]

    # when it is moved to 13:00, then cancelled with a reason
    moved = api.post(
        f"/api/v1/appointments/{appointment_id}/reschedule/",
        {"start": "2026-03-09T13:00:00-05:00"},
        format="json",
    )
    cancelled = api.post(
        f"/api/v1/appointments/{appointment_id}/cancel/", {"reason": "Away"}, format="json"
    )

    # then
    assert moved.status_code == 200, moved.content
    assert (moved.json()["id"], moved.json()["start"], moved.json()["arrival_window_start"]) == (
        appointment_id,
        "2026-03-09T13:00:00-05:00",
        "2026-03-09T12:00:00-05:00",
    )
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["cancelled_at"]) == (
        "cancelled",
        "2026-03-06T10:00:00-06:00",
    )
    job.refresh_from_db()
    assert job.status == "requested"
    assert list(
        OutboxEvent.objects.filter(topic__startswith="appointment.")
        .order_by("id")
        .values_list("topic", flat=True)
    ) == ["appointment.booked", "appointment.rescheduled", "appointment.cancelled"]


def test_rescheduling_into_a_taken_time_is_a_409_with_alternatives(world, api):
    # given two visits
    first = appointment_book(job=world.job(), technician=world.technician, start=MONDAY_9, now=NOW)
    appointment_book(
        job=world.job(), technician=world.technician, start=MONDAY_9.replace(hour=13), now=NOW
    )

    # when the first asks for 12:00
    response = api.post(
        f"/api/v1/appointments/{first.pk}/reschedule/",
        {"start": "2026-03-09T12:00:00-05:00"},
        format="json",
    )

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"
    assert response.json()["alternatives"]
    first.refresh_from_db()
    assert first.start == MONDAY_9


def test_a_technicians_free_time_is_the_day_minus_appointments(world, api):
    # given a visit 9-11 on the Monday after the clocks changed
    appointment_book(job=world.job(), technician=world.technician, start=MONDAY_9, now=NOW)

    # when
    response = api.get(
        f"/api/v1/technicians/{world.technician.pk}/availability/", {"date": "2026-03-09"}
    )
    missing_date = api.get(f"/api/v1/technicians/{world.technician.pk}/availability/")

    # then
    assert response.status_code == 200, response.content
    assert response.json() == {
        "technician": world.technician.pk,
        "date": "2026-03-09",
        "free": [
            {"start": "2026-03-09T08:00:00-05:00", "end": "2026-03-09T09:00:00-05:00"},
            {"start": "2026-03-09T11:00:00-05:00", "end": "2026-03-09T17:00:00-05:00"},
        ],
    }
    assert missing_date.status_code == 400
    assert list(missing_date.json()["errors"]) == ["date"]


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("9999-12-31", "Ensure this value is less than or equal to 9998-12-31."),
        ("0001-01-01", "Ensure this value is greater than or equal to 1900-01-01."),
    ],
)
def test_a_day_at_the_end_of_the_calendar_is_a_400_on_the_date(world, api, day, message):
    # when: the day after 9999-12-31, or the day before 0001-01-01, is no date (found by fuzzing)
    response = api.get(f"/api/v1/technicians/{world.technician.pk}/availability/", {"date": day})

    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "errors": {"date": [message]},
    }


@pytest.mark.parametrize(
    ("scopes", "reads", "writes"),
    [
        (["bookings:read"], 200, 403),
        (["bookings:write"], 200, 201),
        (["customers:write"], 403, 403),
    ],
)
def test_booking_needs_the_bookings_write_scope(world, api_client_for, scopes, reads, writes):
    # given
    client = api_client_for(world.organization, scopes=scopes)
    job = world.job()

    # when
    slots = client.get(f"/api/v1/jobs/{job.pk}/slots/")
    book = _book(client, job, world.technician, MONDAY_9.isoformat())

    # then
    assert (slots.status_code, book.status_code) == (reads, writes)
    assert Appointment.objects.count() == (1 if writes == 201 else 0)
