"""Reads for the office dispatch board: one local day of every active technician's visits, the
drive between them, the jobs still waiting for a visit, and a cheap version of all of it.

Every read costs a fixed number of queries whatever the number of technicians, visits or jobs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, Max, Prefetch, Value, When

from bookings.availability import Slot, slots_find
from bookings.models import Appointment, Job, SchedulingPolicy, Technician, WorkingHours
from bookings.rules import APPOINTMENT_OPEN_STATUSES
from bookings.selectors import local_day_bounds, scheduling_policy_for
from dispatchnode.accounts.models import Organization
from routing.travel import travel_minutes

DEFAULT_FIRST_HOUR = 7
DEFAULT_LAST_HOUR = 19
ALTERNATIVES = 3
_PRIORITY_ORDER = Case(
    When(priority=Job.Priority.EMERGENCY, then=Value(0)),
    When(priority=Job.Priority.HIGH, then=Value(1)),
    When(priority=Job.Priority.NORMAL, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


@dataclass
class BoardVisit:
    appointment: Appointment
    left: float  # percent of the day's span
    width: float


@dataclass
class BoardGap:
    """The time between two visits of one technician, and the estimated drive in it."""

    left: float
    width: float
    drive_left: float
    drive_width: float
    drive_minutes: int
    free_minutes: int

    @property
    def tight(self) -> bool:
        return self.free_minutes < self.drive_minutes


@dataclass
class BoardRow:
    technician: Technician
    visits: list[BoardVisit] = field(default_factory=list)
    gaps: list[BoardGap] = field(default_factory=list)
    shift: tuple[float, float] | None = None  # the working hours, as left/width percents


@dataclass
class BoardDay:
    day: dt.date
    start: dt.datetime  # the first hour shown (aware, the organisation's timezone)
    end: dt.datetime
    hours: list[dt.datetime]
    rows: list[BoardRow]
    unassigned: list[Job]
    policy: SchedulingPolicy
    has_technicians: bool

    @property
    def span_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def start_choices(self) -> list[dt.datetime]:
        """Every start the grid offers within the hours shown (for the keyboard Move form)."""
        step = dt.timedelta(minutes=self.policy.slot_step_minutes)
        choices, at = [], self.start
        while at < self.end:
            choices.append(at)
            at += step
        return choices


def _point(location):
    if location is None or location.latitude is None or location.longitude is None:
        return None
    return (float(location.latitude), float(location.longitude))


def _day_hours(day: dt.date, shifts: list[WorkingHours], visits: list[Appointment], tz):
    first, last = DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR
    if shifts:
        first = min(s.start_time.hour for s in shifts)
        last = max(s.end_time.hour + (1 if s.end_time.minute else 0) for s in shifts)
    for visit in visits:
        start, end = visit.start.astimezone(tz), visit.end.astimezone(tz)
        if start.date() == day:
            first = min(first, start.hour)
        last = max(last, 24 if end.date() > day else end.hour + (1 if end.minute else 0))
    last = max(last, first + 1)
    return first, min(last, 24)


def board_day(*, organization: Organization, day: dt.date) -> BoardDay:
    """The board of one local day: active technicians as rows, their visits of the day (not
    cancelled) with the gaps and drives between them, and the unassigned jobs (emergencies
    first)."""
    tz = organization.tzinfo
    policy = scheduling_policy_for(organization=organization)
    technicians = list(
        Technician.objects.filter(organization=organization, is_active=True).prefetch_related(
            Prefetch(
                "working_hours",
                queryset=WorkingHours.objects.filter(weekday=day.weekday()).order_by("start_time"),
                to_attr="day_hours",
            )
        )
    )
    day_start, day_end = local_day_bounds(day, tz=tz)
    visits = list(
        Appointment.objects.filter(
            organization=organization,
            technician__in=[t.pk for t in technicians],
            start__lt=day_end,
            end__gt=day_start,
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("job__customer", "job__service_type", "job__location")
        .order_by("technician_id", "start")
    )
    shifts = [s for t in technicians for s in t.day_hours]
    first, last = _day_hours(day, shifts, visits, tz)
    start = dt.datetime.combine(day, dt.time(first), tzinfo=tz)
    end = day_end if last >= 24 else dt.datetime.combine(day, dt.time(last), tzinfo=tz)
    span = (end - start).total_seconds()

    def pct(at: dt.datetime) -> float:
        return round(max(0.0, min(100.0, (at - start).total_seconds() / span * 100)), 3)

    by_technician: dict[int, list[Appointment]] = {}
    for visit in visits:
        by_technician.setdefault(visit.technician_id, []).append(visit)
    rows = []
    for technician in technicians:
        row = BoardRow(technician=technician)
        if technician.day_hours:
            shift_start = dt.datetime.combine(day, technician.day_hours[0].start_time, tzinfo=tz)
            shift_end = dt.datetime.combine(day, technician.day_hours[-1].end_time, tzinfo=tz)
            row.shift = (pct(shift_start), round(pct(shift_end) - pct(shift_start), 3))
        previous = None
        for visit in by_technician.get(technician.pk, []):
            left = pct(visit.start)
            row.visits.append(BoardVisit(visit, left, round(pct(visit.end) - left, 3)))
            if previous is not None and visit.start >= previous.end:
                drive = travel_minutes(
                    _point(previous.job.location),
                    _point(visit.job.location),
                    speed_kmh=policy.average_speed_kmh,
                )
                free = int((visit.start - previous.end).total_seconds() // 60)
                gap_left = pct(previous.end)
                drive_end = previous.end + dt.timedelta(minutes=min(drive, free))
                row.gaps.append(
                    BoardGap(
                        left=gap_left,
                        width=round(pct(visit.start) - gap_left, 3),
                        drive_left=gap_left,
                        drive_width=round(pct(drive_end) - gap_left, 3),
                        drive_minutes=drive,
                        free_minutes=free,
                    )
                )
            previous = visit
        rows.append(row)
    hours = [start + dt.timedelta(hours=h) for h in range(int(span // 3600))]
    return BoardDay(
        day=day,
        start=start,
        end=end,
        hours=hours,
        rows=rows,
        unassigned=list(unassigned_jobs(organization=organization)),
        policy=policy,
        has_technicians=bool(technicians),
    )


def unassigned_jobs(*, organization: Organization):
    """Requested jobs without an open visit: emergencies first, then high, then the oldest."""
    return (
        Job.objects.filter(organization=organization, status=Job.Status.REQUESTED)
        .exclude(appointments__status__in=APPOINTMENT_OPEN_STATUSES)
        .select_related("customer", "service_type", "location")
        .annotate(priority_rank=_PRIORITY_ORDER)
        .order_by("priority_rank", "created_at", "id")
    )


def board_version(*, organization: Organization, day: dt.date) -> str:
    """A short fingerprint of everything the board of `day` shows: it changes when a visit of
    the day, an unassigned job or a technician is added, changed or removed."""
    day_start, day_end = local_day_bounds(day, tz=organization.tzinfo)
    visits = Appointment.objects.filter(
        organization=organization, start__lt=day_end, end__gt=day_start
    ).aggregate(n=Count("id"), at=Max("updated_at"))
    jobs = (
        Job.objects.filter(organization=organization, status=Job.Status.REQUESTED)
        .exclude(appointments__status__in=APPOINTMENT_OPEN_STATUSES)
        .aggregate(n=Count("id"), at=Max("updated_at"))
    )
    people = Technician.objects.filter(organization=organization).aggregate(
        n=Count("id"), at=Max("updated_at")
    )
    raw = "|".join(f"{part['n']}@{part['at']}" for part in (visits, jobs, people))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def board_job_get(*, organization: Organization, pk: int) -> Job | None:
    return Job.objects.filter(organization=organization, pk=pk).first()


def board_appointment_get(*, organization: Organization, pk: int) -> Appointment | None:
    return (
        Appointment.objects.filter(organization=organization, pk=pk)
        .select_related("job", "technician")
        .first()
    )


def board_alternatives(*, job: Job) -> list[Slot]:
    """A few times the job could have instead (the slot engine's own offers)."""
    return slots_find(organization=job.organization, job=job, count=ALTERNATIVES)
