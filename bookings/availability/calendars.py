"""The question resolved once (`_Request`) and each technician's calendar over the searched
range, loaded in a fixed number of queries whatever the number of technicians."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import FloatField, Func
from django.db.models.functions import Cast
from django.utils import timezone

from bookings.availability.intervals import (
    Interval,
    _merge,
)
from bookings.models import (
    Appointment,
    Holiday,
    Job,
    OnCallShift,
    SchedulingPolicy,
    ServiceType,
    TimeOff,
    WorkingHours,
)
from bookings.selectors import scheduling_policy_for
from customers.models import ServiceLocation
from dispatchnode.accounts.models import Organization
from dispatchnode.core.errors import ApplicationError
from routing.travel import Point, travel_minutes

DEFAULT_DURATION_MINUTES = 90  # a job without a service type: the catalogue's default duration


@dataclass
class _Request:
    """The question, resolved once: what to fit, where, from when to when."""

    organization: Organization
    tz: zoneinfo.ZoneInfo
    policy: SchedulingPolicy
    duration: dt.timedelta
    point: Point | None
    skill_id: int | None
    emergency: bool
    now: dt.datetime
    lower: dt.datetime  # no start before this (notice, earliest)
    upper: dt.datetime  # every start before this (horizon)
    job_id: int | None
    _travel: dict[tuple[Point | None, Point | None], int] = field(default_factory=dict)
    _instants: dict[tuple[dt.date, dt.time], dt.datetime] = field(default_factory=dict)

    @property
    def step(self) -> int:
        return self.policy.slot_step_minutes

    def travel(self, origin: Point | None, destination: Point | None) -> int:
        key = (origin, destination)
        if key not in self._travel:
            self._travel[key] = travel_minutes(
                origin, destination, speed_kmh=self.policy.average_speed_kmh
            )
        return self._travel[key]

    def local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.tz).date()

    def at(self, day: dt.date, wall: dt.time) -> dt.datetime:
        """The UTC instant of a wall-clock time on a local day (a time skipped by DST moves on)."""
        key = (day, wall)
        if key not in self._instants:
            self._instants[key] = dt.datetime.combine(day, wall, tzinfo=self.tz).astimezone(dt.UTC)
        return self._instants[key]


class _Epoch(Func):
    """Seconds since 1970 (UTC) as a float. A search reads thousands of appointment times, and
    a float loads about twenty times faster than a timestamp; callers round to the millisecond
    (SQLite's julianday is exact to about 50 microseconds)."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
            **extra_context,
        )


@dataclass(frozen=True)
class _Stop:
    """An active appointment, as an obstacle with a place."""

    start: dt.datetime
    end: dt.datetime
    point: Point | None


@dataclass
class _Calendar:
    """One technician's time over the searched range (UTC)."""

    technician_id: int
    home: Point | None
    spans: list[Interval]  # working time (plus on-call cover for emergencies), merged
    blocked: list[Interval]  # time off and appointments, merged
    stops: list[_Stop]  # by start


# --- resolving the question -----------------------------------------------------------------


def _resolve(
    *,
    organization: Organization,
    service_type: ServiceType | None = None,
    location: ServiceLocation | None = None,
    job: Job | None = None,
    earliest: dt.datetime | None = None,
    emergency: bool | None = None,
    now: dt.datetime | None = None,
) -> _Request:
    if job is not None:
        if job.organization_id != organization.pk:
            raise ApplicationError("The job belongs to another organisation.", code="wrong_tenant")
        service_type = service_type or job.service_type
        location = location or job.location
        if emergency is None:
            emergency = job.priority == Job.Priority.EMERGENCY
    for obj in (service_type, location):
        if obj is not None and obj.organization_id != organization.pk:
            raise ApplicationError(
                f"The {obj._meta.verbose_name} belongs to another organisation.",
                code="wrong_tenant",
            )
    now = now or timezone.now()
    for name, value in (("now", now), ("earliest", earliest)):
        if value is not None and value.tzinfo is None:
            raise ApplicationError(
                f"`{name}` must carry its timezone offset.", code="naive_datetime"
            )
    now = now.astimezone(dt.UTC)
    policy = scheduling_policy_for(organization=organization)
    lower = now if emergency else now + dt.timedelta(minutes=policy.minimum_notice_minutes)
    if earliest is not None:
        lower = max(lower, earliest.astimezone(dt.UTC))
    minutes = service_type.default_duration_minutes if service_type else DEFAULT_DURATION_MINUTES
    return _Request(
        organization=organization,
        tz=organization.tzinfo,
        policy=policy,
        duration=dt.timedelta(minutes=minutes),
        point=_point(location.latitude, location.longitude) if location else None,
        skill_id=service_type.required_skill_id if service_type else None,
        emergency=bool(emergency),
        now=now,
        lower=lower,
        upper=now + dt.timedelta(days=policy.horizon_days),
        job_id=job.pk if job is not None else None,
    )


def _point(latitude, longitude) -> Point | None:
    if latitude is None or longitude is None:
        return None
    return (float(latitude), float(longitude))


# --- loading: a fixed number of queries, whatever the number of technicians ------------------


def _calendars(req: _Request, homes: dict[int, Point | None]) -> list[_Calendar]:
    """Each technician's spans, blocks and stops over [lower, upper), a day of margin each side
    (a previous stop the evening before, a shift crossing midnight)."""
    if not homes:
        return []
    organization = req.organization
    ids = sorted(homes)
    begin, finish = req.lower - dt.timedelta(days=1), req.upper + dt.timedelta(days=1)
    first_day, last_day = req.local_date(begin), req.local_date(finish)
    holidays = set(
        Holiday.objects.filter(
            organization=organization, date__range=(first_day, last_day)
        ).values_list("date", flat=True)
    )
    weekly: dict[tuple[int, int], list[tuple[dt.time, dt.time]]] = defaultdict(list)
    for tid, weekday, start, end in WorkingHours.objects.filter(
        organization=organization, technician_id__in=ids
    ).values_list("technician_id", "weekday", "start_time", "end_time"):
        weekly[tid, weekday].append((start, end))
    spans: dict[int, list[Interval]] = defaultdict(list)
    day = first_day
    while day <= last_day:
        if day not in holidays:
            weekday = day.weekday()
            for tid in ids:
                for start, end in weekly.get((tid, weekday), ()):
                    spans[tid].append((req.at(day, start), req.at(day, end)))
        day += dt.timedelta(days=1)
    if req.emergency and req.policy.emergency_after_hours:
        for tid, start, end in OnCallShift.objects.filter(
            organization=organization, technician_id__in=ids, start__lt=finish, end__gt=begin
        ).values_list("technician_id", "start", "end"):
            spans[tid].append((start, end))
    blocked: dict[int, list[Interval]] = defaultdict(list)
    for tid, start, end in TimeOff.objects.filter(
        organization=organization, technician_id__in=ids, start__lt=finish, end__gt=begin
    ).values_list("technician_id", "start", "end"):
        blocked[tid].append((start, end))
    stops: dict[int, list[_Stop]] = defaultdict(list)
    appointments = (
        Appointment.objects.filter(
            organization=organization, technician_id__in=ids, start__lt=finish, end__gt=begin
        )
        .filter(status__in=Appointment.ACTIVE_STATUSES)
        .order_by("start", "pk")
    )
    if req.job_id is not None:  # a job's own visit never blocks it: it can move by half an hour
        appointments = appointments.exclude(job_id=req.job_id)
    instant = dt.datetime.fromtimestamp
    for tid, start, end, lat, lon in appointments.values_list(
        "technician_id",
        _Epoch("start"),
        _Epoch("end"),
        Cast("job__location__latitude", FloatField()),
        Cast("job__location__longitude", FloatField()),
    ):
        stop = _Stop(
            instant(round(start, 3), dt.UTC),
            instant(round(end, 3), dt.UTC),
            None if lat is None or lon is None else (lat, lon),
        )
        stops[tid].append(stop)
        blocked[tid].append((stop.start, stop.end))
    return [
        _Calendar(
            technician_id=tid,
            home=homes[tid],
            spans=_merge(spans[tid]),
            blocked=_merge(blocked[tid]),
            stops=stops[tid],
        )
        for tid in ids
    ]
