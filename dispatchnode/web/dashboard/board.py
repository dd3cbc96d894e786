"""The dispatch board (`/dashboard/board/`): one day of every technician's visits on a
timeline, the unassigned jobs beside it, moves by drag-and-drop or the keyboard Move form, and
a cheap poll that sends the board again only when something on it changed.

Moves go through the booking services only (`appointment_book`, `appointment_reschedule`); a
refusal is shown with its reason and a few alternative times.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from bookings.selectors import technician_get
from bookings.selectors_board import (
    board_alternatives,
    board_appointment_get,
    board_day,
    board_job_get,
    board_version,
)
from bookings.services import SlotTaken, appointment_book, appointment_reschedule
from dispatchnode.core.errors import ApplicationError
from dispatchnode.web.access import office_view
from dispatchnode.web.days import day_parse, local_today

FRAGMENT = "dashboard/board_fragment.html"
PAGE = "dashboard/board.html"


def _context(request, day: dt.date, **extra) -> dict:
    # The version is read before the board, so a change in between shows on the next poll.
    if "version" not in extra:
        extra["version"] = board_version(organization=request.organization, day=day)
    board = board_day(organization=request.organization, day=day)
    names = {row.technician.pk: row.technician.display_name for row in board.rows}
    if "alternatives" in extra:
        extra["alternatives"] = [
            {
                "technician_id": slot.technician_id,
                "technician_name": names.get(slot.technician_id, ""),
                "start": slot.start,
            }
            for slot in extra["alternatives"]
        ]
    return {
        "nav": "board",
        "board": board,
        "day": day,
        "today": local_today(request.organization),
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        **extra,
    }


def _is_fragment(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@require_safe
@office_view
def board(request):
    day, date_error = day_parse(request.organization, request.GET.get("date"))
    status = 400 if date_error else 200
    return render(request, PAGE, _context(request, day, date_error=date_error), status=status)


@require_safe
@office_view
def poll(request):
    """204 while the board of the day is as the browser has it (`v`); the board otherwise."""
    day, _ = day_parse(request.organization, request.GET.get("date"))
    version = board_version(organization=request.organization, day=day)
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    return render(request, FRAGMENT, _context(request, day, version=version))


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def _start(request, raw: str) -> dt.datetime:
    """A local `YYYY-MM-DDTHH:MM` in the organisation's timezone, made aware."""
    try:
        naive = dt.datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        raise ApplicationError(f"“{raw}” is not a start time.", code="bad_start") from None
    if timezone.is_aware(naive):
        return naive.astimezone(request.organization.tzinfo)
    return naive.replace(tzinfo=request.organization.tzinfo)


@require_POST
@office_view
def move(request):
    """Book an unassigned job (`kind=job`) or move a visit (`kind=appointment`) to a technician
    and start. Answers the board, with what happened or why not (409/400 with alternatives)."""
    organization = request.organization
    day, _ = day_parse(request.organization, request.POST.get("date"))
    kind = request.POST.get("kind")
    pk = _int(request.POST.get("id"))
    if kind == "job":
        job = board_job_get(organization=organization, pk=pk)
        appointment = None
    elif kind == "appointment":
        appointment = board_appointment_get(organization=organization, pk=pk)
        job = appointment.job if appointment else None
    else:
        raise Http404
    technician = technician_get(organization=organization, pk=_int(request.POST.get("technician")))
    if job is None or technician is None:
        raise Http404
    status, extra = 200, {}
    try:
        start = _start(request, request.POST.get("start", ""))
        if appointment is None:
            booked = appointment_book(
                job=job, technician=technician, start=start, actor=request.user
            )
            verb = "Booked"
        else:
            booked = appointment_reschedule(
                appointment=appointment, start=start, technician=technician, actor=request.user
            )
            verb = "Moved"
        local = booked.start.astimezone(organization.tzinfo)
        extra["notice"] = (
            f"{verb} {job.number} with {technician.display_name} at {local:%a %d %b %H:%M}."
        )
    except ApplicationError as error:
        status = error.status_code
        alternatives = (
            error.alternatives if isinstance(error, SlotTaken) else _alternatives_for(job)
        )
        extra.update(
            refusal=error.message,
            alternatives=alternatives,
            refused_kind=kind,
            refused_id=pk,
        )
    context = _context(request, day, **extra)
    template = FRAGMENT if _is_fragment(request) else PAGE
    return render(request, template, context, status=status)


def _alternatives_for(job):
    try:
        return board_alternatives(job=job)
    except ApplicationError:
        return []
