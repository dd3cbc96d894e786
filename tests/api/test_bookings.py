"""Technicians, the service catalogue, jobs, appointments and calls through /api/v1/."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from bookings.models import Job
from tests import factories

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def reader(org, api_client_for):
    return api_client_for(org, scopes=["*:read"])


def test_a_technician_lists_skill_codes_and_working_hours(org, reader):
    # given
    technician = factories.TechnicianFactory(
        organization=org, first_name="Ana", last_name="Ruiz", phone="+15125553001"
    )
    technician.skills.set(
        [
            factories.SkillFactory(organization=org, code="plumbing", name="Plumbing"),
            factories.SkillFactory(organization=org, code="hvac", name="HVAC"),
        ]
    )
    factories.WorkingHoursFactory(
        technician=technician, weekday=2, start_time=dt.time(7, 30), end_time=dt.time(16, 0)
    )
    factories.WorkingHoursFactory(technician=technician, weekday=0)

    # when
    response = reader.get(f"/api/v1/technicians/{technician.pk}/")

    # then
    body = response.json()
    assert (body["display_name"], body["phone"], body["color"]) == (
        "Ana Ruiz",
        "+15125553001",
        "#16a34a",
    )
    assert body["skills"] == ["hvac", "plumbing"]
    assert body["working_hours"] == [
        {"weekday": 0, "start_time": "08:00:00", "end_time": "17:00:00"},
        {"weekday": 2, "start_time": "07:30:00", "end_time": "16:00:00"},
    ]


def test_skills_are_listed_with_their_codes(org, reader):
    # given
    skill = factories.SkillFactory(organization=org, code="electrical", name="Electrical")

    # when
    response = reader.get("/api/v1/skills/")

    # then
    assert [(row["id"], row["code"], row["name"]) for row in response.json()["results"]] == [
        (skill.pk, "electrical", "Electrical")
    ]


def test_service_types_filter_by_category_and_kind(org, reader):
    # given
    skill = factories.SkillFactory(organization=org, code="hvac")
    ac_repair = factories.ServiceTypeFactory(
        organization=org, name="AC repair", category="hvac", kind="repair", required_skill=skill
    )
    tune_up = factories.ServiceTypeFactory(
        organization=org, name="AC tune-up", category="hvac", kind="maintenance"
    )
    drain = factories.ServiceTypeFactory(
        organization=org, name="Drain clearing", category="plumbing", kind="repair"
    )

    # when
    hvac = reader.get("/api/v1/service-types/", {"category": "hvac"})
    repairs = reader.get("/api/v1/service-types/", {"kind": "repair"})
    hvac_repairs = reader.get("/api/v1/service-types/", {"category": "hvac", "kind": "repair"})

    # then
    assert _ids(hvac) == [tune_up.pk, ac_repair.pk]
    assert _ids(repairs) == [drain.pk, ac_repair.pk]
    assert _ids(hvac_repairs) == [ac_repair.pk]
    row = hvac_repairs.json()["results"][0]
    assert {key: row[key] for key in row if key not in ("created_at", "updated_at")} == {
        "id": ac_repair.pk,
        "code": ac_repair.code,
        "name": "AC repair",
        "category": "hvac",
        "kind": "repair",
        "description": "",
        "default_duration_minutes": 120,
        "required_skill": "hvac",
        "spoken_synonyms": ["blowing warm air", "ac not cooling"],
        "is_active": True,
    }
    assert reader.get(f"/api/v1/service-types/{drain.pk}/").json()["required_skill"] is None


def test_jobs_filter_by_customer_status_and_source(org, reader):
    # given
    customer = factories.CustomerFactory(organization=org)
    booked = factories.JobFactory(
        organization=org, customer=customer, status="scheduled", source="ai_call"
    )
    done = factories.JobFactory(organization=org, customer=customer, status="completed")
    elsewhere = factories.JobFactory(organization=org, status="scheduled", source="ai_call")

    # when
    by_customer = reader.get("/api/v1/jobs/", {"customer": customer.pk})
    scheduled = reader.get("/api/v1/jobs/", {"status": "scheduled"})
    from_calls = reader.get("/api/v1/jobs/", {"source": "ai_call", "customer": customer.pk})

    # then
    assert _ids(by_customer) == [done.pk, booked.pk]
    assert _ids(scheduled) == [elsewhere.pk, booked.pk]
    assert _ids(from_calls) == [booked.pk]


def test_a_job_nests_its_service_type(org, reader):
    # given
    job = factories.JobFactory(organization=org, priority=Job.Priority.HIGH, number="J-7")

    # when
    body = reader.get(f"/api/v1/jobs/{job.pk}/").json()

    # then
    service_type = job.service_type
    assert body["service_type"] == {
        "id": service_type.pk,
        "name": "AC repair",
        "category": "hvac",
        "kind": "repair",
    }
    assert (body["number"], body["priority"], body["status"], body["source"]) == (
        "J-7",
        "high",
        "requested",
        "staff",
    )
    assert (body["customer"], body["location"], body["description"]) == (
        job.customer_id,
        job.location_id,
        "AC blowing warm air",
    )


def test_a_job_without_service_type_shows_null(org, reader):
    # given
    job = factories.JobFactory(organization=org, service_type=None)

    # when
    body = reader.get(f"/api/v1/jobs/{job.pk}/").json()

    # then
    assert body["service_type"] is None


def test_an_unknown_job_status_is_a_400(reader):
    # when
    response = reader.get("/api/v1/jobs/", {"status": "lost"})

    # then
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]


def _appointment(org, *, start: dt.datetime, **fields):
    return factories.AppointmentFactory(
        organization=org, start=start, end=start + dt.timedelta(hours=2), **fields
    )


def test_appointments_filter_by_technician_and_customer(org, reader):
    # given
    ana = factories.TechnicianFactory(organization=org)
    job = factories.JobFactory(organization=org)
    start = dt.datetime(2025, 6, 2, 9, 0, tzinfo=CHICAGO)
    first = _appointment(org, start=start, technician=ana, job=job)
    second = _appointment(org, start=start + dt.timedelta(days=1), job=job)
    third = _appointment(org, start=start + dt.timedelta(hours=3), technician=ana)

    # when
    by_technician = reader.get("/api/v1/appointments/", {"technician": ana.pk})
    by_customer = reader.get("/api/v1/appointments/", {"customer": job.customer_id})

    # then: in start order
    assert _ids(by_technician) == [first.pk, third.pk]
    assert _ids(by_customer) == [first.pk, second.pk]


def test_the_appointment_date_is_a_day_in_the_organisations_timezone(org, reader):
    # given: Chicago; 2025-03-09 is the day the clocks spring forward (23 hours long)
    early = _appointment(org, start=dt.datetime(2025, 3, 9, 0, 30, tzinfo=CHICAGO))
    late = _appointment(org, start=dt.datetime(2025, 3, 9, 23, 30, tzinfo=CHICAGO))
    _appointment(org, start=dt.datetime(2025, 3, 8, 23, 59, tzinfo=CHICAGO))
    next_day = _appointment(org, start=dt.datetime(2025, 3, 10, 0, 0, tzinfo=CHICAGO))

    # when
    response = reader.get("/api/v1/appointments/", {"date": "2025-03-09"})
    following = reader.get("/api/v1/appointments/", {"date": "2025-03-10"})

    # then: 23:30 local is already 04:30 UTC on the 10th, and still belongs to the 9th
    assert _ids(response) == [early.pk, late.pk]
    assert _ids(following) == [next_day.pk]
    rows = response.json()["results"]
    assert (rows[0]["start"], rows[0]["end"]) == (
        "2025-03-09T00:30:00-06:00",
        "2025-03-09T03:30:00-05:00",
    )
    assert rows[1]["start"] == "2025-03-09T23:30:00-05:00"


def test_an_appointment_names_its_job_and_customer(org, reader):
    # given
    appointment = _appointment(org, start=dt.datetime(2025, 6, 2, 9, 0, tzinfo=CHICAGO))

    # when
    body = reader.get(f"/api/v1/appointments/{appointment.pk}/").json()

    # then
    assert {key: body[key] for key in ("job", "customer", "technician", "status", "start")} == {
        "job": appointment.job_id,
        "customer": appointment.job.customer_id,
        "technician": appointment.technician_id,
        "status": "scheduled",
        "start": "2025-06-02T09:00:00-05:00",
    }


@pytest.mark.parametrize("value", ["tomorrow", "2025-02-30", "03/09/2025"])
def test_a_date_that_is_not_a_date_is_a_400(reader, value):
    # when
    response = reader.get("/api/v1/appointments/", {"date": value})

    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "errors": {"date": ["Enter a valid date."]},
    }


def test_the_last_day_of_the_calendar_is_a_400_not_an_overflow(reader):
    # when: the day after 9999-12-31 is no date (found by fuzzing)
    response = reader.get("/api/v1/appointments/", {"date": "9999-12-31"})

    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "errors": {"date": ["Ensure this value is less than or equal to 9998-12-31."]},
    }


def test_calls_filter_by_sid_customer_and_outcome(org, reader):
    # given
    customer = factories.CustomerFactory(organization=org)
    booked = factories.CallSessionFactory(organization=org, customer=customer, outcome="booked")
    hung_up = factories.CallSessionFactory(
        organization=org, customer=customer, outcome="no_booking"
    )
    stranger = factories.CallSessionFactory(organization=org, outcome="booked")

    # when
    by_sid = reader.get("/api/v1/calls/", {"call_sid": hung_up.call_sid})
    by_customer = reader.get("/api/v1/calls/", {"customer": customer.pk})
    bookings = reader.get("/api/v1/calls/", {"outcome": "booked"})

    # then
    assert _ids(by_sid) == [hung_up.pk]
    assert _ids(by_customer) == [hung_up.pk, booked.pk]
    assert _ids(bookings) == [stranger.pk, booked.pk]


def test_a_call_shows_its_transcript_in_order(org, reader):
    # given: turns written out of order
    job = factories.JobFactory(organization=org)
    call = factories.CallSessionFactory(
        organization=org,
        customer=job.customer,
        job=job,
        outcome="booked",
        priority="high",
        summary="AC repair booked for Tuesday.",
        disclosures=[{"what": "address", "verified_by": "zip"}],
        lead_score=80,
        recording_url="https://api.twilio.com/rec/RE1",
        duration_seconds=184,
        started_at=dt.datetime(2025, 6, 2, 14, 0, tzinfo=dt.UTC),
        ended_at=dt.datetime(2025, 6, 2, 14, 3, 4, tzinfo=dt.UTC),
    )
    second = factories.CallTurnFactory(call=call, sequence=2, heard="Tuesday", said="Booked.")
    first = factories.CallTurnFactory(call=call, sequence=1)

    # when
    body = reader.get(f"/api/v1/calls/{call.pk}/").json()

    # then
    shown = ("sequence", "heard", "said", "created_at")
    assert [{key: turn[key] for key in shown} for turn in body["transcript"]] == [
        {
            "sequence": 1,
            "heard": "My AC is blowing warm air",
            "said": "I can help with that.",
            "created_at": first.created_at.astimezone(CHICAGO).isoformat(),
        },
        {
            "sequence": 2,
            "heard": "Tuesday",
            "said": "Booked.",
            "created_at": second.created_at.astimezone(CHICAGO).isoformat(),
        },
    ]
    assert set(body["transcript"][0]) == {*shown, "state", "digits", "intent", "processing_ms"}
    assert {
        key: body[key]
        for key in (
            "call_sid",
            "from_number",
            "outcome",
            "customer",
            "new_customer",
            "job",
            "priority",
            "summary",
            "disclosures",
            "lead_score",
            "recording_url",
            "duration_seconds",
            "started_at",
            "ended_at",
        )
    } == {
        "call_sid": call.call_sid,
        "from_number": "+15125550142",
        "outcome": "booked",
        "customer": job.customer_id,
        "new_customer": False,
        "job": job.pk,
        "priority": "high",
        "summary": "AC repair booked for Tuesday.",
        "disclosures": [{"what": "address", "verified_by": "zip"}],
        "lead_score": 80,
        "recording_url": "https://api.twilio.com/rec/RE1",
        "duration_seconds": 184,
        "started_at": "2025-06-02T09:00:00-05:00",
        "ended_at": "2025-06-02T09:03:04-05:00",
    }
