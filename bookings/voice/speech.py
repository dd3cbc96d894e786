"""How times, numbers, money and what callers say are turned into and out of phone speech.

Everything here is pure: the dialogue hands in values and gets back the words a text-to-speech
voice reads well ("Tuesday the 8th between 8 and 10 in the morning", "5 1 2, 5 5 5, 0 1 4 2"),
or gets back the useful part of what a recogniser wrote ("uh, my name is Bill Jenkins." ->
"Bill Jenkins").
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from bookings.voice.spoken_numbers import digits_from_speech, numbers_from_speech

_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd"}


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{_ORDINAL_SUFFIX.get(n % 10, 'th')}"


def _clock(instant: dt.datetime | dt.time) -> str:
    hour = instant.hour % 12 or 12
    return f"{hour}:{instant.minute:02d}" if instant.minute else str(hour)


def _part_of_day(instant: dt.datetime) -> str:
    if instant.hour < 12:
        return "in the morning"
    if instant.hour < 17:
        return "in the afternoon"
    return "in the evening"


def day_spoken(day: dt.date, *, today: dt.date) -> str:
    """ "today", "tomorrow", "Tuesday the 8th" (within a week), "Tuesday, January 12th"."""
    if day == today:
        return "today"
    if day == today + dt.timedelta(days=1):
        return "tomorrow"
    if (day - today).days < 7:
        return f"{day:%A} the {ordinal(day.day)}"
    return f"{day:%A}, {day:%B} {ordinal(day.day)}"


def window_spoken(start: dt.datetime, end: dt.datetime, *, today: dt.date) -> str:
    """An arrival window as said on the phone: "Tuesday the 8th between 8 and 10 in the
    morning"; a window across noon says both parts ("between 11 in the morning and 1 in the
    afternoon")."""
    day = day_spoken(start.date(), today=today)
    if _part_of_day(start) == _part_of_day(end - dt.timedelta(minutes=1)):
        return f"{day} between {_clock(start)} and {_clock(end)} {_part_of_day(start)}"
    return (
        f"{day} between {_clock(start)} {_part_of_day(start)} "
        f"and {_clock(end)} {_part_of_day(end - dt.timedelta(minutes=1))}"
    )


def window_written(start: dt.datetime, end: dt.datetime) -> str:
    """The same window for a text message: "Tue Dec 8, 8:00-10:00 AM"."""
    first = f"{start:%a %b} {start.day}, {start.hour % 12 or 12}:{start:%M}"
    if start.strftime("%p") != end.strftime("%p"):
        first += f" {start:%p}"
    return f"{first}-{end.hour % 12 or 12}:{end:%M} {end:%p}"


def digits_spoken(e164: str) -> str:
    """A North American number read digit by digit in its three groups ("5 1 2, 5 5 5, 0 1 4 2");
    other numbers digit by digit."""
    digits = "".join(ch for ch in e164 if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        groups = (digits[:3], digits[3:6], digits[6:])
        return ", ".join(" ".join(group) for group in groups)
    return " ".join(digits)


def zip_spoken(postal_code: str) -> str:
    return " ".join(postal_code[:5])


def money_spoken(amount: Decimal, currency: str = "USD") -> str:
    """ "$1,234.50" reads well in every TTS voice we use."""
    symbol = "$" if currency in ("USD", "CAD", "AUD") else f"{currency} "
    return f"{symbol}{amount:,.2f}".replace(".00", "")


_DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


def _hhmm_spoken(value: str) -> str:
    wall = dt.time.fromisoformat(value)
    clock, hour = _clock(wall), wall.hour
    if hour < 12:
        return f"{clock} in the morning"
    return f"{clock} in the {'afternoon' if hour < 18 else 'evening'}"  # closing at 5: afternoon


def business_hours_spoken(hours: dict[str, list[list[str]]]) -> str:
    """ "We're open Monday to Friday from 8 in the morning to 5 in the afternoon, and Saturday
    from 9 in the morning to 1 in the afternoon." Consecutive days with the same hours are one
    run; closed days are not listed."""
    runs: list[tuple[list[str], tuple]] = []
    for key, name in _DAY_NAMES.items():
        spans = tuple(tuple(span) for span in hours.get(key, ()))
        if not spans:
            runs.append(([], ()))
            continue
        if runs and runs[-1][1] == spans and runs[-1][0]:
            runs[-1][0].append(name)
        else:
            runs.append(([name], spans))
    parts = []
    for days, spans in runs:
        if not days:
            continue
        when = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
        times = " and ".join(f"from {_hhmm_spoken(a)} to {_hhmm_spoken(b)}" for a, b in spans)
        parts.append(f"{when} {times}")
    if not parts:
        return "Our office hours are not set up yet, but I can take your booking right now."
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f", and {parts[-1]}"
    return f"We're open {listed}."


_CALENDAR_WORDS = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|"
    r"april|may|june|july|august|september|october|november|december)s?\b",
    re.IGNORECASE,
)


def preference_spoken(text: str) -> str:
    """A caller's wish said back to them: "next friday morning" -> "next Friday morning"."""
    said = " ".join(re.sub(r"[?!.]+", " ", text or "").split())
    said = re.sub(
        r"^(?:do you have |is there |have you got )?(?:anything|something) (?:on )?",
        "",
        said,
        flags=re.IGNORECASE,
    )
    return _CALENDAR_WORDS.sub(lambda m: m.group(0).capitalize(), said) or "that"


# --- What callers say -------------------------------------------------------------------------

_FILLERS = r"(?:uh+|um+|er+|erm|so|well|yes|yeah|yep|okay|ok|sure|oh|hi|hello)"
_NAME_LEADS = re.compile(
    rf"^(?:{_FILLERS}[\s,.]+)*(?:my name is|my name's|name is|name's|this is|it's|it is|i'm|"
    r"i am|the name is|you can call me|call me)\s+",
    re.IGNORECASE,
)
_ADDRESS_LEADS = re.compile(
    rf"^(?:{_FILLERS}[\s,.]+)*(?:(?:my|the|our) (?:address|home|house|place)(?: is|'s)|"
    r"it's|it is|i'm at|i am at|we're at|we are at|i live at|we live at|that's|that is|"
    r"the service address is|at)\s+",
    re.IGNORECASE,
)
_UNIT_WORDS = (
    (r"\bapartment(?: number)?\b", "Apt"),
    (r"\bsuite(?: number)?\b", "Ste"),
    (r"\bunit number\b", "Unit"),
)
_SPELLED_DIGITS = re.compile(r"\b\d(?:[\s-]+\d\b)+")


def name_from_speech(text: str) -> str:
    """The name part of an answer to "can I have your name?"."""
    said = " ".join((text or "").replace("’", "'").split())
    said = _NAME_LEADS.sub("", said)
    said = re.sub(r"[.!?]+$", "", said)
    said = re.sub(r",?\s*(?:please|thanks|thank you)$", "", said, flags=re.IGNORECASE)
    return said.strip(" ,")


def address_from_speech(text: str) -> str:
    """The address part of an answer, written the way the address parser reads best: no lead-in,
    no sentence punctuation, numbers said as words written as digits and spelled-out digits
    joined ("one twenty three" -> "123", "7 8 7 0 1" -> "78701")."""
    said = " ".join((text or "").replace("’", "'").split())
    said = _ADDRESS_LEADS.sub("", said)
    said = re.sub(r"(?<=\w)[.!?]+(?=\s|$)", "", said)
    said = re.sub(r"[.!?]+$", "", said)
    # "one twenty three Oak Street, seven eight seven oh two" -> "123 Oak Street, 78702"
    said = numbers_from_speech(said, single_words=False)
    said = _SPELLED_DIGITS.sub(lambda m: re.sub(r"[\s-]+", "", m.group(0)), said)
    # The parser reads the postal abbreviations far better than the words callers say:
    # "apartment 4B, Austin 78704" loses the unit, "Apt 4B, Austin 78704" keeps it.
    for spoken, written in _UNIT_WORDS:
        said = re.sub(spoken, written, said, flags=re.IGNORECASE)
    return said.strip(" ,")


def phone_digits_from_speech(text: str, keys: str = "") -> str:
    """Digits of a phone number given by keypad or speech ("five one two, five five five...",
    "five one two, five fifty five, oh one forty two")."""
    if keys:
        return "".join(ch for ch in keys if ch.isdigit())
    return digits_from_speech(text)
