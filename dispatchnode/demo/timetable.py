"""Technicians' shifts and visits held in memory while the demo is generated.

Thousands of visits are placed without a query each, inside working hours and never
overlapping for one technician (on PostgreSQL an exclusion constraint would refuse an overlap
and abort the whole seed). The timetable starts from what the database already holds, so a
re-run or a later top-up fits around earlier visits and anything booked through the product.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bookings.models import Appointment, WorkingHours

Interval = tuple[dt.datetime, dt.datetime]


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th `weekday` (0 = Monday) of a month; n = -1 is the last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def is_holiday(day: dt.date) -> bool:
    """The days the demo company is closed: New Year, Memorial Day, July 4, Labor Day,
    Thanksgiving and Christmas."""
    fixed = {(1, 1), (7, 4), (12, 25)}
    floating = {
        _nth_weekday(day.year, 5, 0, -1),  # Memorial Day
        _nth_weekday(day.year, 9, 0, 1),  # Labor Day
        _nth_weekday(day.year, 11, 3, 4),  # Thanksgiving
    }
    return (day.month, day.day) in fixed or day in floating


def _ceil_to(moment: dt.datetime, minutes: int) -> dt.datetime:
    moment = moment.replace(second=0, microsecond=0)
    overshoot = (moment.hour * 60 + moment.minute) % minutes
    return moment if not overshoot else moment + dt.timedelta(minutes=minutes - overshoot)


@dataclass
class Timetable:
    tz: ZoneInfo
    # technician id → weekday (0 = Monday) → [(start, end)] local wall-clock spans
    shifts: dict[int, dict[int, list[tuple[dt.time, dt.time]]]]
    # (technician id, local date) → sorted busy intervals (aware datetimes)
    busy: dict[tuple[int, dt.date], list[Interval]] = field(default_factory=dict)

    @classmethod
    def load(cls, *, organization, technician_ids: Iterable[int]) -> Timetable:
        ids = list(technician_ids)
        shifts: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = {i: {} for i in ids}
        for hours in WorkingHours.objects.filter(organization=organization, technician_id__in=ids):
            shifts[hours.technician_id].setdefault(hours.weekday, []).append(
                (hours.start_time, hours.end_time)
            )
        timetable = cls(tz=organization.tzinfo, shifts=shifts)
        rows = (
            Appointment.objects.filter(organization=organization, technician_id__in=ids)
            .filter(status__in=Appointment.ACTIVE_STATUSES)
            .values_list("technician_id", "start", "end")
        )
        for technician_id, start, end in rows:
            timetable.book(technician_id, start, end)
        return timetable

    # --- reading -----------------------------------------------------------------------------

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tz).date()

    def at(self, day: dt.date, wall: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, wall, tzinfo=self.tz)

    def day_spans(self, technician_id: int, day: dt.date) -> list[Interval]:
        if is_holiday(day):
            return []
        spans = self.shifts.get(technician_id, {}).get(day.weekday(), [])
        return [(self.at(day, start), self.at(day, end)) for start, end in sorted(spans)]

    def works(self, technician_id: int, day: dt.date) -> bool:
        return bool(self.day_spans(technician_id, day))

    def is_empty(self, technician_id: int, day: dt.date) -> bool:
        return not self.busy.get((technician_id, day))

    def within_shift(self, technician_id: int, start: dt.datetime, end: dt.datetime) -> bool:
        return any(
            s <= start and end <= e
            for s, e in self.day_spans(technician_id, self.local_date(start))
        )

    def is_free(
        self,
        technician_id: int,
        start: dt.datetime,
        end: dt.datetime,
        *,
        gap: dt.timedelta = dt.timedelta(0),
    ) -> bool:
        """No visit of this technician within `gap` (travel time) of [start, end)."""
        day = self.local_date(start)
        for other_start, other_end in self.busy.get((technician_id, day), ()):
            if start < other_end + gap and other_start - gap < end:
                return False
        return True

    # --- writing -----------------------------------------------------------------------------

    def book(self, technician_id: int, start: dt.datetime, end: dt.datetime) -> None:
        slots = self.busy.setdefault((technician_id, self.local_date(start)), [])
        slots.append((start, end))
        slots.sort()

    def release(self, technician_id: int, start: dt.datetime, end: dt.datetime) -> None:
        slots = self.busy.get((technician_id, self.local_date(start)), [])
        if (start, end) in slots:
            slots.remove((start, end))

    def find_slot(
        self,
        *,
        day: dt.date,
        technician_ids: Iterable[int],
        minutes: int,
        rng: random.Random,
        gap: dt.timedelta = dt.timedelta(minutes=30),
        step: int = 30,
        not_before: dt.datetime | None = None,
    ) -> tuple[int, dt.datetime, dt.datetime] | None:
        """A random free (technician, start, end) on `day` inside a shift, or None."""
        length = dt.timedelta(minutes=minutes)
        candidates: list[tuple[int, dt.datetime]] = []
        for technician_id in technician_ids:
            for shift_start, shift_end in self.day_spans(technician_id, day):
                start = shift_start
                if not_before is not None and start < not_before:
                    start = _ceil_to(not_before, step)
                while start + length <= shift_end:
                    if self.is_free(technician_id, start, start + length, gap=gap):
                        candidates.append((technician_id, start))
                    start += dt.timedelta(minutes=step)
        if not candidates:
            return None
        technician_id, start = rng.choice(candidates)
        return technician_id, start, start + length
