"""Reads for the office dashboard's pages: today's calls, one call with its transcript, the
callback queue, a customer's jobs and calls, and one job.

Every selector takes the organisation explicitly and loads what its page renders, so a page
costs the same number of queries for three rows as for thirty.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Prefetch, QuerySet

from bookings.models import Appointment, Callback, CallSession, CallTurn, Job
from bookings.selectors import local_day_bounds
from customers.models import Customer
from dispatchnode.accounts.models import Organization


def calls_on_local_day(*, organization: Organization, day: dt.date) -> list[CallSession]:
    """The calls that came in on `day` (organisation's timezone), newest first, in progress
    first; caller's customer and the call back (if any) joined."""
    start, end = local_day_bounds(day, tz=organization.tzinfo)
    calls = list(
        CallSession.objects.filter(
            organization=organization, created_at__gte=start, created_at__lt=end
        )
        .select_related("customer", "job", "callback")
        .order_by("-created_at", "-id")
    )
    calls.sort(key=lambda c: c.outcome != "")  # stable: in progress first, newest first
    return calls


def call_get(*, organization: Organization, pk: int) -> CallSession | None:
    """One call with its transcript turns in order, customer, job and call back."""
    return (
        CallSession.objects.filter(organization=organization, pk=pk)
        .select_related("customer", "job", "callback", "callback__claimed_by")
        .prefetch_related(Prefetch("turns", queryset=CallTurn.objects.order_by("sequence", "id")))
        .first()
    )


def callback_queue(*, organization: Organization) -> QuerySet[Callback]:
    """Open and claimed call backs, hottest lead first (no score last), then oldest first."""
    return (
        Callback.objects.filter(organization=organization)
        .exclude(status=Callback.Status.CLOSED)
        .select_related("call", "call__customer", "claimed_by")
        .order_by(F("call__lead_score").desc(nulls_last=True), "created_at", "id")
    )


def callbacks_closed_on_local_day(
    *, organization: Organization, day: dt.date
) -> QuerySet[Callback]:
    """Call backs closed on `day` (organisation's timezone), latest first."""
    start, end = local_day_bounds(day, tz=organization.tzinfo)
    return (
        Callback.objects.filter(
            organization=organization,
            status=Callback.Status.CLOSED,
            closed_at__gte=start,
            closed_at__lt=end,
        )
        .select_related("call", "call__customer", "claimed_by")
        .order_by("-closed_at", "-id")
    )


def callback_get(*, organization: Organization, pk: int) -> Callback | None:
    return Callback.objects.filter(organization=organization, pk=pk).first()


def customer_jobs(*, organization: Organization, customer: Customer) -> list[Job]:
    """The customer's jobs, newest first, with service type, location and appointments (with
    technicians) loaded."""
    return list(
        Job.objects.filter(organization=organization, customer=customer)
        .select_related("service_type", "location")
        .prefetch_related(
            Prefetch(
                "appointments",
                queryset=Appointment.objects.select_related("technician").order_by("start"),
            )
        )
        .order_by("-created_at", "-id")
    )


def customer_calls(*, organization: Organization, customer: Customer) -> QuerySet[CallSession]:
    """The customer's calls, newest first (the transcript is on each call's own page)."""
    return CallSession.objects.filter(organization=organization, customer=customer).order_by(
        "-created_at", "-id"
    )


def job_get(*, organization: Organization, pk: int) -> Job | None:
    """One job with its customer, location, service type, appointments (technicians) and the
    calls that made or changed it."""
    return (
        Job.objects.filter(organization=organization, pk=pk)
        .select_related("customer", "location", "service_type", "equipment", "created_by")
        .prefetch_related(
            Prefetch(
                "appointments",
                queryset=Appointment.objects.select_related("technician").order_by("start"),
            ),
            Prefetch("calls", queryset=CallSession.objects.order_by("created_at")),
        )
        .first()
    )


def job_counts_by_customer(
    *, organization: Organization, customer_ids: list[int]
) -> dict[int, int]:
    """How many jobs each of these customers has: one query for them all."""
    if not customer_ids:
        return {}
    rows = (
        Job.objects.filter(organization=organization, customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["customer_id"]: row["n"] for row in rows}
