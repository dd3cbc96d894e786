"""Reads for the office dashboard: a customer's invoices, a job's invoices, and the value of
the work booked on a day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery, Sum

from bookings.models import Job
from bookings.selectors import local_day_bounds
from customers.models import Customer
from dispatchnode.accounts.models import Organization
from invoicing.models import Invoice, PriceBookItem


def customer_invoices(*, organization: Organization, customer: Customer) -> QuerySet[Invoice]:
    """The customer's invoices, newest first, with the job they bill."""
    return (
        Invoice.objects.filter(organization=organization, customer=customer)
        .select_related("job")
        .order_by("-created_at", "-id")
    )


def job_invoices(*, organization: Organization, job: Job) -> QuerySet[Invoice]:
    """The job's invoices (usually one), newest first, with their lines in order."""
    return (
        Invoice.objects.filter(organization=organization, job=job)
        .prefetch_related("lines")
        .order_by("-created_at", "-id")
    )


def booked_value_on_local_day(*, organization: Organization, day: dt.date) -> Decimal:
    """The value of the work booked on `day` (organisation's timezone): for each job created
    that day and not cancelled, the price-book price of its service type (the lowest active
    price if several items name it; nothing for a job without one). One aggregate query."""
    start, end = local_day_bounds(day, tz=organization.tzinfo)
    price = (
        PriceBookItem.objects.filter(
            organization=organization,
            service_type_id=OuterRef("service_type_id"),
            is_active=True,
        )
        .order_by("unit_price")
        .values("unit_price")[:1]
    )
    total = (
        Job.objects.filter(organization=organization, created_at__gte=start, created_at__lt=end)
        .exclude(status=Job.Status.CANCELLED)
        .annotate(price=Subquery(price))
        .aggregate(total=Sum("price"))["total"]
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))
