"""The owner's reports (`invoicing.selectors_reports`) on small books that can be added up by hand.

The books (organisation in America/Chicago, January to March 2026):

| customer (source) | job (source, completed)     | invoice, issued | payments                   |
|-------------------|-----------------------------|-----------------|----------------------------|
| Ana (ai_call)     | J1 ai_call, Jan 10          | 200, Jan 10     | 200 on Jan 31 22:00 local  |
|                   | J2 ai_call, Feb 15          | 100, Feb 15     | 100 on Feb 20, 40 refunded |
| Bob (staff)       | J3 staff, Jan 20            | 150, Jan 20     | 150 failed; 150 on Mar 3   |
|                   | J4 online, Mar 5            | 80, Mar 5       | 80 on Mar 6                |
| Cara (import)     | none                        | 50, Feb 1       | 50 on Feb 2                |
| Dan (online)      | none                        | 40, Feb 3       | 40 on Feb 3, all refunded  |
| Gus (api)         | none                        | 70, Feb 5       | 70 on Feb 5, 30 disputed   |
| Eve (referral)    | J5 Mar 10; one cancelled    | none            |                            |
| Frank (staff)     | J6 api 2025-12-05; J7 Jan 15| none            |                            |

Payments go through the real services (`invoicing.services_payments`): a refund comes with a
credit note, a dispute holds part of a payment.
plus a void invoice of 999 for an AI job, a draft of 500, and another organisation's books.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bookings.models import Job
from invoicing import selectors_reports as reports
from invoicing.models import Invoice, Payment
from invoicing.services_payments import payment_dispute_open, payment_record, payment_refund
from tests import factories

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
JAN_1, MAR_31 = dt.date(2026, 1, 1), dt.date(2026, 3, 31)


def at(month: int, day: int, hour: int = 12, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=CHICAGO)


def customer(org, source, first_name):
    return factories.CustomerFactory(
        organization=org, source=source, first_name=first_name, last_name="Test"
    )


def job(org, who, source, completed, *, status=Job.Status.COMPLETED):
    return factories.JobFactory(
        organization=org, customer=who, source=source, completed_at=completed, status=status
    )


def invoice(org, who, total, *, job=None, issued=None, status=Invoice.Status.SENT, **kwargs):
    total = Decimal(total)
    return factories.InvoiceFactory(
        organization=org,
        customer=who,
        job=job,
        status=status,
        subtotal=total,
        tax_total=Decimal("0"),
        total=total,
        issued_at=issued,
        **kwargs,
    )


def pay(inv, amount, received):
    return payment_record(
        invoice=inv, amount=Decimal(amount), currency="USD", method="card", received_at=received
    )


def failed(inv, amount, received):
    """A declined card: recorded, never applied to the invoice."""
    return factories.PaymentFactory(
        invoice=inv, amount=Decimal(amount), received_at=received, status=Payment.Status.FAILED
    )


def refund(payment, amount):
    return payment_refund(payment=payment, amount=Decimal(amount), reason="Customer refund")


def books(org):
    ana = customer(org, "ai_call", "Ana")
    j1 = job(org, ana, "ai_call", at(1, 10))
    jan_31_late = dt.datetime(2026, 2, 1, 4, tzinfo=dt.UTC)
    pay(invoice(org, ana, 200, job=j1, issued=at(1, 10)), 200, jan_31_late)
    j2 = job(org, ana, "ai_call", at(2, 15))
    refund(pay(invoice(org, ana, 100, job=j2, issued=at(2, 15)), 100, at(2, 20)), 40)

    bob = customer(org, "staff", "Bob")
    j3 = job(org, bob, "staff", at(1, 20))
    i3 = invoice(org, bob, 150, job=j3, issued=at(1, 20))
    failed(i3, 150, at(3, 2))
    pay(i3, 150, at(3, 3))
    j4 = job(org, bob, "online", at(3, 5))
    pay(invoice(org, bob, 80, job=j4, issued=at(3, 5)), 80, at(3, 6))

    cara = customer(org, "import", "Cara")
    pay(invoice(org, cara, 50, issued=at(2, 1)), 50, at(2, 2))
    dan = customer(org, "online", "Dan")
    refund(pay(invoice(org, dan, 40, issued=at(2, 3)), 40, at(2, 3)), 40)
    gus = customer(org, "api", "Gus")
    payment_dispute_open(
        payment=pay(invoice(org, gus, 70, issued=at(2, 5)), 70, at(2, 5)), amount=30
    )

    eve = customer(org, "referral", "Eve")
    job(org, eve, "referral", at(3, 10))
    job(org, eve, "referral", at(3, 12), status=Job.Status.CANCELLED)
    frank = customer(org, "staff", "Frank")
    job(org, frank, "api", at(12, 5, year=2025))
    job(org, frank, "api", at(1, 15))

    void_job = job(org, ana, "ai_call", None, status=Job.Status.SCHEDULED)
    invoice(org, ana, 999, job=void_job, issued=at(2, 10), status=Invoice.Status.VOID)
    invoice(org, ana, 500, issued=at(2, 11), status=Invoice.Status.DRAFT)
    return {"ana": ana, "bob": bob, "cara": cara, "dan": dan, "eve": eve, "gus": gus}


@pytest.fixture
def org_books(org, other_org):
    # given: the books above, and another organisation's books on the same days
    found = books(org)
    books(other_org)
    pay(
        invoice(other_org, customer(other_org, "ai_call", "Zed"), 1000, issued=at(1, 5)),
        1000,
        at(1, 5),
    )
    return found


def by_source(report):
    return {row.source: row for row in report.sources}


# --- revenue by source -------------------------------------------------------------------------


def test_revenue_is_collected_net_of_refunds_by_the_jobs_source(org, org_books):
    # when
    report = reports.revenue_by_source(organization=org, start=JAN_1, end=MAR_31)

    # then: Bob is a staff customer, but his online job's 80 is Online; Cara's and Gus's invoices
    # have no job, so their own sources count them; refunds, the disputed 30, the failed payment
    # and org B count nothing
    rows = by_source(report)
    assert [row.label for row in report.sources] == [
        "AI call",
        "Staff call",
        "Online",
        "API",
        "Imported",
        "Referral",
    ]
    assert {key: row.collected for key, row in rows.items()} == {
        "ai_call": Decimal("260.00"),  # 200 + (100 − 40 refunded)
        "staff": Decimal("150.00"),
        "online": Decimal("80.00"),  # Dan's 40 all refunded
        "api": Decimal("40.00"),  # 70 − 30 disputed
        "imported": Decimal("50.00"),
        "referral": Decimal("0.00"),
    }
    assert report.collected == Decimal("580.00")
    assert report.ai_collected == Decimal("260.00")
    assert report.ai_share == Decimal("44.8")  # 260 / 580
    assert rows["ai_call"].share == Decimal("44.8")
    assert rows["imported"].share == Decimal("8.6")


def test_invoiced_totals_leave_out_void_and_draft_invoices(org, org_books):
    # when
    report = reports.revenue_by_source(organization=org, start=JAN_1, end=MAR_31)

    # then: the void 999 and the draft 500 are not billed; a refund's credit note comes off,
    # a dispute does not (the customer still owes it)
    rows = by_source(report)
    assert {key: row.invoiced for key, row in rows.items()} == {
        "ai_call": Decimal("260.00"),  # 200 + (100 − 40 credited)
        "staff": Decimal("150.00"),
        "online": Decimal("80.00"),  # 80 + (40 − 40 credited)
        "api": Decimal("70.00"),
        "imported": Decimal("50.00"),
        "referral": Decimal("0.00"),
    }
    assert report.invoiced == Decimal("610.00")


def test_completed_jobs_are_counted_per_source(org, org_books):
    # when
    report = reports.revenue_by_source(organization=org, start=JAN_1, end=MAR_31)

    # then: Frank's December job is before the period, Eve's cancelled job is not completed
    assert {key: row.jobs for key, row in by_source(report).items()} == {
        "ai_call": 2,
        "staff": 1,
        "online": 1,
        "api": 1,
        "imported": 0,
        "referral": 1,
    }
    assert report.jobs == 6


def test_monthly_buckets_are_local_months(org, org_books):
    # when
    report = reports.revenue_by_source(organization=org, start=JAN_1, end=MAR_31)

    # then: the 200 received at 04:00 UTC on Feb 1 is Jan 31 in Chicago
    assert [b.start for b in report.buckets] == [
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
    ]
    assert [b.total for b in report.buckets] == [
        Decimal("200.00"),
        Decimal("150.00"),
        Decimal("230.00"),
    ]
    assert report.buckets[1].collected["ai_call"] == Decimal("60.00")
    assert report.buckets[1].collected["imported"] == Decimal("50.00")
    assert report.buckets[1].collected["api"] == Decimal("40.00")
    assert report.buckets[2].collected["staff"] == Decimal("150.00")


def test_weekly_buckets_start_on_mondays(org, org_books):
    # when: February by weeks
    report = reports.revenue_by_source(
        organization=org, start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 28), bucket="week"
    )

    # then: Feb 1 2026 is a Sunday, so the first week starts on Monday Jan 26
    assert [b.start for b in report.buckets] == [
        dt.date(2026, 1, 26),
        dt.date(2026, 2, 2),
        dt.date(2026, 2, 9),
        dt.date(2026, 2, 16),
        dt.date(2026, 2, 23),
    ]
    assert [b.total for b in report.buckets] == [
        Decimal("0.00"),
        Decimal("90.00"),  # Cara 50 on Monday Feb 2, Gus 40 on Feb 5
        Decimal("0.00"),
        Decimal("60.00"),  # Ana's 60 kept of Feb 20
        Decimal("0.00"),
    ]


def test_an_empty_period(org):
    # when
    report = reports.revenue_by_source(organization=org, start=JAN_1, end=MAR_31)

    # then
    assert report.is_empty
    assert report.ai_share is None
    assert len(report.buckets) == 3
    assert all(row.share is None for row in report.sources)


# --- customer lifetime value -------------------------------------------------------------------


def test_lifetime_value_per_paying_customer(org, org_books):
    # when
    clv = reports.customer_lifetime_value(organization=org)

    # then: Ana 260, Bob 230, Cara 50, Gus 40; Dan got his money back and is not a paying
    # customer
    assert clv.paying_customers == 4
    assert clv.collected == Decimal("580.00")
    assert clv.average == Decimal("145.00")
    assert clv.median == Decimal("140.00")  # (50 + 230) / 2
    assert [(c.name, c.collected, c.source) for c in clv.top] == [
        ("Ana Test", Decimal("260.00"), "ai_call"),
        ("Bob Test", Decimal("230.00"), "staff"),
        ("Cara Test", Decimal("50.00"), "imported"),
        ("Gus Test", Decimal("40.00"), "api"),
    ]
    assert [c.customer_id for c in clv.top] == [
        org_books["ana"].pk,
        org_books["bob"].pk,
        org_books["cara"].pk,
        org_books["gus"].pk,
    ]


def test_lifetime_value_by_acquisition_source(org, org_books):
    # when
    clv = reports.customer_lifetime_value(organization=org)

    # then: by the customer's own source: Bob's online job still makes him a staff customer
    rows = {row.source: (row.customers, row.collected, row.average) for row in clv.by_source}
    assert rows["ai_call"] == (1, Decimal("260.00"), Decimal("260.00"))
    assert rows["staff"] == (1, Decimal("230.00"), Decimal("230.00"))
    assert rows["imported"] == (1, Decimal("50.00"), Decimal("50.00"))
    assert rows["api"] == (1, Decimal("40.00"), Decimal("40.00"))
    assert rows["online"] == (0, Decimal("0.00"), None)


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(org):
    # given: four paying customers with 10, 20, 40 and 100
    for n, amount in enumerate([10, 100, 20, 40]):
        who = customer(org, "staff", f"C{n}")
        pay(invoice(org, who, amount, issued=at(1, 1)), amount, at(1, 2))

    # when
    clv = reports.customer_lifetime_value(organization=org, top=2)

    # then
    assert clv.median == Decimal("30.00")
    assert clv.average == Decimal("42.50")
    assert [c.collected for c in clv.top] == [Decimal("100.00"), Decimal("40.00")]


def test_no_paying_customers(org):
    clv = reports.customer_lifetime_value(organization=org)
    assert (clv.paying_customers, clv.average, clv.median, clv.top) == (0, None, None, [])


# --- repeat customers and retention ------------------------------------------------------------


def test_repeat_rate_counts_customers_with_two_completed_jobs(org, org_books):
    # when
    rate = reports.repeat_customer_rate(organization=org, start=JAN_1, end=MAR_31)

    # then: Ana and Bob twice; Eve once (her second job was cancelled), Frank once in the period
    assert (rate.customers, rate.repeat_customers, rate.rate) == (4, 2, Decimal("50.0"))


def test_repeat_rate_of_an_empty_period(org, org_books):
    rate = reports.repeat_customer_rate(
        organization=org, start=dt.date(2025, 6, 1), end=dt.date(2025, 6, 30)
    )
    assert (rate.customers, rate.repeat_customers, rate.rate) == (0, 0, None)


def test_retention_triangle(org, org_books):
    # when
    retention = reports.retention_by_cohort(organization=org, start=JAN_1, end=MAR_31)

    # then: January's cohort is Ana and Bob (Frank started in December); Ana came back in
    # February, Bob in March; nobody's first job was in February; Eve started in March
    assert retention.months == 2
    assert [(c.month, c.customers, c.retained, c.rates) for c in retention.cohorts] == [
        (dt.date(2026, 1, 1), 2, [1, 1], [Decimal("50.0"), Decimal("50.0")]),
        (dt.date(2026, 2, 1), 0, [0], []),
        (dt.date(2026, 3, 1), 1, [], []),
    ]


def test_retention_counts_a_customer_once_per_month(org):
    # given: a January customer with two jobs in January and two in February
    who = customer(org, "ai_call", "Ann")
    for day in (at(1, 3), at(1, 20), at(2, 2), at(2, 9)):
        job(org, who, "ai_call", day)

    # when
    retention = reports.retention_by_cohort(organization=org, start=JAN_1, end=dt.date(2026, 2, 28))

    # then
    assert [(c.customers, c.retained) for c in retention.cohorts] == [(1, [1]), (0, [])]
    assert retention.cohorts[0].rates == [Decimal("100.0")]


# --- receivables -------------------------------------------------------------------------------

TODAY = dt.date(2026, 4, 15)


def test_receivables_by_days_past_due(org, other_org):
    # given: open balances due at the edges of each bucket on April 15
    sent, partly = Invoice.Status.SENT, Invoice.Status.PARTIALLY_PAID
    who = customer(org, "staff", "Rita")
    for total, due, status, paid in [
        (100, dt.date(2026, 4, 20), sent, 0),  # current
        (300, TODAY, partly, 100),  # due today: current, 200 owed
        (40, None, sent, 0),  # no due date: current
        (50, dt.date(2026, 4, 14), sent, 0),  # 1 day
        (70, dt.date(2026, 3, 16), sent, 0),  # 30 days
        (80, dt.date(2026, 3, 15), sent, 0),  # 31 days
        (90, dt.date(2026, 1, 15), sent, 0),  # 90 days
        (110, dt.date(2026, 1, 14), partly, 10),  # 91 days, 100 owed
        (60, dt.date(2025, 1, 1), sent, 60),  # nothing owed
        (65, dt.date(2025, 1, 1), Invoice.Status.PAID, 65),
        (75, dt.date(2025, 1, 1), Invoice.Status.VOID, 0),
        (85, dt.date(2025, 1, 1), Invoice.Status.DRAFT, 0),
    ]:
        invoice(org, who, total, status=status, due_date=due, amount_paid=Decimal(paid))
    invoice(other_org, customer(other_org, "staff", "Zed"), 500, status=sent, due_date=TODAY)

    # when
    aging = reports.receivables_by_age(organization=org, today=TODAY)

    # then
    assert [(b.label, b.invoices, b.balance) for b in aging.buckets] == [
        ("Current", 3, Decimal("340.00")),
        ("1–30 days", 2, Decimal("120.00")),
        ("31–60 days", 1, Decimal("80.00")),
        ("61–90 days", 1, Decimal("90.00")),
        ("90+ days", 1, Decimal("100.00")),
    ]
    assert (aging.invoices, aging.balance, aging.overdue) == (
        8,
        Decimal("730.00"),
        Decimal("390.00"),
    )


def test_no_receivables(org):
    aging = reports.receivables_by_age(organization=org, today=TODAY)
    assert aging.balance == Decimal("0.00")
    assert [b.invoices for b in aging.buckets] == [0, 0, 0, 0, 0]


# --- periods -----------------------------------------------------------------------------------


def test_the_default_period_is_the_last_twelve_months():
    assert reports.default_period(today=dt.date(2026, 12, 8)) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 8),
    )
    assert reports.default_period(today=dt.date(2026, 3, 31), months=3) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
    )
