"""Reads for the service catalogue, technicians, jobs, appointments and call records.

Every selector takes the organisation explicitly and loads what its callers render, so a list
costs the same number of queries for one row as for five hundred.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

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
from customers.models import CustomerNote, Equipment
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


# --- the technician app ----------------------------------------------------------------------


def technician_day(
    *, organization: Organization, technician: Technician, day: dt.date
) -> QuerySet[Appointment]:
    """The technician's visits starting on `day` (organisation timezone), in time order, with
    what the day page shows (customer, location, service type) loaded; cancelled ones left out."""
    queryset = (
        Appointment.objects.filter(organization=organization, technician=technician)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("job__customer", "job__location", "job__service_type")
        .order_by("start", "id")
    )
    return appointments_on_local_day(queryset, day=day, tz=organization.tzinfo)


def technician_visit_get(
    *, organization: Organization, technician: Technician, pk: int
) -> Appointment | None:
    """One of the technician's own visits, or None: another technician's or another
    organisation's visit looks exactly like a missing one."""
    return (
        Appointment.objects.filter(organization=organization, technician=technician, pk=pk)
        .select_related("job__customer", "job__location", "job__service_type", "job__equipment")
        .first()
    )


@dataclass(frozen=True)
class PreviousVisit:
    job: Job
    technician_name: str
    finished_at: dt.datetime | None


@dataclass(frozen=True)
class VisitContext:
    """What a technician reads before knocking: access notes, complaints, the caller's own
    words, the equipment here and what earlier visits here found."""

    appointment: Appointment
    access: list[str]
    access_notes: list[CustomerNote]
    complaints: list[CustomerNote]
    other_notes: list[CustomerNote]
    calls: list[CallSession]
    equipment: list[Equipment]
    previous: list[PreviousVisit]


PREVIOUS_VISITS = 5


def visit_context(*, organization: Organization, appointment: Appointment) -> VisitContext:
    """The job page's reads for `appointment` (loaded by `technician_visit_get`), in a fixed
    number of queries however long the customer's history."""
    job = appointment.job
    location = job.location
    access = [
        text
        for text in (
            f"Gate code: {location.gate_code}" if location.gate_code else "",
            f"Pets: {location.pets}" if location.pets else "",
            f"Parking: {location.parking}" if location.parking else "",
            location.access_notes,
        )
        if text
    ]
    notes = list(
        CustomerNote.objects.filter(
            organization=organization, customer_id=job.customer_id
        ).order_by("-created_at", "-id")
    )
    calls = list(
        CallSession.objects.filter(organization=organization, job=job)
        .prefetch_related(Prefetch("turns", queryset=CallTurn.objects.order_by("sequence")))
        .order_by("created_at", "id")
    )
    equipment = list(
        Equipment.objects.filter(organization=organization, location_id=location.pk).order_by("id")
    )
    done = (
        Job.objects.filter(organization=organization, location_id=location.pk)
        .exclude(pk=job.pk)
        .filter(status__in=("completed", "invoiced", "closed"))
        .prefetch_related(
            Prefetch(
                "appointments",
                queryset=Appointment.objects.select_related("technician").order_by("-start"),
            )
        )
        .select_related("service_type")
        .order_by("-completed_at", "-id")[:PREVIOUS_VISITS]
    )
    previous = []
    for earlier in done:
        visits = list(earlier.appointments.all())
        previous.append(
            PreviousVisit(
                job=earlier,
                technician_name=visits[0].technician.display_name if visits else "",
                finished_at=earlier.completed_at or (visits[0].finished_at if visits else None),
            )
        )
    return VisitContext(
        appointment=appointment,
        access=access,
        access_notes=[n for n in notes if n.kind == CustomerNote.Kind.ACCESS],
        complaints=[n for n in notes if n.kind == CustomerNote.Kind.COMPLAINT],
        other_notes=[
            n
            for n in notes
            if n.kind not in (CustomerNote.Kind.ACCESS, CustomerNote.Kind.COMPLAINT)
        ],
        calls=calls,
        equipment=equipment,
        previous=previous,
    )
