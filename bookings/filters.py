"""Query parameters of the booking resources."""

from __future__ import annotations

import django_filters

from bookings import selectors
from bookings.models import CATEGORY_CHOICES, CallSession, Job, ServiceType
from customers.models import Source
from dispatchnode.api.filters import IdFilter, TenantFilterSet


class ServiceTypeFilter(TenantFilterSet):
    category = django_filters.ChoiceFilter(choices=CATEGORY_CHOICES)
    kind = django_filters.ChoiceFilter(choices=ServiceType.Kind.choices)


class JobFilter(TenantFilterSet):
    customer = IdFilter(field_name="customer_id")
    status = django_filters.ChoiceFilter(choices=Job.Status.choices)
    source = django_filters.ChoiceFilter(choices=Source.choices)


class AppointmentFilter(TenantFilterSet):
    technician = IdFilter(field_name="technician_id")
    customer = IdFilter(field_name="job__customer_id")
    job = IdFilter(field_name="job_id")
    date = django_filters.DateFilter(
        method="filter_date",
        input_formats=["%Y-%m-%d"],
        validators=list(selectors.DAY_VALIDATORS),
        help_text="YYYY-MM-DD: appointments starting on that day in the organisation's timezone.",
    )

    def filter_date(self, queryset, name, value):
        return selectors.appointments_on_local_day(queryset, day=value, tz=self.organization.tzinfo)


class CallFilter(TenantFilterSet):
    call_sid = django_filters.CharFilter(field_name="call_sid")
    customer = IdFilter(field_name="customer_id")
    outcome = django_filters.ChoiceFilter(
        choices=[(value, label) for value, label in CallSession.Outcome.choices if value],
        help_text="Empty (in progress) calls have no outcome; omit the parameter to see them.",
    )
