"""Completing a job: statuses from any open state, the draft invoice and its rounding, the API."""

from __future__ import annotations

import base64
import datetime as dt
import struct
import zlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from bookings.models import Appointment, Job
from dispatchnode.core.errors import Conflict
from dispatchnode.core.models import OutboxEvent
from invoicing.models import Invoice
from invoicing.services import invoice_totals, job_complete
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 9, 19, 0, tzinfo=dt.UTC)


def _png_data_url() -> str:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1, 8-bit grey
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\xff"))
    return "data:image/png;base64," + base64.b64encode(png + chunk(b"IEND", b"")).decode()


@pytest.fixture
def visit(org):
    job = factories.JobFactory(organization=org, status=Job.Status.IN_PROGRESS)
    return factories.AppointmentFactory(
        organization=org,
        job=job,
        status=Appointment.Status.IN_PROGRESS,
        start=NOW,
        end=NOW + dt.timedelta(hours=2),
    )


@pytest.fixture
def items(org):
    return {
        "diag": factories.PriceBookItemFactory(organization=org, unit_price=Decimal("89.00")),
        "cap": factories.PriceBookItemFactory(
            organization=org, name="Run capacitor", unit_price=Decimal("19.99")
        ),
        "labour": factories.PriceBookItemFactory(
            organization=org, name="Labour", unit_price=Decimal("33.33"), taxable=False
        ),
    }


def test_completion_completes_the_visit_and_job_and_sends_the_invoice(visit, items):
    job = job_complete(
        job=visit.job,
        notes="Replaced the run capacitor.",
        diagnostic_notes="Capacitor bulged, 20% under rating.",
        lines=[(items["diag"], 1), (items["cap"].pk, "3")],
        signature_png=_png_data_url(),
        now=NOW,
    )

    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED
    assert visit.finished_at == NOW
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED
    assert job.completed_at == NOW
    assert job.work_notes == "Replaced the run capacitor."
    assert job.diagnostic_notes.startswith("Capacitor bulged")
    assert job.signature.read().startswith(b"\x89PNG")
    invoice = Invoice.objects.get(job=job)
    assert invoice.status == Invoice.Status.SENT
    assert invoice.sent_at == NOW
    assert invoice.number == "INV-2026-000001"
    # 89.00 + 59.97 = 148.97; tax 8.25 %: 7.34 (7.3425) + 4.95 (4.947525) = 12.29
    assert invoice.subtotal == Decimal("148.97")
    assert invoice.tax_total == Decimal("12.29")
    assert invoice.total == Decimal("161.26")
    assert [line.amount for line in invoice.lines.all()] == [Decimal("89.00"), Decimal("59.97")]
    event = OutboxEvent.objects.get(topic="job.completed")
    assert event.payload["invoice"] == invoice.pk


def test_numbers_count_up_per_organisation(org, other_org):
    numbers = []
    for organization in (org, org, other_org):
        job = factories.JobFactory(organization=organization, status=Job.Status.IN_PROGRESS)
        numbers.append(job_complete(job=job, now=NOW).invoice.number)

    assert numbers == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000001"]


def test_awkward_amounts_round_half_up_per_line():
    figures, subtotal, tax = invoice_totals(
        lines=[
            (Decimal("1.5"), Decimal("0.33"), True),  # 0.495 → 0.50; tax 0.04125 → 0.04
            (Decimal("3"), Decimal("0.05"), True),  # 0.15; tax 0.012375 → 0.01
            (Decimal("0.5"), Decimal("0.01"), True),  # 0.005 → 0.01 (half up); tax 0.00
            (Decimal("2"), Decimal("33.33"), False),  # 66.66, untaxed
        ],
        tax_rate=Decimal("0.0825"),
    )

    assert figures == [
        (Decimal("0.50"), Decimal("0.04")),
        (Decimal("0.15"), Decimal("0.01")),
        (Decimal("0.01"), Decimal("0.00")),
        (Decimal("66.66"), Decimal("0")),
    ]
    assert (subtotal, tax) == (Decimal("67.32"), Decimal("0.05"))


@pytest.mark.parametrize("status", [Job.Status.REQUESTED, Job.Status.SCHEDULED, "en_route"])
def test_office_completes_from_any_open_state(org, status):
    job = factories.JobFactory(organization=org, status=status)
    visit = factories.AppointmentFactory(
        organization=org, job=job, status=Appointment.Status.SCHEDULED
    )

    job_complete(job=job, now=NOW)

    assert Job.objects.get(pk=job.pk).status == Job.Status.COMPLETED
    assert Appointment.objects.get(pk=visit.pk).status == Appointment.Status.COMPLETED


def test_a_completed_job_cannot_be_completed_again(visit):
    job_complete(job=visit.job, now=NOW)

    with pytest.raises(Conflict, match="completed"):
        job_complete(job=visit.job, now=NOW)
    assert Invoice.objects.count() == 1


def test_bad_lines_write_nothing(visit, items, other_org):
    foreign = factories.PriceBookItemFactory(organization=other_org)
    inactive = factories.PriceBookItemFactory(organization=visit.organization, is_active=False)

    with pytest.raises(ValidationError) as caught:
        job_complete(
            job=visit.job,
            lines=[(items["diag"], 0), (foreign.pk, 1), (inactive.pk, 1), (999999, 1)],
        )

    messages = caught.value.message_dict["lines"]
    assert messages[0] == "Line 1: the quantity must be a number above zero."
    assert len(messages) == 4
    assert Job.objects.get(pk=visit.job_id).status == Job.Status.IN_PROGRESS
    assert Invoice.objects.count() == 0


# --- POST /api/v1/jobs/{id}/complete/ -------------------------------------------------------


def test_api_completes_and_returns_the_invoice_id(visit, items, api_client_for):
    client = api_client_for(visit.organization)

    response = client.post(
        f"/api/v1/jobs/{visit.job_id}/complete/",
        {"notes": "Done", "lines": [{"item": items["labour"].pk, "quantity": "1.5"}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    invoice = Invoice.objects.get(job_id=visit.job_id)
    assert body["invoice"] == invoice.pk
    assert body["status"] == "completed"
    assert body["work_notes"] == "Done"
    assert invoice.total == Decimal("50.00")  # 1.5 × 33.33 = 49.995 → 50.00, untaxed


@pytest.mark.parametrize(
    "line",
    [{"item": "x", "quantity": 1}, {"item": 999999, "quantity": 1}, {"quantity": 1}],
)
def test_api_bad_item_is_a_400_on_lines(visit, api_client_for, line):
    client = api_client_for(visit.organization)

    response = client.post(
        f"/api/v1/jobs/{visit.job_id}/complete/", {"lines": [line]}, format="json"
    )

    assert response.status_code == 400
    assert "lines" in response.json()["errors"]


@pytest.mark.parametrize("quantity", [0, -1])
def test_api_quantity_must_be_above_zero(visit, items, api_client_for, quantity):
    client = api_client_for(visit.organization)

    response = client.post(
        f"/api/v1/jobs/{visit.job_id}/complete/",
        {"lines": [{"item": items["diag"].pk, "quantity": quantity}]},
        format="json",
    )

    assert response.status_code == 400
    assert "above zero" in str(response.json()["errors"]["lines"])


def test_api_another_organisations_item_is_a_400(visit, api_client_for, other_org):
    foreign = factories.PriceBookItemFactory(organization=other_org)
    client = api_client_for(visit.organization)

    response = client.post(
        f"/api/v1/jobs/{visit.job_id}/complete/",
        {"lines": [{"item": foreign.pk, "quantity": 1}]},
        format="json",
    )

    assert response.status_code == 400
    assert f"no active price book item {foreign.pk}" in str(response.json()["errors"]["lines"])


def test_api_another_organisations_job_is_a_404(visit, api_client_for, other_org):
    client = api_client_for(other_org)

    response = client.post(f"/api/v1/jobs/{visit.job_id}/complete/", {}, format="json")

    assert response.status_code == 404
    assert Job.objects.get(pk=visit.job_id).status == Job.Status.IN_PROGRESS
