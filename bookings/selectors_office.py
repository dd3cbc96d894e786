"""Reads for the office dashboard's pages: today's calls, one call with its transcript, the
callback queue, a customer's jobs and calls, and one job.

Every selector takes the organisation explicitly and loads what its page renders, so a page
costs the same number of queries for three rows as for thirty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate, TruncHour

from bookings.models import Appointment, Callback, CallSession, CallTurn, Job
from bookings.selectors import local_day_bounds
from customers.models import Customer, Source
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


# --- today at a glance -------------------------------------------------------------------------


@dataclass(frozen=True)
class DayFigures:
    calls: int
    calls_finished: int
    calls_booked: int
    emergency_calls: int
    jobs_booked: int
    jobs_by_ai: int
    jobs_by_staff: int
    jobs_other: int
    emergencies: int
    open_callbacks: int

    @property
    def booking_rate(self) -> int | None:
        """Finished calls today that booked a visit, in percent (None before any call ended)."""
        if not self.calls_finished:
            return None
        return round(100 * self.calls_booked / self.calls_finished)


def day_figures(*, organization: Organization, day: dt.date) -> DayFigures:
    """The day's counts (organisation's timezone), in three aggregate queries."""
    start, end = local_day_bounds(day, tz=organization.tzinfo)
    calls = CallSession.objects.filter(
        organization=organization, created_at__gte=start, created_at__lt=end
    ).aggregate(
        calls=Count("id"),
        finished=Count("id", filter=~Q(outcome="")),
        booked=Count("id", filter=Q(outcome=CallSession.Outcome.BOOKED)),
        emergency=Count("id", filter=Q(priority=Job.Priority.EMERGENCY)),
    )
    jobs = (
        Job.objects.filter(organization=organization, created_at__gte=start, created_at__lt=end)
        .exclude(status=Job.Status.CANCELLED)
        .aggregate(
            booked=Count("id"),
            ai=Count("id", filter=Q(source=Source.AI_CALL)),
            staff=Count("id", filter=Q(source=Source.STAFF)),
            emergencies=Count("id", filter=Q(priority=Job.Priority.EMERGENCY)),
        )
    )
    open_callbacks = (
        Callback.objects.filter(organization=organization)
        .exclude(status=Callback.Status.CLOSED)
        .count()
    )
    return DayFigures(
        calls=calls["calls"],
        calls_finished=calls["finished"],
        calls_booked=calls["booked"],
        emergency_calls=calls["emergency"],
        jobs_booked=jobs["booked"],
        jobs_by_ai=jobs["ai"],
        jobs_by_staff=jobs["staff"],
        jobs_other=jobs["booked"] - jobs["ai"] - jobs["staff"],
        emergencies=jobs["emergencies"],
        open_callbacks=open_callbacks,
    )


def calls_per_hour(*, organization: Organization, day: dt.date) -> dict[int, int]:
    """{local hour: calls that came in} for the day, in one grouped query."""
    tz = organization.tzinfo
    start, end = local_day_bounds(day, tz=tz)
    rows = (
        CallSession.objects.filter(
            organization=organization, created_at__gte=start, created_at__lt=end
        )
        .annotate(hour=TruncHour("created_at", tzinfo=tz))
        .values("hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[int, int] = {}
    for row in rows:
        hour = row["hour"].astimezone(tz).hour
        counts[hour] = counts.get(hour, 0) + row["n"]
    return counts


def jobs_booked_per_day(
    *, organization: Organization, last_day: dt.date, days: int = 14
) -> list[tuple[dt.date, int]]:
    """[(local day, jobs booked that day)] for the `days` days ending `last_day`, oldest first,
    zero-filled, in one grouped query (cancelled jobs not counted)."""
    tz = organization.tzinfo
    first_day = last_day - dt.timedelta(days=days - 1)
    start, _ = local_day_bounds(first_day, tz=tz)
    _, end = local_day_bounds(last_day, tz=tz)
    rows = (
        Job.objects.filter(organization=organization, created_at__gte=start, created_at__lt=end)
        .exclude(status=Job.Status.CANCELLED)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {row["day"]: row["n"] for row in rows}
    return [
        (first_day + dt.timedelta(days=i), counts.get(first_day + dt.timedelta(days=i), 0))
        for i in range(days)
    ]
