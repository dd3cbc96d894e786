"""Payments, refunds, credit notes, disputes and revisions: the figures move together and every
refusal leaves the invoice as it was."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bookings.models import Job
from dispatchnode.core.errors import ApplicationError, Conflict
from dispatchnode.core.models import OutboxEvent
from invoicing.lines import invoice_totals
from invoicing.models import CreditNote, Invoice, InvoiceEvent, Payment
from invoicing.services import job_complete
from invoicing.services_payments import (
    credit_note_issue,
    payment_dispute_close,
    payment_dispute_open,
    payment_record,
    payment_refund,
    refund_issue,
)
from invoicing.services_sending import invoice_revise, invoice_void
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 9, 19, 0, tzinfo=dt.UTC)


@pytest.fixture
def items(org):
    return {
        "tuneup": factories.PriceBookItemFactory(
            organization=org, name="AC tune-up", unit_price=Decimal("100.00")
        ),
        "part": factories.PriceBookItemFactory(
            organization=org, name="Contactor", unit_price=Decimal("8.25"), taxable=False
        ),
    }


@pytest.fixture
def invoice(org, items):
    """A completed job's sent invoice: 100.00 + 8.25 tax (8.25 %) = 108.25."""
    job = factories.JobFactory(organization=org, status=Job.Status.IN_PROGRESS)
    job = job_complete(job=job, lines=[(items["tuneup"], 1)], now=NOW)
    return Invoice.objects.get(pk=job.invoice.pk)


def figures(invoice: Invoice) -> tuple[str, str, str, str]:
    invoice.refresh_from_db()
    return (invoice.status, str(invoice.amount_paid), str(invoice.credited), str(invoice.balance))


def test_partial_then_full_payment_pays_the_invoice_and_closes_the_job(invoice):
    assert figures(invoice) == ("sent", "0.00", "0.00", "108.25")

    payment_record(invoice=invoice, amount="50.00", currency="usd", method="cash")
    assert figures(invoice) == ("partially_paid", "50.00", "0.00", "58.25")
    assert Job.objects.get(pk=invoice.job_id).status == Job.Status.COMPLETED

    payment_record(invoice=invoice, amount=Decimal("58.25"), currency="USD", method="check")
    assert figures(invoice) == ("paid", "108.25", "0.00", "0.00")
    assert invoice.paid_at is not None
    assert Job.objects.get(pk=invoice.job_id).status == Job.Status.CLOSED
    paid = OutboxEvent.objects.get(topic="invoice.paid")
    assert paid.payload["job_closed"] is True
    assert OutboxEvent.objects.filter(topic="payment.recorded").count() == 2
    kinds = list(InvoiceEvent.objects.filter(invoice=invoice).values_list("kind", flat=True))
    assert kinds == ["sent", "payment", "payment", "paid"]


@pytest.mark.parametrize(
    ("amount", "currency", "code"),
    [
        ("-5", "USD", "invalid_amount"),
        ("0", "USD", "invalid_amount"),
        ("12.345", "USD", "invalid_amount"),
        ("ten", "USD", "invalid_amount"),
        ("10.00", "EUR", "currency_mismatch"),
    ],
)
def test_a_bad_payment_is_a_400_and_writes_nothing(invoice, amount, currency, code):
    with pytest.raises(ApplicationError) as refused:
        payment_record(invoice=invoice, amount=amount, currency=currency, method="cash")

    assert (refused.value.status_code, refused.value.code) == (400, code)
    assert Payment.objects.count() == 0
    assert figures(invoice) == ("sent", "0.00", "0.00", "108.25")


def test_more_than_the_balance_is_a_409_naming_the_balance(invoice):
    payment_record(invoice=invoice, amount="100.00", currency="USD", method="card")

    with pytest.raises(Conflict) as refused:
        payment_record(invoice=invoice, amount="8.26", currency="USD", method="cash")

    assert refused.value.code == "exceeds_balance"
    assert refused.value.extra["balance"] == "8.25"
    assert Payment.objects.count() == 1
    assert figures(invoice) == ("partially_paid", "100.00", "0.00", "8.25")


def test_a_void_invoice_takes_no_payment_and_a_paid_one_cannot_be_voided(invoice):
    payment_record(invoice=invoice, amount="1.00", currency="USD", method="cash")
    with pytest.raises(Conflict, match="refund it before voiding"):
        invoice_void(invoice=invoice, reason="Duplicate")

    other = factories.InvoiceFactory(organization=invoice.organization)
    invoice_void(invoice=other, reason="Duplicate")
    with pytest.raises(Conflict) as refused:
        payment_record(invoice=other, amount="1.00", currency="USD", method="cash")
    assert refused.value.code == "invoice_void"


def test_the_same_gateway_payment_twice_is_recorded_once(invoice):
    first = payment_record(
        invoice=invoice,
        amount="108.25",
        currency="USD",
        method="card",
        provider="stripe",
        provider_payment_id="pi_123",
    )
    again = payment_record(
        invoice=invoice,
        amount="108.25",
        currency="USD",
        method="card",
        provider="stripe",
        provider_payment_id="pi_123",
    )

    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert figures(invoice) == ("paid", "108.25", "0.00", "0.00")
    assert OutboxEvent.objects.filter(topic="invoice.paid").count() == 1


def test_a_refund_comes_with_a_credit_note_and_keeps_the_invoice_settled(invoice):
    payment = payment_record(invoice=invoice, amount="108.25", currency="USD", method="card")

    note = refund_issue(payment=payment, amount="25.00", reason="Goodwill: late arrival")

    assert note.number == "CN-2026-000001"
    assert (note.amount, note.payment_id) == (Decimal("25.00"), payment.pk)
    assert figures(invoice) == ("paid", "83.25", "25.00", "0.00")
    payment.refresh_from_db()
    assert (payment.refunded_amount, payment.status) == (Decimal("25.00"), "succeeded")
    with pytest.raises(Conflict, match=r"holds 83\.25"):
        payment_refund(payment=payment, amount="83.26", reason="Too much")

    payment_refund(payment=payment, amount="83.25", reason="Cancelled work")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert figures(invoice) == ("paid", "0.00", "108.25", "0.00")
    assert list(CreditNote.objects.values_list("number", flat=True).order_by("id")) == [
        "CN-2026-000001",
        "CN-2026-000002",
    ]


def test_a_gateway_refund_is_recorded_once_by_its_id(invoice):
    payment = payment_record(
        invoice=invoice,
        amount="108.25",
        currency="USD",
        method="card",
        provider="stripe",
        provider_payment_id="pi_9",
    )
    first = payment_refund(payment=payment, amount="8.25", reason="r", provider_refund_id="re_1")
    again = payment_refund(payment=payment, amount="8.25", reason="r", provider_refund_id="re_1")

    assert again.pk == first.pk
    assert figures(invoice) == ("paid", "100.00", "8.25", "0.00")


def test_a_credit_note_lowers_the_balance_at_most_to_zero(invoice):
    with pytest.raises(ApplicationError, match="Say why"):
        credit_note_issue(invoice=invoice, amount="5.00", reason=" ")
    credit_note_issue(invoice=invoice, amount="8.25", reason="Loyalty discount")
    assert figures(invoice) == ("sent", "0.00", "8.25", "100.00")

    with pytest.raises(Conflict) as refused:
        credit_note_issue(invoice=invoice, amount="100.01", reason="Too much")
    assert refused.value.code == "exceeds_balance"

    credit_note_issue(invoice=invoice, amount="100.00", reason="Warranty work")
    assert figures(invoice) == ("paid", "0.00", "108.25", "0.00")


def test_a_dispute_reopens_the_balance_and_a_won_one_restores_it(invoice):
    payment = payment_record(invoice=invoice, amount="108.25", currency="USD", method="card")

    payment_dispute_open(payment=payment, amount="108.25")
    payment_dispute_open(payment=payment, amount="108.25")  # the event again: no change
    assert figures(invoice) == ("sent", "0.00", "0.00", "108.25")
    assert invoice.paid_at is None

    payment_dispute_close(payment=payment, won=True)
    assert figures(invoice) == ("paid", "108.25", "0.00", "0.00")
    payment.refresh_from_db()
    assert (payment.status, payment.disputed_amount) == ("succeeded", Decimal("0"))


def test_a_lost_dispute_leaves_the_balance_open(invoice):
    payment = payment_record(invoice=invoice, amount="50.00", currency="USD", method="card")
    payment_dispute_open(payment=payment, amount="50.00")

    payment_dispute_close(payment=payment, won=False)

    assert figures(invoice) == ("sent", "0.00", "0.00", "108.25")
    payment.refresh_from_db()
    assert payment.kept == Decimal("0")


def test_a_sent_invoice_is_revised_as_a_new_version_with_its_old_lines_kept(invoice, items):
    with pytest.raises(Conflict, match="with a reason"):
        invoice_revise(invoice=invoice, lines=[(items["part"], 2)], reason="")

    invoice_revise(
        invoice=invoice,
        lines=[(items["tuneup"], 1), (items["part"], 2)],
        reason="Contactors fitted on site",
    )

    invoice.refresh_from_db()
    assert (invoice.version, invoice.total) == (2, Decimal("124.75"))  # 108.25 + 16.50 no tax
    revision = InvoiceEvent.objects.get(invoice=invoice, kind="revised")
    assert revision.note == "Contactors fitted on site"
    assert revision.snapshot["total"] == "108.25"
    assert [line["description"] for line in revision.snapshot["lines"]] == ["AC tune-up"]


def test_a_revision_below_what_was_paid_is_refused(invoice, items):
    payment_record(invoice=invoice, amount="100.00", currency="USD", method="cash")

    with pytest.raises(Conflict) as refused:
        invoice_revise(invoice=invoice, lines=[(items["part"], 1)], reason="Smaller job")

    assert refused.value.code == "below_paid"
    invoice.refresh_from_db()
    assert (invoice.version, invoice.total, invoice.lines.count()) == (1, Decimal("108.25"), 1)


@pytest.mark.parametrize(
    ("quantity", "price", "taxable", "amount", "tax"),
    [
        ("1", "2.00", True, "2.00", "0.17"),  # 0.165: half-up, not to even (0.16)
        ("1.5", "19.99", True, "29.99", "2.47"),  # 29.985 → 29.99; 2.474175 → 2.47
        ("3", "33.33", False, "99.99", "0.00"),
        ("0.01", "0.50", True, "0.01", "0.00"),  # 0.005 → 0.01; tax 0.000825 → 0.00
        ("7", "10.06", True, "70.42", "5.81"),  # 5.80965 → 5.81
    ],
)
def test_rounding_is_half_up_per_line(quantity, price, taxable, amount, tax):
    lines, subtotal, tax_total = invoice_totals(
        lines=[(Decimal(quantity), Decimal(price), taxable)], tax_rate=Decimal("0.0825")
    )

    assert lines == [(Decimal(amount), Decimal(tax))]
    assert (subtotal, tax_total) == (Decimal(amount), Decimal(tax))


def test_the_jobs_service_line_comes_from_the_price_book(org, items):
    service = factories.ServiceTypeFactory(organization=org)
    tuneup = factories.PriceBookItemFactory(
        organization=org, name="Spring tune-up", unit_price=Decimal("89.00"), service_type=service
    )
    job = factories.JobFactory(organization=org, service_type=service, status="in_progress")

    job = job_complete(job=job, lines=[(items["part"], 1)], now=NOW)

    lines = list(job.invoice.lines.order_by("position"))
    assert [(line.item_id, line.amount) for line in lines] == [
        (tuneup.pk, Decimal("89.00")),
        (items["part"].pk, Decimal("8.25")),
    ]
    assert job.invoice.total == Decimal("104.59")  # 97.25 + 7.34 tax on the tune-up only
