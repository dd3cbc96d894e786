"""Writes of a visit in the field: On my way, Start, and the technician app's taps applied once.

Appointment and job statuses move together. The appointment goes scheduled/dispatched →
en_route → in_progress (completion is `invoicing.services.job_complete`: it also writes the
invoice); the job follows through `bookings.rules.JOB_TRANSITIONS`, step by legal step (a job
that is scheduled walks through dispatched to en_route). Repeating an action is a no-op that
writes nothing and emits nothing; an action the visit is past is a Conflict naming why.

Locks follow the booking order (`bookings.services`): the technician, then the job, then the
appointment, each in a short transaction. These are `atomic` but not durable, so
`visit_action_run` can apply one inside its own transaction together with the idempotency row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import Appointment, Job, Technician, VisitAction
from bookings.rules import (
    APPOINTMENT_CANCELLABLE_STATUSES,
    APPOINTMENT_RESCHEDULABLE_STATUSES,
    JOB_TRANSITIONS,
    job_transition_check,
)
from bookings.services import appointment_event_payload
from customers.messaging import sms_queue
from customers.models import ContactPoint
from dispatchnode.core.errors import ApplicationError, Conflict, NotFound
from dispatchnode.core.outbox import event_actor, outbox_emit

_A = Appointment.Status
_J = Job.Status

# The forward path of a job through its visit; `job_status_advance` walks it step by step.
_JOB_PATH = (_J.REQUESTED, _J.SCHEDULED, _J.DISPATCHED, _J.EN_ROUTE, _J.IN_PROGRESS, _J.COMPLETED)


def appointment_en_route(
    *,
    appointment: Appointment,
    actor=None,
    eta_minutes: int | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """The technician is on the way: the visit and its job become en route, and the customer
    gets a text with the expected arrival (now + `eta_minutes`, or the visit's start when no ETA
    is given and the start is still ahead) through the outbox.

    On my way twice changes nothing and sends no second text. A visit that is already started,
    completed or cancelled is a Conflict.
    """
    now = now or timezone.now()
    if eta_minutes is not None and not 0 <= eta_minutes <= 24 * 60:
        raise ApplicationError(
            "The ETA must be between 0 and 1440 minutes.", code="invalid_eta", field="eta_minutes"
        )
    with transaction.atomic():
        job = _lock(appointment)
        if appointment.status == _A.EN_ROUTE:
            return appointment
        if appointment.status not in APPOINTMENT_RESCHEDULABLE_STATUSES:  # not left yet
            raise _past(appointment, "set on the way")
        job_status_advance(job, to=_J.EN_ROUTE)
        appointment.status = _A.EN_ROUTE
        appointment.en_route_at = now
        appointment.save(update_fields=["status", "en_route_at", "updated_at"])
        eta = _eta(appointment, now=now, eta_minutes=eta_minutes)
        outbox_emit(
            organization=job.organization,
            topic="appointment.en_route",
            payload={
                **_payload(appointment),
                "eta": eta.isoformat() if eta else None,
                "actor": event_actor(actor),
            },
            aggregate=appointment,
        )
        _text_eta(appointment, job=job, eta=eta)
    return appointment


def appointment_start(
    *, appointment: Appointment, actor=None, now: dt.datetime | None = None
) -> Appointment:
    """Work begins: the visit and its job become in progress (from scheduled, dispatched or en
    route: a technician who forgot On my way can still start). Starting twice changes nothing; a
    completed or cancelled visit is a Conflict."""
    now = now or timezone.now()
    with transaction.atomic():
        job = _lock(appointment)
        if appointment.status == _A.IN_PROGRESS:
            return appointment
        if appointment.status not in APPOINTMENT_CANCELLABLE_STATUSES:  # work not started
            raise _past(appointment, "started")
        job_status_advance(job, to=_J.IN_PROGRESS)
        appointment.status = _A.IN_PROGRESS
        appointment.started_at = now
        appointment.save(update_fields=["status", "started_at", "updated_at"])
        outbox_emit(
            organization=job.organization,
            topic="appointment.started",
            payload={**_payload(appointment), "actor": event_actor(actor)},
            aggregate=appointment,
        )
    return appointment


def visit_action_run(
    *,
    technician: Technician,
    appointment: Appointment,
    key: str,
    kind: str,
    perform: Callable[[], dict[str, Any]],
) -> tuple[VisitAction, bool]:
    """Apply one tap of the technician app exactly once per idempotency `key`.

    Returns `(action, replayed)`. The first call with a key records it and runs `perform` (one
    service call, returning the JSON result to keep) in the same transaction, so the effect and
    the record commit together or not at all; a failed `perform` (a Conflict) leaves the key
    unused. Every later call with the key returns the stored action with `replayed=True` and
    runs nothing. A key reused for another visit or kind is a Conflict.
    """
    key = (key or "").strip()
    if not key or len(key) > 64:
        raise ApplicationError("An idempotency key (1–64 characters) is required.", code="no_key")
    if appointment.technician_id != technician.pk:
        raise NotFound("No such visit.")
    existing = _action(technician=technician, key=key)
    if existing is not None:
        return _replay(existing, appointment=appointment, kind=kind), True
    try:
        with transaction.atomic():
            action = VisitAction(
                organization_id=technician.organization_id,
                technician=technician,
                appointment=appointment,
                key=key,
                kind=kind,
            )
            action.full_clean(exclude=["organization", "technician", "appointment"])
            with transaction.atomic():
                action.save()
            action.result = perform()
            action.save(update_fields=["result", "updated_at"])
    except IntegrityError:
        # The same key arrived twice at once: the other request applied it.
        existing = _action(technician=technician, key=key)
        if existing is None:
            raise
        return _replay(existing, appointment=appointment, kind=kind), True
    return action, False


# --- helpers --------------------------------------------------------------------------------


def _lock(appointment: Appointment) -> Job:
    """Lock technician, job and appointment (the booking order) and refresh them in place."""
    technician = Technician.objects.select_for_update().get(pk=appointment.technician_id)
    job = (
        Job.objects.select_for_update(of=("self",))
        .select_related("organization", "customer")
        .get(pk=appointment.job_id)
    )
    appointment.refresh_from_db(from_queryset=Appointment.objects.select_for_update())
    appointment.job = job
    appointment.technician = technician
    return job


def job_status_advance(job: Job, *, to: str) -> None:
    """Move `job` forward to `to` one legal step at a time; a job already there (or past it,
    through another visit) is left alone."""
    if job.status not in _JOB_PATH:
        raise Conflict(
            f"Job {job.number} is {job.get_status_display().lower()}; its visit cannot go on.",
            code="job_closed",
        )
    target = _JOB_PATH.index(to)
    if _JOB_PATH.index(job.status) >= target:
        return
    while _JOB_PATH.index(job.status) < target:
        here = _JOB_PATH.index(job.status)
        # The furthest legal step that does not overshoot `to`.
        step = next(
            (
                s
                for s in reversed(_JOB_PATH[here + 1 : target + 1])
                if s in JOB_TRANSITIONS[job.status]
            ),
            to,
        )
        job_transition_check(job=job, to=step)
        job.status = step
    job.save(update_fields=["status", "updated_at"])


def _past(appointment: Appointment, verb: str) -> Conflict:
    state = appointment.get_status_display().lower()
    return Conflict(
        f"This visit is {state}; it cannot be {verb}.",
        code="illegal_visit_transition",
        status=appointment.status,
    )


def _eta(appointment: Appointment, *, now: dt.datetime, eta_minutes: int | None):
    if eta_minutes is not None:
        return now + dt.timedelta(minutes=eta_minutes)
    start = appointment.arrival_window_start or appointment.start
    return start if start > now else None


def _text_eta(appointment: Appointment, *, job: Job, eta) -> None:
    phone = (
        ContactPoint.objects.filter(
            organization_id=job.organization_id,
            customer_id=job.customer_id,
            kind=ContactPoint.Kind.PHONE,
            is_valid=True,
        )
        .order_by("-is_primary", "id")
        .values_list("value", flat=True)
        .first()
    )
    if not phone:
        return
    organization = job.organization
    technician = appointment.technician
    if eta is not None:
        local = eta.astimezone(organization.tzinfo)
        when = f", arriving about {local:%I:%M %p}".replace(" 0", " ")
    else:
        when = ""
    body = (
        f"{organization.name}: {technician.first_name} is on the way{when}. Reply STOP to opt out."
    )
    sms_queue(
        organization=organization,
        to=phone,
        body=body,
        customer=job.customer,
        job=job,
        purpose="on_my_way",
    )


def _action(*, technician: Technician, key: str) -> VisitAction | None:
    return VisitAction.objects.filter(organization_id=technician.organization_id, key=key).first()


def _replay(action: VisitAction, *, appointment: Appointment, kind: str) -> VisitAction:
    if action.appointment_id != appointment.pk or action.kind != kind:
        raise Conflict(
            "This idempotency key was already used for another action.", code="key_reused"
        )
    return action


def _payload(appointment: Appointment) -> dict[str, Any]:
    tz = appointment.job.organization.tzinfo

    def iso(value):
        return value.astimezone(tz).isoformat() if value is not None else None

    return {
        **appointment_event_payload(appointment),
        "en_route_at": iso(appointment.en_route_at),
        "started_at": iso(appointment.started_at),
    }


# --- completion (written by invoicing, above this layer) -------------------------------------


class JobCompleter(Protocol):
    def __call__(
        self,
        *,
        job: Job,
        notes: str = "",
        diagnostic_notes: str = "",
        lines: Iterable[tuple[Any, Any]] = (),
        signature_png: str | bytes | None = None,
        actor=None,
    ) -> Job: ...


_completer: JobCompleter | None = None


def job_completer_register(completer: JobCompleter) -> JobCompleter:
    """Make `completer` (`invoicing.services.job_complete`, registered by `invoicing.apps`) the
    function the jobs API completes a job with: completing writes the invoice, which bookings
    cannot import."""
    global _completer
    _completer = completer
    return completer


def job_complete_registered(**kwargs) -> Job:
    """Complete a job through the registered completer (see `job_completer_register`)."""
    if _completer is None:
        raise ApplicationError("Job completion is not available.", code="not_available")
    return _completer(**kwargs)
