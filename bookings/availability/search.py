"""The availability engine's public interface and its walk over free time (see the package
docstring for the rules)."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bookings.availability.calendars import (
    _Calendar,
    _calendars,
    _point,
    _Request,
    _resolve,
)
from bookings.availability.intervals import (
    _TICK,
    Interval,
    _ceil_to_grid,
    _subtract,
)
from bookings.models import (
    Job,
    ServiceType,
    Technician,
)
from bookings.preferences import Preference
from bookings.selectors import scheduling_policy_for
from customers.models import ServiceLocation
from dispatchnode.accounts.models import Organization
from dispatchnode.core.errors import ApplicationError

HOUR_OF_WAITING = 1.0  # score points per hour from now: one hour later ~ one more minute driving
PARTS_OF_DAY = (dt.time(12), dt.time(17))  # morning | afternoon | evening, local wall clock


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
