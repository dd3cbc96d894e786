"""The office's invoice pages: the list, one invoice, and the writes staff make by hand (a
payment, a credit note, a refund, voiding, sending again, a new public link)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bookings.models import Job
from invoicing.models import CreditNote, Invoice, Payment
from invoicing.services import job_complete
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(org):
    item = factories.PriceBookItemFactory(
        organization=org, name="AC tune-up", unit_price=Decimal("100.00")
    )
    job = factories.JobFactory(organization=org, status=Job.Status.IN_PROGRESS)
    return Invoice.objects.get(pk=job_complete(job=job, lines=[(item, 1)]).invoice.pk)


def test_the_list_filters_by_status_and_overdue_and_searches(org, office_client, invoice):
    old = factories.InvoiceFactory(organization=org, number="INV-OLD", due_date=dt.date(2020, 1, 1))
    factories.InvoiceFactory(organization=org, number="INV-PAID", status="paid")

    everything = office_client.get("/dashboard/invoices/").content.decode()
    overdue = office_client.get("/dashboard/invoices/?status=overdue").content.decode()
    paid = office_client.get("/dashboard/invoices/?status=paid").content.decode()
    found = office_client.get(f"/dashboard/invoices/?q={invoice.number[-6:]}").content.decode()

    assert all(n in everything for n in (invoice.number, "INV-OLD", "INV-PAID"))
    assert ("INV-OLD" in overdue, invoice.number in overdue, "INV-PAID" in overdue) == (
        True,
        False,
        False,
    )
    assert ("INV-PAID" in paid, "INV-OLD" in paid) == (True, False)
    assert (invoice.number in found, old.number in found) == (True, False)


def test_the_empty_list_says_where_invoices_come_from(office_client):
    html = office_client.get("/dashboard/invoices/").content.decode()
    assert "No invoices yet. Completing a job" in html


def test_the_invoice_page_shows_lines_balance_messages_and_link(office_client, invoice):
    html = office_client.get(f"/dashboard/invoices/{invoice.pk}/").content.decode()

    assert f"Invoice {invoice.number}" in html
    assert "AC tune-up" in html
    assert 'data-balance="108.25"' in html
    assert f"/i/{invoice.public_token}/" in html
    assert "Record payment" in html


def test_recording_a_payment_by_hand_pays_and_closes(office_client, invoice):
    answer = office_client.post(
        f"/dashboard/invoices/{invoice.pk}/payment/",
        {"amount": "108.25", "method": "check", "reference": "Check 1042"},
        follow=True,
    )

    assert "Payment recorded." in answer.content.decode()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == ("paid", Decimal("0.00"))
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.method, payment.reference, payment.recorded_by_id) == (
        "check",
        "Check 1042",
        answer.wsgi_request.user.pk,
    )
    assert Job.objects.get(pk=invoice.job_id).status == Job.Status.CLOSED


def test_an_overpayment_is_refused_with_the_reason_and_nothing_recorded(office_client, invoice):
    answer = office_client.post(
        f"/dashboard/invoices/{invoice.pk}/payment/",
        {"amount": "500", "method": "cash"},
        follow=True,
    )

    assert "more than the balance" in answer.content.decode()
    assert Payment.objects.count() == 0


def test_refund_credit_void_and_link_from_the_page(org, office_client, invoice):
    old_token = invoice.public_token
    office_client.post(
        f"/dashboard/invoices/{invoice.pk}/payment/", {"amount": "50", "method": "cash"}
    )
    payment = Payment.objects.get(invoice=invoice)

    office_client.post(
        f"/dashboard/invoices/{invoice.pk}/payments/{payment.pk}/refund/",
        {"amount": "10", "reason": "Cash back"},
    )
    office_client.post(
        f"/dashboard/invoices/{invoice.pk}/credit/", {"amount": "8.25", "reason": "Loyalty"}
    )
    office_client.post(f"/dashboard/invoices/{invoice.pk}/rotate-link/")
    refused = office_client.post(
        f"/dashboard/invoices/{invoice.pk}/void/", {"reason": "Oops"}, follow=True
    )

    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.credited, invoice.balance) == (
        Decimal("40.00"),
        Decimal("18.25"),
        Decimal("50.00"),
    )
    assert CreditNote.objects.filter(invoice=invoice).count() == 2
    assert invoice.public_token != old_token
    assert "refund it before voiding" in refused.content.decode()
    assert invoice.status == Invoice.Status.PARTIALLY_PAID


@pytest.mark.parametrize(
    "path",
    [
        "",
        "payment/",
        "send/",
        "credit/",
        "void/",
        "rotate-link/",
        "payments/{payment}/refund/",
    ],
)
def test_another_organisations_invoice_is_a_404_like_a_missing_one(other_org, office_client, path):
    theirs = factories.InvoiceFactory(organization=other_org)
    payment = factories.PaymentFactory(invoice=theirs)
    method = office_client.get if path == "" else office_client.post
    suffix = path.format(payment=payment.pk)

    other = method(f"/dashboard/invoices/{theirs.pk}/{suffix}")
    missing = method(f"/dashboard/invoices/999999/{suffix}")

    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content
    theirs.refresh_from_db()
    assert (theirs.status, theirs.amount_paid, theirs.public_token) == (
        "sent",
        Decimal("0.00"),
        theirs.public_token,
    )


def test_a_technician_is_refused_the_invoice_pages(tech_client, invoice):
    assert tech_client.get("/dashboard/invoices/").status_code == 403
    assert tech_client.get(f"/dashboard/invoices/{invoice.pk}/").status_code == 403


@pytest.mark.parametrize("rows", [3, 30])
def test_the_pages_cost_the_same_queries_for_3_or_30_rows(
    org, office_client, django_assert_max_num_queries, rows, invoice
):
    for n in range(rows):
        factories.InvoiceFactory(organization=org, number=f"INV-X{n}")
        factories.PaymentFactory(invoice=invoice, amount=Decimal("0.01"))
    office_client.get("/dashboard/invoices/")
    with django_assert_max_num_queries(8):
        assert office_client.get("/dashboard/invoices/").status_code == 200
    with django_assert_max_num_queries(14):
        assert office_client.get(f"/dashboard/invoices/{invoice.pk}/").status_code == 200
