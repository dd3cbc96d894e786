"""Today at a glance: the dashboard's home page."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe

from bookings import selectors_office as office
from customers import selectors_office as customers_office
from dispatchnode.web.access import office_view
from dispatchnode.web.dashboard import charts
from dispatchnode.web.days import local_today
from invoicing import selectors_office as invoicing_office


@require_safe
@office_view
def today(request):
    org = request.organization
    day = local_today(org)
    return render(
        request,
        "dashboard/today.html",
        {
            "nav": "home",
            "day": day,
            "figures": office.day_figures(organization=org, day=day),
            "booked_value": invoicing_office.booked_value_on_local_day(organization=org, day=day),
            "duplicates": customers_office.open_duplicate_review_count(organization=org),
            "hourly": charts.hourly_bar_chart(office.calls_per_hour(organization=org, day=day)),
            "trend": charts.sparkline(office.jobs_booked_per_day(organization=org, last_day=day)),
        },
    )
