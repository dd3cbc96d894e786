"""Reads for the service catalogue, technicians, jobs, appointments and call records.

Every selector takes the organisation explicitly and loads what its callers render, so a list
costs the same number of queries for one row as for five hundred.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Prefetch, QuerySet

from bookings.models import (
    Appointment,
    CallSession,
    CallTurn,
    Job,
    SchedulingPolicy,
    ServiceType,
    Skill,
    Technician,
    WorkingHours,
)
from dispatchnode.accounts.models import Organization


def skill_list(*, organization: Organization) -> QuerySet[Skill]:
    return Skill.objects.filter(organization=organization)


def service_type_list(*, organization: Organization) -> QuerySet[ServiceType]:
    return ServiceType.objects.filter(organization=organization).select_related("required_skill")


def technician_list(*, organization: Organization) -> QuerySet[Technician]:
    """Technicians with their skills and weekly working hours loaded."""
    return Technician.objects.filter(organization=organization).prefetch_related(
        Prefetch("skills", queryset=Skill.objects.order_by("code")),
        Prefetch("working_hours", queryset=WorkingHours.objects.order_by("weekday", "start_time")),
    )


def job_list(*, organization: Organization) -> QuerySet[Job]:
    return Job.objects.filter(organization=organization).select_related("service_type")


# The days the calendar works with. A day's end, and the day of margin the availability search
# looks at either side, are dates too, and Python's dates stop at the years 1 and 9999: a day
# asked for outside this range is a 400 on its field, not an OverflowError.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(9998, 12, 31)
DAY_VALIDATORS = (MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY))


def local_day_bounds(day: dt.date, *, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a calendar day in a timezone, as aware datetimes (23 or 25 hours long
    on the days the clocks change)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def appointment_list(*, organization: Organization) -> QuerySet[Appointment]:
    """Appointments with their job loaded (the output names the job's customer)."""
    return Appointment.objects.filter(organization=organization).select_related("job")


def appointments_on_local_day(
    queryset: QuerySet[Appointment], *, day: dt.date, tz: zoneinfo.ZoneInfo
) -> QuerySet[Appointment]:
    """Appointments whose start falls on `day` in the timezone `tz`."""
    start, end = local_day_bounds(day, tz=tz)
    return queryset.filter(start__gte=start, start__lt=end)


def call_list(*, organization: Organization) -> QuerySet[CallSession]:
    """Call records with their transcript turns loaded in order."""
    return CallSession.objects.filter(organization=organization).prefetch_related(
        Prefetch("turns", queryset=CallTurn.objects.order_by("sequence"))
    )


def scheduling_policy_for(*, organization: Organization) -> SchedulingPolicy:
    """The organisation's scheduling policy, or the defaults (unsaved) when it has none."""
    policy = SchedulingPolicy.objects.filter(organization=organization).first()
    return policy or SchedulingPolicy(organization=organization)


def technician_get(*, organization: Organization, pk: int) -> Technician | None:
    """One of the organisation's technicians, or None (another tenant's id looks missing)."""
    return Technician.objects.filter(organization=organization, pk=pk).first()


def technician_for_user(*, organization: Organization | None, user) -> Technician | None:
    """The active technician record a login is linked to in `organization`, or None."""
    if organization is None or user is None or not user.is_authenticated:
        return None
    return (
        Technician.objects.filter(organization=organization, user=user, is_active=True)
        .order_by("id")
        .first()
    )
