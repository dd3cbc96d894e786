"""`/api/v1/reports/…`: the owner's reports over HTTP, scoped to the token's organisation (the
figures themselves are tested in tests/invoicing/test_reports.py on the same books)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from invoicing import selectors_reports as reports
from invoicing.models import Invoice
from tests import factories
from tests.invoicing.test_reports import at, books, customer, invoice, pay

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/reports"
PERIOD = {"start": "2026-01-01", "end": "2026-03-31"}
ENDPOINTS = [
    "revenue-by-source",
    "customer-lifetime-value",
    "repeat-rate",
    "retention",
    "receivables",
]


@pytest.fixture
def reader(org, api_client_for):
    return api_client_for(org, scopes=["invoicing:read"])


def test_revenue_by_source_over_http(org, other_org, reader):
    # given: the books in org A, and bigger ones in org B
    books(org)
    books(other_org)
    zed = customer(other_org, "ai_call", "Zed")
    pay(invoice(other_org, zed, 1000, issued=at(1, 5)), 1000, at(1, 5))

    # when
    response = reader.get(f"{REPORTS}/revenue-by-source/", PERIOD)

    # then: money as strings with two decimals, org B's 1000 nowhere
    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"], body["bucket"], body["currency"]) == (
        "2026-01-01",
        "2026-03-31",
        "month",
        "USD",
    )
    assert (body["collected"], body["invoiced"], body["jobs"]) == ("580.00", "610.00", 6)
    assert (body["ai_collected"], body["ai_share"]) == ("260.00", "44.8")
    assert body["sources"][0] == {
        "source": "ai_call",
        "label": "AI call",
        "collected": "260.00",
        "invoiced": "260.00",
        "jobs": 2,
        "share": "44.8",
    }
    assert [b["start"] for b in body["buckets"]] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert [b["total"] for b in body["buckets"]] == ["200.00", "150.00", "230.00"]
    assert body["buckets"][1]["collected"] == {
        "ai_call": "60.00",
        "staff": "0.00",
        "online": "0.00",
        "api": "40.00",
        "imported": "50.00",
        "referral": "0.00",
    }


def test_revenue_by_week(org, reader):
    # given
    books(org)

    # when
    response = reader.get(
        f"{REPORTS}/revenue-by-source/",
        {"start": "2026-02-01", "end": "2026-02-28", "bucket": "week"},
    )

    # then
    assert response.status_code == 200
    assert [b["start"] for b in response.json()["buckets"]][:2] == ["2026-01-26", "2026-02-02"]


def test_the_default_period_is_the_last_twelve_months(org, reader):
    # when
    body = reader.get(f"{REPORTS}/revenue-by-source/").json()

    # then
    today = timezone.localdate(timezone=org.tzinfo)
    assert body["end"] == today.isoformat()
    assert body["start"] == reports.default_period(today=today)[0].isoformat()
    assert len(body["buckets"]) == 12
    assert body["ai_share"] is None


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-13-01"}, "start", "Date has wrong format"),
        ({"end": "yesterday"}, "end", "Date has wrong format"),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "end", "The end is before the start."),
        ({"start": "2000-01-01", "end": "2026-01-01"}, "end", "at most 1830 days"),
        ({"start": "0001-01-01"}, "start", "greater than or equal to 1900-01-01"),
        ({"bucket": "day"}, "bucket", "not a valid choice"),
    ],
)
def test_bad_periods_are_a_400_naming_the_field(reader, query, field, message):
    # when
    response = reader.get(f"{REPORTS}/revenue-by-source/", query)

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [field]
    assert message in body["errors"][field][0]


def test_customer_lifetime_value_over_http(org, other_org, reader):
    # given
    found = books(org)
    books(other_org)

    # when
    response = reader.get(f"{REPORTS}/customer-lifetime-value/", {"top": 2})

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["paying_customers"], body["collected"], body["average"], body["median"]) == (
        4,
        "580.00",
        "145.00",
        "140.00",
    )
    assert body["top"] == [
        {
            "customer": found["ana"].pk,
            "name": "Ana Test",
            "source": "ai_call",
            "collected": "260.00",
        },
        {"customer": found["bob"].pk, "name": "Bob Test", "source": "staff", "collected": "230.00"},
    ]
    assert body["by_source"][0] == {
        "source": "ai_call",
        "label": "AI call",
        "customers": 1,
        "collected": "260.00",
        "average": "260.00",
    }


def test_a_top_out_of_range_is_a_400(reader):
    response = reader.get(f"{REPORTS}/customer-lifetime-value/", {"top": 0})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["top"]


def test_repeat_rate_and_retention_over_http(org, other_org, reader):
    # given
    books(org)
    books(other_org)

    # when
    rate = reader.get(f"{REPORTS}/repeat-rate/", PERIOD).json()
    retention = reader.get(f"{REPORTS}/retention/", PERIOD).json()

    # then
    assert (rate["customers"], rate["repeat_customers"], rate["rate"]) == (4, 2, "50.0")
    assert retention["months"] == 2
    assert retention["cohorts"] == [
        {"month": "2026-01-01", "customers": 2, "retained": [1, 1], "rates": ["50.0", "50.0"]},
        {"month": "2026-02-01", "customers": 0, "retained": [0], "rates": []},
        {"month": "2026-03-01", "customers": 1, "retained": [], "rates": []},
    ]


def test_receivables_over_http_by_the_organisations_today(org, other_org, reader):
    # given: one invoice 45 days past due in the organisation's today, and org B's
    today = timezone.localdate(timezone=org.tzinfo)
    who = customer(org, "staff", "Rita")
    invoice(org, who, 120, status=Invoice.Status.SENT, due_date=today - dt.timedelta(days=45))
    invoice(
        other_org,
        factories.CustomerFactory(organization=other_org),
        900,
        status=Invoice.Status.SENT,
    )

    # when
    body = reader.get(f"{REPORTS}/receivables/").json()

    # then
    assert (body["today"], body["balance"], body["overdue"], body["invoices"]) == (
        today.isoformat(),
        "120.00",
        "120.00",
        1,
    )
    assert [(b["key"], b["balance"]) for b in body["buckets"]] == [
        ("current", "0.00"),
        ("1_30", "0.00"),
        ("31_60", "120.00"),
        ("61_90", "0.00"),
        ("over_90", "0.00"),
    ]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_another_organisations_books_never_show(other_org, reader, endpoint):
    # given: everything is in org B
    books(other_org)
    invoice(
        other_org,
        factories.CustomerFactory(organization=other_org),
        900,
        status=Invoice.Status.SENT,
    )

    # when
    body = reader.get(f"{REPORTS}/{endpoint}/", PERIOD if endpoint != "receivables" else {})

    # then: org A's reports are empty
    assert body.status_code == 200
    text = body.content.decode()
    for amount in ("580.00", "260.00", "900.00", "610.00"):
        assert amount not in text


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_token_needs_invoicing_read(org, api_client_for, endpoint):
    # given: a token for bookings only
    client = api_client_for(org, scopes=["bookings:read"])

    # when
    response = client.get(f"{REPORTS}/{endpoint}/")

    # then
    assert response.status_code == 403


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_token_is_a_401(client, endpoint, db):
    assert client.get(f"{REPORTS}/{endpoint}/").status_code in (401, 403)


def test_the_reports_cost_the_same_queries_for_3_or_30_books(
    org, reader, django_assert_max_num_queries
):
    # given: three times the books, then thirty times
    for _ in range(3):
        books(org)
    budgets = {}
    for endpoint in ENDPOINTS:
        with django_assert_max_num_queries(12) as queries:
            assert (
                reader.get(
                    f"{REPORTS}/{endpoint}/", PERIOD if endpoint != "receivables" else {}
                ).status_code
                == 200
            )
        budgets[endpoint] = len(queries)
    for _ in range(27):
        books(org)

    # then: not one query more with ten times the rows
    for endpoint in ENDPOINTS:
        with django_assert_max_num_queries(budgets[endpoint]):
            reader.get(f"{REPORTS}/{endpoint}/", PERIOD if endpoint != "receivables" else {})
