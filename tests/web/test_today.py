"""Today at a glance: the day's figures and the two SVG charts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import CallSession, Job
from bookings.services_callbacks import callback_open_for_call
from tests import factories

pytestmark = pytest.mark.django_db


def _at(org, hour: int, days_ago: int = 0) -> dt.datetime:
    day = timezone.localdate(timezone=org.tzinfo) - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour, 15), tzinfo=org.tzinfo)


def _call(org, *, hour, outcome=CallSession.Outcome.BOOKED, **kwargs):
    call = factories.CallSessionFactory(organization=org, outcome=outcome, **kwargs)
    CallSession.objects.filter(pk=call.pk).update(created_at=_at(org, hour))
    return call


def _job(org, *, service_type, source="ai_call", days_ago=0, **kwargs):
    job = factories.JobFactory(organization=org, service_type=service_type, source=source, **kwargs)
    Job.objects.filter(pk=job.pk).update(created_at=_at(org, 8, days_ago))
    return job


def _day(org):
    repair = factories.ServiceTypeFactory(organization=org, name="AC repair")
    tune = factories.ServiceTypeFactory(organization=org, name="Tune-up")
    factories.PriceBookItemFactory(
        organization=org, service_type=repair, unit_price=Decimal("189.00")
    )
    factories.PriceBookItemFactory(
        organization=org, service_type=repair, unit_price=Decimal("149.00")
    )
    factories.PriceBookItemFactory(organization=org, service_type=tune, unit_price=Decimal("99.00"))
    _job(org, service_type=repair, priority=Job.Priority.EMERGENCY)  # 149
    _job(org, service_type=tune, source="staff")  # 99
    _job(org, service_type=tune, status=Job.Status.CANCELLED)  # not counted
    _job(org, service_type=repair, days_ago=1)  # yesterday
    _job(org, service_type=repair, days_ago=3)
    _call(org, hour=9)
    _call(org, hour=9, priority="emergency")
    _call(org, hour=14, outcome=CallSession.Outcome.NO_BOOKING)
    callback = factories.CallSessionFactory(
        organization=org,
        outcome=CallSession.Outcome.NO_BOOKING,
        action_items=["Call back: the caller did not book"],
        ended_at=timezone.now(),
    )
    callback_open_for_call(callback)
    CallSession.objects.filter(pk=callback.pk).update(created_at=_at(org, 14))


def test_the_days_figures(org, office_client):
    _day(org)
    html = office_client.get("/dashboard/").content.decode()
    assert "$248" in html  # 149 (lowest price of the repair) + 99; cancelled not counted
    assert re.search(r'<div class="value">4</div><div class="label">Calls answered', html)
    assert "Jobs booked: 1 by the AI, 1 by staff" in html
    assert "50%" in html
    assert "2 of 4 finished calls" in html
    assert "Emergency jobs (1 emergency call)" in html
    assert re.search(r">1</a></div><div class=\"label\">Open call backs", html)
    assert "Booked value</strong> is the price-book price" in html


def test_the_charts_are_server_rendered_svg(org, office_client):
    _day(org)
    html = office_client.get("/dashboard/").content.decode()
    assert html.count("<svg") == 2
    assert "<script" not in html.split("</head>")[1]
    assert 'aria-label="4 calls today; busiest hour 9a with 2."' in html
    assert "<title>9a: 2 calls</title>" in html
    assert "<title>2p: 2 calls</title>" in html
    assert "4 jobs booked from" in html  # 2 today + 1 yesterday + 1 three days ago; not cancelled
    assert html.count('class="dot"') == 14


def test_an_empty_day(office_client):
    html = office_client.get("/dashboard/").content.decode()
    assert "$0" in html
    assert "No calls yet today." in html
    assert "—" in html


def test_another_organisations_day_is_not_counted(org, other_org, office_client):
    _day(other_org)
    html = office_client.get("/dashboard/").content.decode()
    assert "$0" in html
    assert "No calls yet today." in html


@pytest.mark.parametrize("rows", [3, 30])
def test_today_costs_the_same_queries_for_3_or_30(
    org, office_client, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        _day(org)
    office_client.get("/dashboard/")
    with django_assert_max_num_queries(13):
        assert office_client.get("/dashboard/").status_code == 200
