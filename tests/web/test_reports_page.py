"""The Reports page (`/dashboard/reports/`): the owner's figures for a period, with SVG charts
(the figures themselves are tested in tests/invoicing/test_reports.py on the same books)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from invoicing import selectors_reports as reports
from invoicing.models import Invoice
from tests import factories
from tests.invoicing.test_reports import books, customer, invoice

pytestmark = pytest.mark.django_db

PAGE = "/dashboard/reports/"
PERIOD = {"start": "2026-01-01", "end": "2026-03-31"}


def test_the_period_s_figures_and_charts(org, other_org, office_client):
    # given: the books, and another organisation's
    ana = books(org)["ana"]
    books(other_org)

    # when
    response = office_client.get(PAGE, PERIOD)
    html = response.content.decode()

    # then: the AI's share first, then the stacked bars with the AI's share over each month
    assert response.status_code == 200
    assert re.search(
        r'<div class="value">44.8%</div><div class="label">Brought in by the AI: \$260 of \$580',
        html,
    )
    assert "Repeat customers (2 of 4 with 2+ jobs)" in html
    assert 'aria-label="Collected $580 from 1 Jan 2026 to 31 Mar 2026; the AI phone agent' in html
    assert "$260 (44.8%)." in html
    assert html.count('class="seg seg-ai_call"') == 2  # January and February
    assert ">100%</text>" in html  # January: all AI
    assert ">40%</text>" in html  # February: 60 of 150
    assert ">0%</text>" in html  # March: none
    assert "<td>$260.00</td><td>44.8%</td><td>$260.00</td><td>2</td>" in html
    # the CLV tables, the top customer linking to the customer page
    assert "<dt>Median</dt><dd>$140.00</dd>" in html
    assert f'href="/dashboard/customers/{ana.pk}/">Ana Test</a>' in html
    # the retention triangle
    assert 'title="1 of 2">50%</td>' in html
    assert html.count('<td class="blank"></td>') == 1 + 2  # Feb misses +2, Mar misses +1 and +2
    assert "<script" not in html.split("</head>")[1]


def test_receivables_bars_by_the_organisations_today(org, office_client):
    # given: 120 owed 45 days past due
    today = timezone.localdate(timezone=org.tzinfo)
    invoice(
        org,
        customer(org, "staff", "Rita"),
        120,
        status=Invoice.Status.SENT,
        due_date=today - dt.timedelta(days=45),
    )

    # when
    html = office_client.get(PAGE).content.decode()

    # then
    assert 'aria-label="$120 owed on 1 invoices, $120 of it past due."' in html
    assert "<title>31–60 days: $120 · 1</title>" in html
    assert 'class="value error">$120</div><div class="label">Past due, of $120 owed' in html


def test_an_empty_organisation_gets_the_empty_state(org, other_org, office_client):
    # given: only org B has books
    books(other_org)

    # when
    html = office_client.get(PAGE, PERIOD).content.decode()

    # then
    assert "No money to report yet." in html
    assert "<svg" not in html
    assert 'aria-current="page">Reports</a>' in html


def test_a_bad_period_says_so_and_shows_the_last_12_months(org, office_client):
    # when
    html = office_client.get(PAGE, {"start": "2026-03-01", "end": "2026-02-01"}).content.decode()

    # then
    assert "The end is before the start; showing the last 12 months." in html
    start, end = reports.default_period(today=timezone.localdate(timezone=org.tzinfo))
    assert f'value="{start:%Y-%m-%d}"' in html
    assert f'value="{end:%Y-%m-%d}"' in html


def test_a_date_that_is_not_one(office_client):
    html = office_client.get(PAGE, {"start": "soon"}).content.decode()
    assert "That is not a date (use YYYY-MM-DD)" in html


def test_weekly_bars(org, office_client):
    # given
    books(org)

    # when
    html = office_client.get(
        PAGE, {"start": "2026-02-01", "end": "2026-02-28", "bucket": "week"}
    ).content.decode()

    # then: five weeks, labelled by their Mondays
    assert '<option value="week" selected>' in html
    assert ">26 Jan</text>" in html
    assert ">23 Feb</text>" in html


def test_owners_see_it_and_technicians_do_not(owner_client, tech_client):
    assert owner_client.get(PAGE).status_code == 200
    response = tech_client.get(PAGE)
    assert response.status_code == 403
    assert b"The dashboard is for office staff." in response.content


def test_anonymous_goes_to_the_login(client, db):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("copies", [3, 30])
def test_the_page_costs_the_same_queries_for_3_or_30_copies_of_the_books(
    org, office_client, django_assert_max_num_queries, copies
):
    # given
    for _ in range(copies):
        books(org)
    factories.CustomerFactory.create_batch(copies, organization=org)

    # when / then
    with django_assert_max_num_queries(18):
        assert office_client.get(PAGE, PERIOD).status_code == 200
