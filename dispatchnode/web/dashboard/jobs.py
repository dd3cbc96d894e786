"""One job: its history, appointments, technician, notes, invoice and sync status."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from bookings import selectors_office as office
from dispatchnode.web.access import office_view
from invoicing import selectors_office as invoicing_office


def _history(job) -> list[tuple]:
    """What happened to the job, oldest first, from its own timestamps and its appointments."""
    events = [(job.created_at, f"Created ({job.get_source_display()})")]
    for call in job.calls.all():
        events.append(
            (call.created_at, f"Call from {call.from_number}: {call.get_outcome_display()}")
        )
    for appointment in job.appointments.all():
        events.append(
            (
                appointment.created_at,
                f"Appointment booked with {appointment.technician} "
                f"({appointment.get_status_display().lower()})",
            )
        )
    if job.completed_at:
        events.append((job.completed_at, "Completed"))
    if job.cancelled_at:
        reason = f": {job.cancel_reason}" if job.cancel_reason else ""
        events.append((job.cancelled_at, f"Cancelled{reason}"))
    return sorted(events, key=lambda e: e[0])


@require_safe
@office_view
def job_detail(request, pk: int):
    org = request.organization
    job = office.job_get(organization=org, pk=pk)
    if job is None:
        raise Http404("No such job.")
    return render(
        request,
        "dashboard/job.html",
        {
            "nav": "",
            "job": job,
            "history": _history(job),
            "invoices": list(invoicing_office.job_invoices(organization=org, job=job)),
        },
    )
