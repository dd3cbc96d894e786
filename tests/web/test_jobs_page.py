"""The job page: history, appointments, technician, notes, invoice and the sync placeholder."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import CallSession, Job
from tests import factories

pytestmark = pytest.mark.django_db


def _job(org, **kwargs):
    defaults = {"number": "J-501", "work_notes": "Replaced the capacitor.", "source": "ai_call"}
    return factories.JobFactory(organization=org, **{**defaults, **kwargs})


def test_the_job_page_shows_the_work_visits_history_and_invoice(org, office_client):
    job = _job(org, priority=Job.Priority.EMERGENCY, description="No cooling at all")
    tech = factories.TechnicianFactory(organization=org, first_name="Tina", last_name="Volt")
    start = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)  # 9:00 AM in Chicago
    factories.AppointmentFactory(organization=org, job=job, technician=tech, start=start)
    factories.CallSessionFactory(
        organization=org, job=job, customer=job.customer, outcome=CallSession.Outcome.BOOKED
    )
    invoice = factories.InvoiceFactory(
        organization=org,
        customer=job.customer,
        job=job,
        number="INV-42",
        amount_paid=Decimal("8.25"),
    )
    factories.InvoiceLineFactory(invoice=invoice, description="Capacitor")
    Job.objects.filter(pk=job.pk).update(completed_at=timezone.now(), status=Job.Status.COMPLETED)

    html = office_client.get(f"/dashboard/jobs/{job.pk}/").content.decode()

    for text in (
        "Job J-501",
        "Emergency",
        "No cooling at all",
        "Replaced the capacitor.",
        "AI phone agent",
        "Tina Volt",
        "Tue 8 Dec 2026, 9:00 AM",
        "Created (AI phone agent)",
        "Call from +15125550142: Booked",
        "Appointment booked with Tina Volt",
        "Completed",
        "INV-42",
        "$108.25",
        "$100.00",
        "Capacitor",
        "No integrations connected yet",
    ):
        assert text in html, text
    assert f'href="/dashboard/customers/{job.customer_id}/"' in html


def test_an_unscheduled_uninvoiced_job_says_so(org, office_client):
    job = _job(org)
    html = office_client.get(f"/dashboard/jobs/{job.pk}/").content.decode()
    assert "Not scheduled yet" in html
    assert "No invoice for this job yet" in html


def test_another_organisations_job_is_a_404_like_a_missing_one(other_org, office_client):
    theirs = _job(other_org)
    other = office_client.get(f"/dashboard/jobs/{theirs.pk}/")
    missing = office_client.get("/dashboard/jobs/999999/")
    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content


def test_a_technician_is_refused_the_job_page(org, tech_client):
    assert tech_client.get(f"/dashboard/jobs/{_job(org).pk}/").status_code == 403


@pytest.mark.parametrize("rows", [3, 30])
def test_the_job_page_costs_the_same_queries_for_3_or_30_visits(
    org, office_client, django_assert_max_num_queries, rows
):
    job = _job(org)
    tech = factories.TechnicianFactory(organization=org)
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    for n in range(rows):
        factories.AppointmentFactory(
            organization=org, job=job, technician=tech, start=base + dt.timedelta(days=n)
        )
        factories.CallSessionFactory(organization=org, job=job)
    office_client.get(f"/dashboard/jobs/{job.pk}/")
    with django_assert_max_num_queries(10):
        assert office_client.get(f"/dashboard/jobs/{job.pk}/").status_code == 200
