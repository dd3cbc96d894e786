"""What a customer says about when they want us ("Tuesday afternoon", "after 3", "the 3rd"),
as a filter the availability engine applies.

Rules of thumb a dispatcher uses: a bare weekday is its next occurrence (today included), "next
Monday" the first Monday after today; a bare hour from 1 to 6 is afternoon ("after 3" is 15:00)
and from 7 to 11 morning; a day of the month already past means next month, a date already past
next year. `after`/`before` bound the planned arrival time.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
NOON = dt.time(12, 0)
EVENING = dt.time(17, 0)
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_ORDINAL = r"(\d{1,2})(?:st|nd|rd|th)?"
_CLOCK = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b"
_ASAP = re.compile(
    r"\b(asap|as soon as (possible|you can)|earliest|soonest|any ?time|whenever|first available)\b"
)


@dataclass(frozen=True)
class Preference:
    dates: frozenset[dt.date] | None = None  # "tomorrow", "Friday", "Dec 3"
    weekdays: frozenset[int] | None = None  # 0=Mon; "Tuesdays", "weekdays"
    after: dt.time | None = None  # "after 3", "afternoon" (12:00)
    before: dt.time | None = None  # "before noon", "morning" (12:00)
    text: str = ""


def preference_parse(text: str, *, now: dt.datetime, tz: zoneinfo.ZoneInfo) -> Preference | None:
    """The days and times `text` asks for, relative to `now` in `tz`; None when nothing in it is
    understood. "As soon as possible" is understood and constrains nothing."""
    said = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", text.lower())  # "p.m." -> "pm"
    said = " ".join(re.sub(r"[^\w:/]+", " ", said).split())
    today = now.astimezone(tz).date()
    dates = _dates(said, today)
    weekdays = _weekdays(said)
    after, before = _times(said)
    if dates is None and weekdays is None and after is None and before is None:
        if _ASAP.search(said):
            return Preference(text=text)
        return None
    return Preference(dates=dates, weekdays=weekdays, after=after, before=before, text=text)


def _dates(said: str, today: dt.date) -> frozenset[dt.date] | None:
    found: set[dt.date] = set()
    if re.search(r"\b(today|tonight|this (morning|afternoon|evening))\b", said):
        found.add(today)
    if re.search(r"\btomorrow\b", said):
        found.add(today + dt.timedelta(days=1))
    if re.search(r"\bday after tomorrow\b", said):
        found.discard(today + dt.timedelta(days=1))
        found.add(today + dt.timedelta(days=2))
    week_start = today - dt.timedelta(days=today.weekday())
    if re.search(r"\bthis week\b", said):
        found.update(today + dt.timedelta(days=n) for n in range(7 - today.weekday()))
    if re.search(r"\bnext week\b", said):
        found.update(week_start + dt.timedelta(days=7 + n) for n in range(7))
    for match in re.finditer(rf"(?<!every )\b(next |this )?({_WEEKDAY})\b", said):
        ahead = (WEEKDAYS[match.group(2)] - today.weekday()) % 7
        if match.group(1) == "next " and ahead == 0:
            ahead = 7
        found.add(today + dt.timedelta(days=ahead))
    for match in re.finditer(
        rf"\b({_MONTH})\.? {_ORDINAL}\b|\b{_ORDINAL} (?:of )?({_MONTH})\b", said
    ):
        month = MONTHS[match.group(1) or match.group(4)]
        day = int(match.group(2) or match.group(3))
        found.update(_next_date(today, month, day))
    for match in re.finditer(r"\b(\d{1,2})/(\d{1,2})\b", said):  # US order: 12/3 is Dec 3
        found.update(_next_date(today, int(match.group(1)), int(match.group(2))))
    for match in re.finditer(r"\bthe (\d{1,2})(?:st|nd|rd|th)\b", said):
        day = int(match.group(1))
        year, month = today.year, today.month
        if day < today.day:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        found.update(_valid_date(year, month, day))
    return frozenset(found) if found else None


def _next_date(today: dt.date, month: int, day: int) -> list[dt.date]:
    this_year = _valid_date(today.year, month, day)
    if this_year and this_year[0] >= today:
        return this_year
    return _valid_date(today.year + 1, month, day)


def _valid_date(year: int, month: int, day: int) -> list[dt.date]:
    try:
        return [dt.date(year, month, day)]
    except ValueError:
        return []


def _weekdays(said: str) -> frozenset[int] | None:
    found: set[int] = set()
    if re.search(r"\bweekdays?\b|\bworkdays?\b", said):
        found.update(range(5))
    if re.search(r"\bweekends?\b", said):
        found.update((5, 6))
    for match in re.finditer(rf"\b(?:every |on )?({_WEEKDAY})s\b|\bevery ({_WEEKDAY})\b", said):
        found.add(WEEKDAYS[match.group(1) or match.group(2)])
    return frozenset(found) if found else None


def _times(said: str) -> tuple[dt.time | None, dt.time | None]:
    after = before = None
    if re.search(r"\bmornings?\b", said):
        before = NOON
    if re.search(r"\bafternoons?\b", said):
        after = NOON
    if re.search(r"\b(evenings?|tonight)\b", said):
        after = EVENING
    if re.search(r"\b(after|from) (noon|lunch|midday)\b", said):
        after = NOON
    if re.search(r"\b(before|by|until) (noon|lunch|midday)\b", said):
        before = NOON
    match = re.search(rf"\b(?:after|from|not before|later than) {_CLOCK}", said)
    if match and (clock := _clock(*match.groups())):
        after = clock
    match = re.search(rf"\b(?:before|by|until|till|no later than) {_CLOCK}", said)
    if match and (clock := _clock(*match.groups())):
        before = clock
    match = re.search(rf"\bbetween (noon|lunch|midday|{_CLOCK}) and {_CLOCK}", said)
    if match:
        start = NOON if match.group(2) is None else _clock(*match.group(2, 3, 4))
        end = _clock(*match.group(5, 6, 7))
        if start and end and start < end:
            after, before = start, end
    return after, before


def _clock(hour: str, minute: str | None, meridiem: str | None) -> dt.time | None:
    h, m = int(hour), int(minute or 0)
    if h > 23 or m > 59:
        return None
    if meridiem:
        if h > 12 or h == 0:
            return None
        h = h % 12 + (12 if meridiem.startswith("p") else 0)
    elif 1 <= h <= 6:
        h += 12  # "after 3" on the phone is the afternoon
    return dt.time(h, m)
