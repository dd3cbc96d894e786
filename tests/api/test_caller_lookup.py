"""GET /api/v1/customers/lookup/?phone=: the caller context over the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.models import Job
from tests import factories


@pytest.fixture
def john(org):
    customer = factories.CustomerFactory(organization=org, first_name="John", last_name="Smith")
    factories.ContactPointFactory(customer=customer, value="+15125550142")
    home = factories.ServiceLocationFactory(
        customer=customer, street="123 MAIN ST", gate_code="4821"
    )
    factories.EquipmentFactory(location=home)
    factories.JobFactory(
        organization=org,
        customer=customer,
        location=home,
        status=Job.Status.CLOSED,
        completed_at=dt.datetime(2025, 10, 15, 15, tzinfo=dt.UTC),
        work_notes="Cleaned coils.",
    )
    factories.InvoiceFactory(organization=org, customer=customer, due_date=dt.date(2025, 1, 1))
    return customer


@pytest.mark.parametrize("written", ["(512) 555-0142", "512.555.0142", "+1 512 555 0142"])
def test_lookup_returns_the_caller_context(org, john, api_client_for, written):
    reader = api_client_for(org, scopes=["customers:read"])

    response = reader.get("/api/v1/customers/lookup/", {"phone": written})

    assert response.status_code == 200, response.content
    body = response.json()
    home = john.locations.get()
    assert body["customer_id"] == john.pk
    assert (body["first_name"], body["last_name"], body["display_name"]) == (
        "John",
        "Smith",
        "John Smith",
    )
    assert body["other_matches"] == 0
    assert body["locations"][0]["id"] == home.pk
    assert body["locations"][0]["spoken"] == "123 Main Street, Austin"
    assert body["locations"][0]["gate_code"] == "4821"
    assert body["equipment"][0]["spoken_kind"] == "air conditioner"
    assert body["last_visits"] == [
        {
            "job_id": john.jobs.get().pk,
            "location_id": home.pk,
            "date": "2025-10-15",
            "service_type": "AC repair",
            "category": "hvac",
            "work_done": "Cleaned coils.",
            "equipment_kind": "",
        }
    ]
    assert body["upcoming"] == []
    assert (body["open_balance"], body["overdue_invoices"]) == ("108.25", 1)
    assert body["has_payment_method"] is False
    assert (body["complaint"], body["do_not_service"], body["do_not_service_reason"]) == (
        False,
        False,
        "",
    )
    assert body["notes_for_agent"] == []


def test_an_upcoming_appointment_is_rendered_in_the_org_timezone(org, john, api_client_for):
    start = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    job = factories.JobFactory(organization=org, customer=john, location=john.locations.get())
    appt = factories.AppointmentFactory(organization=org, job=job, start=start)

    body = (
        api_client_for(org, scopes=["customers:read"])
        .get("/api/v1/customers/lookup/", {"phone": "5125550142"})
        .json()
    )

    assert body["upcoming"] == [
        {
            "appointment_id": appt.pk,
            "job_id": job.pk,
            "start": start.astimezone(org.tzinfo).isoformat(),
            "window_start": None,
            "window_end": None,
            "technician_first_name": appt.technician.first_name,
        }
    ]


def test_an_unknown_number_is_a_404(org, john, api):
    response = api.get("/api/v1/customers/lookup/", {"phone": "(512) 555-0199"})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("query", [{"phone": "not a phone"}, {"phone": "555-1234"}, {}])
def test_an_unusable_phone_is_a_400(org, john, api, query):
    response = api.get("/api/v1/customers/lookup/", query)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_phone"


def test_another_companys_customer_is_a_404(org, other_org, api_client_for):
    stranger = factories.CustomerFactory(organization=other_org)
    factories.ContactPointFactory(customer=stranger, value="+15125550142")

    response = api_client_for(org, scopes=["customers:read"]).get(
        "/api/v1/customers/lookup/", {"phone": "+15125550142"}
    )

    assert response.status_code == 404


def test_lookup_needs_the_customers_read_scope(org, john, api_client_for):
    response = api_client_for(org, scopes=["bookings:read"]).get(
        "/api/v1/customers/lookup/", {"phone": "+15125550142"}
    )

    assert response.status_code == 403


def test_lookup_needs_authentication(org, john):
    response = APIClient().get("/api/v1/customers/lookup/", {"phone": "+15125550142"})

    assert response.status_code == 401
