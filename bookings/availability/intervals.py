"""Arithmetic on UTC intervals: the policy grid, merging and subtracting."""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo

Interval = tuple[dt.datetime, dt.datetime]
_TICK = dt.timedelta(microseconds=1)


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
