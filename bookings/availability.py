"""The availability engine: when can which technician be there?

The phone agent, the API, the booking service and the router all ask it, so it is one set of
rules applied the same way by `slots_find` (the offers), `slot_for` / `slot_is_offerable` (is
this start still one we would offer?) and `technician_free_intervals` (the day view).

Rules, in the organisation's timezone:

- Working time is each technician's weekly `WorkingHours`, except on `Holiday`s. Emergencies
  (job priority "emergency") also get `OnCallShift` cover when the policy allows after-hours work,
  holidays included. `TimeOff` removes time. A job fits entirely inside one stretch of working
  time: a 2-hour job may not end after the shift.
- Active appointments block their interval, plus travel: the previous stop of the same local day
  (or the home base for the first job) must leave `travel_minutes` before the start, and the job
  must leave travel time to the next stop of that day. The commute from home happens before the
  shift, as in most field-service firms, so a first job may start when the shift starts. Nobody
  arrives before they could drive there from now.
- Starts lie on the policy grid (`slot_step_minutes` of wall-clock time past local midnight), no
  earlier than now + `minimum_notice_minutes` (emergencies: now, rounded up to the grid), and
  before now + `horizon_days`.
- Arrival window: the customer is promised the `arrival_window_minutes` window containing the
  start, counted from the start of that stretch of working time (8-10, 10-12, ...) and cut at its
  end (16-17). Emergencies are promised "within the window from the start" instead.
- Candidates: in each free stretch of a technician, the first start inside each arrival window
  that suits the customer's `Preference` (dates, weekdays, planned arrival after/before), so a
  technician offers a few different promises a day, not every half hour.
- Ranking (lower score first): emergencies by minutes from now; other jobs by the driving the
  job adds to the technician's day plus one point per hour of waiting, so a tight route wins
  unless it means waiting much longer. Regular offers take the best of each (day, part of day)
  first, then the rest by score; ties go to the earlier start, then the lower technician id.

All arithmetic happens on UTC instants; wall-clock time is used only for the grid, the weekly
hours and days, so the days the clocks change have their true length (23 or 25 hours).
"""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import FloatField, Func
from django.db.models.functions import Cast
from django.utils import timezone

from bookings.models import (
    Appointment,
    Holiday,
    Job,
    OnCallShift,
    SchedulingPolicy,
    ServiceType,
    Technician,
    TimeOff,
    WorkingHours,
)
from bookings.preferences import Preference
from bookings.selectors import scheduling_policy_for
from customers.models import ServiceLocation
from dispatchnode.accounts.models import Organization
from dispatchnode.core.errors import ApplicationError
from routing.travel import Point, travel_minutes

DEFAULT_DURATION_MINUTES = 90  # a job without a service type: the catalogue's default duration
HOUR_OF_WAITING = 1.0  # score points per hour from now: one hour later ~ one more minute driving
PARTS_OF_DAY = (dt.time(12), dt.time(17))  # morning | afternoon | evening, local wall clock
_TICK = dt.timedelta(microseconds=1)
Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Slot:
    """A bookable offer. Its times share the organisation's zone, and Python subtracts two
    datetimes of one zone by wall clock: convert to UTC before measuring across a clock change."""

    technician_id: int
    start: dt.datetime  # aware, in the organisation's timezone
    end: dt.datetime  # start + job duration
    arrival_window_start: dt.datetime  # what the customer is promised ("between 8 and 10")
    arrival_window_end: dt.datetime
    travel_minutes: int  # from the technician's previous stop (or home base)
    score: float  # lower is better; ties broken deterministically


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


@dataclass(frozen=True)
class _Range:
    """Every grid start in [lo, hi] is bookable for this technician, with the same travel."""

    technician_id: int
    lo: dt.datetime
    hi: dt.datetime
    span: Interval
    travel_in: int
    added_travel: int


# --- public interface -----------------------------------------------------------------------


def slots_find(
    *,
    organization: Organization,
    service_type: ServiceType | None = None,
    location: ServiceLocation | None = None,
    job: Job | None = None,
    earliest: dt.datetime | None = None,
    count: int = 3,
    preference: Preference | None = None,
    emergency: bool | None = None,
    technician: Technician | None = None,
    exclude: Iterable[tuple[int, dt.datetime]] = (),
    now: dt.datetime | None = None,
) -> list[Slot]:
    """The best `count` bookable slots across the organisation's technicians (module rules).

    `job` supplies the service type, location and priority unless they are passed. `exclude`
    holds (technician_id, start) pairs not to offer again (a lost race, a refused offer); the
    next start on the grid is offered in their place. Deterministic for the same data and `now`.
    """
    req = _resolve(
        organization=organization,
        service_type=service_type,
        location=location,
        job=job,
        earliest=earliest,
        emergency=emergency,
        now=now,
    )
    if count <= 0 or req.lower >= req.upper:
        return []
    technicians = Technician.objects.filter(organization=organization, is_active=True)
    if req.skill_id is not None:
        technicians = technicians.filter(skills=req.skill_id)
    if technician is not None:
        technicians = technicians.filter(pk=technician.pk)
    homes = {
        pk: _point(lat, lon)
        for pk, lat, lon in technicians.order_by("pk").values_list(
            "pk", "home_latitude", "home_longitude"
        )
    }
    excluded = {(tid, start.astimezone(dt.UTC)) for tid, start in exclude}
    candidates = []  # (score, start, technician_id, range)
    for calendar in _calendars(req, homes):
        for rng in _ranges(req, calendar):
            for lo, hi in _window_blocks(req, rng):
                start = _first_start(req, rng.technician_id, lo, hi, preference, excluded)
                if start is not None:
                    candidates.append((_score(req, rng, start), start, rng.technician_id, rng))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    chosen = candidates if req.emergency else _spread(req, candidates)
    return [_slot(req, rng, start) for _, start, _, rng in chosen[:count]]


def slot_for(
    *, job: Job, technician: Technician, start: dt.datetime, now: dt.datetime | None = None
) -> Slot | None:
    """The slot `slots_find` could have offered for this job with this technician at `start`,
    or None when it could not (for the booking service: window, travel and score included)."""
    if start.tzinfo is None:
        raise ApplicationError("The start must carry its timezone offset.", code="naive_datetime")
    req = _resolve(organization=job.organization, job=job, now=now)
    if technician.organization_id != job.organization_id or not technician.is_active:
        return None
    if req.skill_id is not None and not technician.skills.filter(pk=req.skill_id).exists():
        return None
    start = start.astimezone(dt.UTC)
    if _ceil_to_grid(start, tz=req.tz, step=req.step) != start:
        return None
    if not req.lower <= start < req.upper:
        return None
    home = _point(technician.home_latitude, technician.home_longitude)
    for calendar in _calendars(req, {technician.pk: home}):
        for rng in _ranges(req, calendar):
            if rng.lo <= start <= rng.hi:
                return _slot(req, rng, start)
    return None


def slot_is_offerable(
    *, job: Job, technician: Technician, start: dt.datetime, now: dt.datetime | None = None
) -> bool:
    """True when `slots_find` could have offered exactly this (technician, start) for the job."""
    return slot_for(job=job, technician=technician, start=start, now=now) is not None


def technician_free_intervals(
    *, technician: Technician, date: dt.date
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The technician's free working time on a local day: working hours (none on a holiday)
    minus time off and active appointments, in the organisation's timezone. No travel buffers:
    those depend on where the next job is."""
    organization = technician.organization
    tz = organization.tzinfo
    day_start = dt.datetime.combine(date, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
    day_end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time.min, tzinfo=tz).astimezone(
        dt.UTC
    )
    if not technician.is_active:
        return []
    req = _Request(
        organization=organization,
        tz=tz,
        policy=scheduling_policy_for(organization=organization),
        duration=dt.timedelta(0),
        point=None,
        skill_id=None,
        emergency=False,
        now=day_start,
        lower=day_start,
        upper=day_end,
        job_id=None,
    )
    free = []
    for calendar in _calendars(req, {technician.pk: None}):
        for span in calendar.spans:
            for start, end in _subtract(span, calendar.blocked):
                start, end = max(start, day_start), min(end, day_end)
                if start < end:
                    free.append((start.astimezone(tz), end.astimezone(tz)))
    return free


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


# --- the walk ---------------------------------------------------------------------------------


def _ranges(req: _Request, calendar: _Calendar) -> Iterator[_Range]:
    """Every run of feasible starts: the free pieces of working time, shrunk by travel from the
    previous stop and to the next one, by notice and by the horizon."""
    stop_starts = [stop.start for stop in calendar.stops]
    home = calendar.home
    for span in calendar.spans:
        if span[1] <= req.lower or span[0] >= req.upper:
            continue
        for piece_start, piece_end in _subtract(span, calendar.blocked):
            if piece_end - piece_start < req.duration:
                continue
            before = bisect.bisect_left(stop_starts, piece_start) - 1
            prev = calendar.stops[before] if before >= 0 else None
            if prev is not None and req.local_date(prev.end) != req.local_date(piece_start):
                prev = None  # yesterday's last stop: the day starts from home
            after = bisect.bisect_left(stop_starts, piece_end)
            nxt = calendar.stops[after] if after < len(stop_starts) else None
            if nxt is not None and req.local_date(nxt.start) != req.local_date(piece_end):
                nxt = None
            origin = prev.point if prev else home
            onward = nxt.point if nxt else home
            travel_in = req.travel(origin, req.point)
            travel_out = req.travel(req.point, onward)
            lo = max(piece_start, req.lower, req.now + dt.timedelta(minutes=travel_in))
            if prev is not None:
                lo = max(lo, prev.end + dt.timedelta(minutes=travel_in))
            hi = min(piece_end - req.duration, req.upper - _TICK)
            if nxt is not None:
                hi = min(hi, nxt.start - dt.timedelta(minutes=travel_out) - req.duration)
            if lo > hi:
                continue
            added = max(0, travel_in + travel_out - req.travel(origin, onward))
            yield _Range(calendar.technician_id, lo, hi, span, travel_in, added)


def _window_blocks(req: _Request, rng: _Range) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The range cut at arrival-window boundaries (8-10, 10-12, ... from the span's start): the
    walk offers the first start in each, so every offer of a technician is a different promise."""
    window = dt.timedelta(minutes=req.policy.arrival_window_minutes)
    span_start = rng.span[0]
    block = span_start + ((rng.lo - span_start) // window) * window
    while block <= rng.hi:
        yield max(block, rng.lo), min(block + window - _TICK, rng.hi)
        block += window


def _first_start(
    req: _Request,
    technician_id: int,
    lo: dt.datetime,
    hi: dt.datetime,
    preference: Preference | None,
    excluded: set[tuple[int, dt.datetime]],
) -> dt.datetime | None:
    """The first grid start in [lo, hi] that the customer would take and was not excluded."""
    start = _ceil_to_grid(lo, tz=req.tz, step=req.step)
    while start <= hi:
        if (technician_id, start) not in excluded and _wanted(req, start, preference):
            return start
        start = _ceil_to_grid(start + dt.timedelta(minutes=req.step), tz=req.tz, step=req.step)
    return None


def _wanted(req: _Request, start: dt.datetime, preference: Preference | None) -> bool:
    """Does the start suit the customer? `after`/`before` bound the planned arrival."""
    if preference is None:
        return True
    local = start.astimezone(req.tz)
    day, wall = local.date(), local.time()
    return (
        (preference.dates is None or day in preference.dates)
        and (preference.weekdays is None or day.weekday() in preference.weekdays)
        and (preference.after is None or wall >= preference.after)
        and (preference.before is None or wall < preference.before)
    )


def _part_of_day(req: _Request, start: dt.datetime) -> tuple[dt.date, int]:
    local = start.astimezone(req.tz)
    wall = local.time()
    return local.date(), sum(wall >= boundary for boundary in PARTS_OF_DAY)


def _spread(req: _Request, candidates: list) -> list:
    """The best candidate of each (day, part of day) first, in score order, then the rest, so a
    short list of offers reaches across days instead of listing one morning's windows."""
    seen, first, rest = set(), [], []
    for candidate in candidates:
        bucket = _part_of_day(req, candidate[1])
        (rest if bucket in seen else first).append(candidate)
        seen.add(bucket)
    return first + rest


def _score(req: _Request, rng: _Range, start: dt.datetime) -> float:
    minutes_from_now = (start - req.now).total_seconds() / 60
    if req.emergency:
        return round(minutes_from_now, 3)
    return round(rng.added_travel + HOUR_OF_WAITING * minutes_from_now / 60, 3)


def _slot(req: _Request, rng: _Range, start: dt.datetime) -> Slot:
    window = dt.timedelta(minutes=req.policy.arrival_window_minutes)
    if req.emergency:
        window_start, window_end = start, start + window
    else:
        span_start, span_end = rng.span
        window_start = span_start + ((start - span_start) // window) * window
        window_end = min(window_start + window, span_end)
    tz = req.tz
    return Slot(
        technician_id=rng.technician_id,
        start=start.astimezone(tz),
        end=(start + req.duration).astimezone(tz),
        arrival_window_start=window_start.astimezone(tz),
        arrival_window_end=window_end.astimezone(tz),
        travel_minutes=rng.travel_in,
        score=_score(req, rng, start),
    )


# --- time helpers -----------------------------------------------------------------------------


def _ceil_to_grid(instant: dt.datetime, *, tz: zoneinfo.ZoneInfo, step: int) -> dt.datetime:
    """The first instant at or after `instant` whose wall-clock time is a whole number of `step`
    minutes past local midnight (repeated when a clock change lands between grid points)."""
    for _ in range(4):
        local = instant.astimezone(tz)
        over = (
            (local.hour * 60 + local.minute) % step * 60 + local.second
        ) * 1_000_000 + local.microsecond
        if not over:
            break
        instant += dt.timedelta(microseconds=step * 60_000_000 - over)
    return instant.astimezone(dt.UTC)


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(span: Interval, blocked: list[Interval]) -> list[Interval]:
    """`span` minus merged, sorted `blocked` intervals."""
    start, end = span
    pieces = []
    index = bisect.bisect_right(blocked, (start, start))
    if index and blocked[index - 1][1] > start:
        index -= 1
    for block_start, block_end in blocked[index:]:
        if block_start >= end:
            break
        if block_start > start:
            pieces.append((start, block_start))
        start = max(start, block_end)
    if start < end:
        pieces.append((start, end))
    return pieces
