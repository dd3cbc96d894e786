"""Invoices, payments and the price book through /api/v1/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests import factories


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def reader(org, api_client_for):
    return api_client_for(org, scopes=["invoicing:read"])


def test_invoices_filter_by_job_customer_and_status(org, reader):
    # given
    job = factories.JobFactory(organization=org)
    for_job = factories.InvoiceFactory(organization=org, customer=job.customer, job=job)
    paid = factories.InvoiceFactory(organization=org, customer=job.customer, status="paid")
    other = factories.InvoiceFactory(organization=org)

    # when
    by_job = reader.get("/api/v1/invoices/", {"job": job.pk})
    by_customer = reader.get("/api/v1/invoices/", {"customer": job.customer_id})
    open_ones = reader.get("/api/v1/invoices/", {"status": "sent"})

    # then
    assert _ids(by_job) == [for_job.pk]
    assert _ids(by_customer) == [paid.pk, for_job.pk]
    assert _ids(open_ones) == [other.pk, for_job.pk]


def test_an_invoice_shows_money_as_two_decimal_strings_and_its_lines(org, reader):
    # given
    invoice = factories.InvoiceFactory(
        organization=org,
        number="INV-1042",
        amount_paid=Decimal("50"),
        status="partially_paid",
        tax_rate=Decimal("0.0825"),
        due_date=dt.date(2025, 7, 1),
        issued_at=dt.datetime(2025, 6, 1, 17, 0, tzinfo=dt.UTC),
    )
    second = factories.InvoiceLineFactory(
        invoice=invoice,
        position=2,
        description="Capacitor",
        quantity=Decimal("2"),
        unit_price=Decimal("12.5"),
        amount=Decimal("25"),
    )
    first = factories.InvoiceLineFactory(
        invoice=invoice,
        position=1,
        quantity=Decimal("1"),
        unit_price=Decimal("75"),
        amount=Decimal("75"),
    )

    # when
    body = reader.get(f"/api/v1/invoices/{invoice.pk}/").json()

    # then
    assert {key: body[key] for key in body if key not in ("created_at", "updated_at")} == {
        "id": invoice.pk,
        "number": "INV-1042",
        "status": "partially_paid",
        "customer": invoice.customer_id,
        "job": None,
        "currency": "USD",
        "tax_rate": "0.0825",
        "subtotal": "100.00",
        "tax_total": "8.25",
        "total": "108.25",
        "amount_paid": "50.00",
        "credited": "0.00",
        "balance": "58.25",
        "version": 1,
        "public_url": f"http://127.0.0.1:8000/i/{invoice.public_token}/",
        "due_date": "2025-07-01",
        "issued_at": "2025-06-01T12:00:00-05:00",
        "sent_at": None,
        "paid_at": None,
        "notes": "",
        "credit_notes": [],
        "lines": [
            {
                "id": first.pk,
                "position": 1,
                "item": None,
                "description": "Diagnostic visit",
                "quantity": "1.00",
                "unit_price": "75.00",
                "taxable": True,
                "amount": "75.00",
            },
            {
                "id": second.pk,
                "position": 2,
                "item": None,
                "description": "Capacitor",
                "quantity": "2.00",
                "unit_price": "12.50",
                "taxable": True,
                "amount": "25.00",
            },
        ],
    }


def test_payments_filter_by_invoice(org, reader):
    # given
    invoice = factories.InvoiceFactory(organization=org)
    first = factories.PaymentFactory(
        invoice=invoice, amount=Decimal("20"), received_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    )
    second = factories.PaymentFactory(
        invoice=invoice,
        amount=Decimal("30.5"),
        method="check",
        reference="#1001",
        received_at=dt.datetime(2025, 6, 2, tzinfo=dt.UTC),
    )
    factories.PaymentFactory(invoice=factories.InvoiceFactory(organization=org))

    # when
    response = reader.get("/api/v1/payments/", {"invoice": invoice.pk})

    # then
    assert _ids(response) == [second.pk, first.pk]
    row = response.json()["results"][0]
    assert {key: row[key] for key in ("invoice", "amount", "method", "status", "reference")} == {
        "invoice": invoice.pk,
        "amount": "30.50",
        "method": "check",
        "status": "succeeded",
        "reference": "#1001",
    }
    assert row["received_at"] == "2025-06-01T19:00:00-05:00"


def test_the_price_book_filters_by_category_and_kind(org, reader):
    # given
    diagnostic = factories.PriceBookItemFactory(organization=org, category="hvac", kind="service")
    capacitor = factories.PriceBookItemFactory(
        organization=org,
        category="hvac",
        kind="part",
        name="Capacitor",
        unit_price=Decimal("45"),
        unit_cost=Decimal("12.3"),
    )
    trip = factories.PriceBookItemFactory(organization=org, category="general", kind="fee")

    # when
    hvac = reader.get("/api/v1/price-book/", {"category": "hvac"})
    parts = reader.get("/api/v1/price-book/", {"category": "hvac", "kind": "part"})
    fees = reader.get("/api/v1/price-book/", {"kind": "fee"})

    # then
    assert _ids(hvac) == [capacitor.pk, diagnostic.pk]
    assert _ids(parts) == [capacitor.pk]
    assert _ids(fees) == [trip.pk]
    row = parts.json()["results"][0]
    assert (row["name"], row["unit_price"], row["unit_cost"], row["unit"]) == (
        "Capacitor",
        "45.00",
        "12.30",
        "each",
    )


@pytest.mark.parametrize(("param", "value"), [("job", "x"), ("customer", "1e3"), ("status", "due")])
def test_a_bad_invoice_filter_is_a_400(reader, param, value):
    # when
    response = reader.get("/api/v1/invoices/", {param: value})

    # then
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [param]
