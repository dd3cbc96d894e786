"""Writes of the scheduling engine: creating jobs, and booking, rescheduling and cancelling
their appointments.

Double-booking is impossible (DESIGN.md §3). Every write that decides about a technician's time
takes its locks in one order, so concurrent writers queue instead of deadlocking
(reliability.md): the technician row(s) by id, then the job, then the appointment. Under the
technician lock an overlap check tells a lost race from a bad request; the PostgreSQL exclusion
constraint (`Appointment.Meta`) is the backstop, caught in a savepoint. Which statuses count, and
how a job's status may change, is `bookings.rules`: every job status write here is checked by
`job_transition_check` first. On SQLite every transaction
begins IMMEDIATE (settings), which serialises writers the same way.

Each write is its own outermost transaction (`atomic(durable=True)`: calling one inside another
transaction is a RuntimeError), so a booking commits, and frees its locks, the moment it is made,
never held open by a caller's wider work (the phone turn acts through these with no transaction
of its own).

A lost race is `SlotTaken` with fresh alternatives. They are searched after the transaction has
rolled back, so the technician lock is not held while the slot search runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.availability import Slot, slot_for, slots_find
from bookings.models import Appointment, Job, ServiceType, Technician
from bookings.rules import (
    APPOINTMENT_ACTIVE_STATUSES,
    APPOINTMENT_CANCELLABLE_STATUSES,
    APPOINTMENT_OPEN_STATUSES,
    APPOINTMENT_RESCHEDULABLE_STATUSES,
    JOB_BOOKABLE_STATUSES,
    job_transition_check,
)
from bookings.selectors import scheduling_policy_for
from customers.models import Customer, ServiceLocation
from dispatchnode.accounts.models import Organization
from dispatchnode.core.errors import ApplicationError, Conflict, NotFound
from dispatchnode.core.models import Sequence
from dispatchnode.core.outbox import event_actor, outbox_emit
from dispatchnode.core.services import sequence_next

JOB_NUMBER_PREFIX = "J-"
JOB_NUMBER_FLOOR = 10000  # the first job is J-10001, as in the demo seed
EXCLUSION_VIOLATION = "23P01"
ALTERNATIVES = 3
# An appointment's related rows are locked already, and its times come from the slot engine
# (end after start, window in order; the database checks both again on insert): validating
# either in `full_clean` would cost a query each per booking and prove nothing more.
_LOCKED_RELATIONS = ["organization", "job", "technician"]


class SlotTaken(Conflict):
    """The time was free when offered but is not any more; `alternatives` are fresh offers."""

    code = "slot_taken"

    def __init__(self, message: str, *, alternatives: Iterable[Slot]) -> None:
        super().__init__(message)
        self.alternatives = list(alternatives)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "alternatives": [slot_as_dict(s) for s in self.alternatives]}


def slot_as_dict(slot: Slot) -> dict[str, Any]:
    """A slot as the API shows it (ISO 8601 with the organisation's offset)."""
    return {
        "technician": slot.technician_id,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "arrival_window_start": slot.arrival_window_start.isoformat(),
        "arrival_window_end": slot.arrival_window_end.isoformat(),
    }


class _RaceLost(Exception):
    """Raised inside the booking transaction so it rolls back before alternatives are found."""


# --- jobs -----------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def job_create(
    *,
    organization: Organization,
    customer: Customer,
    location: ServiceLocation,
    service_type: ServiceType,
    description: str = "",
    priority: str = Job.Priority.NORMAL,
    source: str = "api",
    customer_preference: str = "",
    actor=None,
) -> Job:
    """Record the work a customer asked for, numbered `J-10001`, `J-10002`… per organisation.

    The related rows must be the organisation's own: a foreign one is a NotFound, exactly like a
    missing one. The location must be the customer's, so a visit never goes to someone else's
    address.
    """
    for name, row in (("customer", customer), ("service type", service_type)):
        if row is None or row.organization_id != organization.pk:
            raise NotFound(f"Unknown {name}.")
    if location is None or location.organization_id != organization.pk:
        raise NotFound("Unknown location.")
    if location.customer_id != customer.pk:
        raise ApplicationError(
            "The location is not one of this customer's.", code="location_mismatch"
        )
    if customer.merged_into_id is not None:
        raise ApplicationError(
            f"The customer was merged into customer {customer.merged_into_id}; "
            "create the job there.",
            code="customer_merged",
            customer=customer.merged_into_id,
        )
    if customer.do_not_service:
        reason = f": {customer.do_not_service_reason}" if customer.do_not_service_reason else ""
        raise ApplicationError(
            f"{customer.display_name} is marked do-not-service{reason}.", code="do_not_service"
        )
    if not service_type.is_active:
        raise ApplicationError(
            f"The service type {service_type.name!r} is no longer offered.",
            code="service_type_inactive",
        )
    job = Job(
        organization=organization,
        number=_job_number(organization=organization),
        customer=customer,
        location=location,
        service_type=service_type,
        description=description,
        priority=priority,
        source=source,
        customer_preference=customer_preference,
        created_by=actor,
    )
    job.full_clean()
    job.save()
    outbox_emit(
        organization=organization,
        topic="job.created",
        payload={
            "job": job.pk,
            "number": job.number,
            "customer": customer.pk,
            "location": location.pk,
            "service_type": service_type.pk,
            "priority": job.priority,
            "source": job.source,
            "actor": event_actor(actor),
        },
        aggregate=job,
    )
    return job


def _job_number(*, organization: Organization) -> str:
    # A fresh organisation starts at the floor; one seeded by the demo continues its numbers.
    Sequence.objects.get_or_create(
        organization=organization, name="job", defaults={"last_value": JOB_NUMBER_FLOOR}
    )
    return f"{JOB_NUMBER_PREFIX}{sequence_next(organization=organization, name='job')}"


# --- appointments ---------------------------------------------------------------------------


def appointment_book(
    *,
    job: Job,
    technician: Technician,
    start: dt.datetime,
    actor=None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book `technician` for `job` at `start`, exactly as `slots_find` offered it.

    Raises NotFound for a technician of another organisation, ApplicationError (400) for a start
    in the past or one that was never offerable (with the reason), Conflict when the job cannot
    be booked (closed, or already booked: reschedule that appointment instead), and `SlotTaken`
    (409, with alternatives) when the time was taken by someone else.
    """
    now = now or timezone.now()
    _check_start(start=start, now=now)
    _check_same_organization(technician=technician, organization_id=job.organization_id)
    try:
        return _book(job=job, technician=technician, start=start, actor=actor, now=now)
    except _RaceLost:
        raise _slot_taken(job=job, technician=technician, start=start, now=now) from None


@transaction.atomic(durable=True)
def _book(
    *, job: Job, technician: Technician, start: dt.datetime, actor, now: dt.datetime
) -> Appointment:
    technician = _lock_technicians(organization_id=job.organization_id, ids=[technician.pk])[
        technician.pk
    ]
    _lock_job(job)
    _check_job_bookable(job)
    if job.appointments.filter(status__in=APPOINTMENT_OPEN_STATUSES).exists():
        raise Conflict(
            f"Job {job.number} is already booked; reschedule its appointment instead.",
            code="already_booked",
        )
    end = start + _duration(job)
    if _overlaps(technician_id=technician.pk, start=start, end=end):
        raise _RaceLost
    slot = _offered_slot(job=job, technician=technician, start=start, now=now)
    appointment = Appointment(
        organization=job.organization,
        job=job,
        technician=technician,
        start=slot.start,
        end=slot.end,
        arrival_window_start=slot.arrival_window_start,
        arrival_window_end=slot.arrival_window_end,
    )
    appointment.full_clean(exclude=_LOCKED_RELATIONS, validate_constraints=False)
    _save_or_race_lost(appointment)
    if job.status == Job.Status.REQUESTED:
        job_transition_check(job=job, to=Job.Status.SCHEDULED)
        job.status = Job.Status.SCHEDULED
        job.save(update_fields=["status", "updated_at"])
    outbox_emit(
        organization=job.organization,
        topic="appointment.booked",
        payload={**appointment_event_payload(appointment), "actor": event_actor(actor)},
        aggregate=appointment,
    )
    return appointment


def appointment_reschedule(
    *,
    appointment: Appointment,
    start: dt.datetime,
    technician: Technician | None = None,
    actor=None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move a visit to `start` (and to `technician`, when given), with the guarantees of
    `appointment_book`. The old time is freed in the same transaction, so a visit can move
    within its own interval and the old time is bookable the moment this commits.
    """
    now = now or timezone.now()
    target = technician or appointment.technician
    _check_start(start=start, now=now)
    _check_same_organization(technician=target, organization_id=appointment.organization_id)
    try:
        return _reschedule(
            appointment=appointment, target=target, start=start, actor=actor, now=now
        )
    except _RaceLost:
        appointment.refresh_from_db()
        raise _slot_taken(job=appointment.job, technician=target, start=start, now=now) from None
    except ApplicationError:
        appointment.refresh_from_db()
        raise


@transaction.atomic(durable=True)
def _reschedule(
    *,
    appointment: Appointment,
    target: Technician,
    start: dt.datetime,
    actor,
    now: dt.datetime,
) -> Appointment:
    technicians = _lock_technicians(
        organization_id=appointment.organization_id,
        ids=[appointment.technician_id, target.pk],
    )
    target = technicians[target.pk]
    job = appointment.job
    _lock_job(job)
    _lock_appointment(appointment, job=job, technicians=technicians)
    if appointment.status not in APPOINTMENT_RESCHEDULABLE_STATUSES:
        raise Conflict(
            f"A visit that is {appointment.get_status_display().lower()} cannot be rescheduled.",
            code="not_reschedulable",
        )
    _check_job_bookable(job)
    before = appointment_event_payload(appointment)
    # The visit being moved blocks nothing: the slot engine ignores the job's own visits, and
    # the row is updated in place, so its old interval is free once this commits.
    end = start + _duration(job)
    if _overlaps(technician_id=target.pk, start=start, end=end, exclude_pk=appointment.pk):
        raise _RaceLost
    slot = _offered_slot(job=job, technician=target, start=start, now=now)
    appointment.technician = target
    appointment.start, appointment.end = slot.start, slot.end
    appointment.arrival_window_start = slot.arrival_window_start
    appointment.arrival_window_end = slot.arrival_window_end
    appointment.status = Appointment.Status.SCHEDULED
    appointment.full_clean(exclude=_LOCKED_RELATIONS, validate_constraints=False)
    _save_or_race_lost(appointment)
    outbox_emit(
        organization=job.organization,
        topic="appointment.rescheduled",
        payload={
            **appointment_event_payload(appointment),
            "previous": {
                key: before[key]
                for key in (
                    "technician",
                    "start",
                    "end",
                    "arrival_window_start",
                    "arrival_window_end",
                )
            },
            "actor": event_actor(actor),
        },
        aggregate=appointment,
    )
    return appointment


@transaction.atomic(durable=True)
def appointment_cancel(
    *,
    appointment: Appointment,
    reason: str = "",
    actor=None,
    cancel_job: bool = False,
    now: dt.datetime | None = None,
) -> Appointment:
    """Cancel a visit; its time is free for others the moment this commits.

    The job goes back to "requested" (to be booked again) unless another visit still holds it,
    or to "cancelled" with `cancel_job` (the customer no longer wants the work). Cancelling a
    cancelled visit changes nothing and writes no second event, so a retried request is safe.
    """
    now = now or timezone.now()
    technicians = _lock_technicians(
        organization_id=appointment.organization_id, ids=[appointment.technician_id]
    )
    job = appointment.job
    _lock_job(job)
    _lock_appointment(appointment, job=job, technicians=technicians)
    if appointment.status == Appointment.Status.CANCELLED:
        return appointment
    if appointment.status not in APPOINTMENT_CANCELLABLE_STATUSES:
        raise Conflict(
            f"A visit that is {appointment.get_status_display().lower()} cannot be cancelled.",
            code="not_cancellable",
        )
    others_open = (
        job.appointments.filter(status__in=APPOINTMENT_OPEN_STATUSES)
        .exclude(pk=appointment.pk)
        .exists()
    )
    if cancel_job and others_open:
        raise Conflict(
            f"Job {job.number} has other open visits; cancel them before cancelling the job.",
            code="job_has_other_visits",
        )
    # The job's next status, checked before anything is written.
    if cancel_job:
        job_to = Job.Status.CANCELLED
    elif not others_open and job.status in Job.OPEN_STATUSES:
        job_to = Job.Status.REQUESTED
    else:
        job_to = job.status
    if job_to != job.status:
        job_transition_check(job=job, to=job_to)
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.save(update_fields=["status", "cancelled_at", "updated_at"])
    if job_to == Job.Status.CANCELLED:
        job.status = Job.Status.CANCELLED
        job.cancelled_at = now
        job.cancel_reason = reason[:300]
        job.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    elif job_to != job.status:
        job.status = job_to
        job.save(update_fields=["status", "updated_at"])
    outbox_emit(
        organization=job.organization,
        topic="appointment.cancelled",
        payload={
            **appointment_event_payload(appointment),
            "reason": reason,
            "job_cancelled": cancel_job,
            "actor": event_actor(actor),
        },
        aggregate=appointment,
    )
    return appointment


# --- shared checks --------------------------------------------------------------------------


def _check_start(*, start: dt.datetime, now: dt.datetime) -> None:
    if timezone.is_naive(start):
        raise ApplicationError(
            "The start time needs a UTC offset (e.g. 2026-03-09T09:00:00-05:00).",
            code="naive_time",
        )
    if start <= now:
        raise ApplicationError("The start time is in the past.", code="start_in_past")


def _check_same_organization(*, technician: Technician, organization_id: int) -> None:
    if technician.organization_id != organization_id:
        raise NotFound("Unknown technician.")


def _check_job_bookable(job: Job) -> None:
    if job.status not in JOB_BOOKABLE_STATUSES:
        raise Conflict(
            f"Job {job.number} is {job.get_status_display().lower()}; it cannot be booked.",
            code="job_not_bookable",
        )


def _lock_technicians(*, organization_id: int, ids: Iterable[int]) -> dict[int, Technician]:
    """Lock the technicians' rows in id order (one order for every writer: no deadlock) and
    return them fresh, by id."""
    wanted = sorted(set(ids))
    locked = {
        technician.pk: technician
        for technician in Technician.objects.select_for_update()
        .filter(organization_id=organization_id, pk__in=wanted)
        .order_by("pk")
    }
    if len(locked) != len(wanted):
        raise NotFound("Unknown technician.")
    return locked


def _lock_job(job: Job) -> None:
    """Lock the job's row and refresh it in place, with what the slot checks read.

    `of=("self",)`: the organisation and service type are read, not locked (locking the
    organisation would serialise every booking of the company).
    """
    job.refresh_from_db(
        from_queryset=Job.objects.select_for_update(of=("self",)).select_related(
            "organization", "location", "service_type__required_skill"
        )
    )


def _lock_appointment(
    appointment: Appointment, *, job: Job, technicians: dict[int, Technician]
) -> None:
    appointment.refresh_from_db(from_queryset=Appointment.objects.select_for_update())
    if appointment.technician_id not in technicians:
        # Moved to another technician after we chose which rows to lock.
        raise Conflict(
            "The visit changed while this request was made; reload it and try again.",
            code="changed",
        )
    appointment.job = job
    appointment.technician = technicians[appointment.technician_id]


def _duration(job: Job) -> dt.timedelta:
    if job.service_type is None:
        raise ApplicationError(
            f"Job {job.number} has no service type, so its duration is unknown.",
            code="no_service_type",
        )
    return dt.timedelta(minutes=job.service_type.default_duration_minutes)


def _overlaps(
    *, technician_id: int, start: dt.datetime, end: dt.datetime, exclude_pk: int | None = None
) -> bool:
    """Another active visit of the technician overlaps [start, end): under the technician lock
    this means a competing booking committed first."""
    return (
        Appointment.objects.filter(technician_id=technician_id, start__lt=end, end__gt=start)
        .filter(status__in=APPOINTMENT_ACTIVE_STATUSES)
        .exclude(pk=exclude_pk)
        .exists()
    )


def _offered_slot(
    *, job: Job, technician: Technician, start: dt.datetime, now: dt.datetime
) -> Slot:
    """The slot `slots_find` could offer for exactly this technician and start (its end and
    arrival window are what the customer is promised), or a 400 saying why there is none."""
    slot = slot_for(job=job, technician=technician, start=start, now=now)
    if slot is None:
        raise _not_offered(job=job, technician=technician, start=start)
    return slot


def _not_offered(*, job: Job, technician: Technician, start: dt.datetime) -> ApplicationError:
    """Why `slot_is_offerable` said no, as precisely as cheap checks can tell."""
    organization = job.organization
    local = start.astimezone(organization.tzinfo)
    when = f"{local:%a %d %b %Y %H:%M} ({organization.timezone})"
    if not technician.is_active:
        return ApplicationError(
            f"{technician.display_name} is not taking bookings.", code="not_offered"
        )
    skill = job.service_type.required_skill if job.service_type else None
    if skill is not None and not technician.skills.filter(pk=skill.pk).exists():
        return ApplicationError(
            f"{technician.display_name} does not have the skill {skill.name!r} this job needs.",
            code="missing_skill",
        )
    step = scheduling_policy_for(organization=organization).slot_step_minutes
    if local.second or local.microsecond or (local.hour * 60 + local.minute) % step:
        return ApplicationError(
            f"{when} is not a time we offer: appointments start every {step} minutes.",
            code="not_offered",
        )
    return ApplicationError(
        f"{when} is not a time we offer with {technician.display_name}: outside their hours, "
        "on time off or a holiday, too short notice, or too little travel time between visits.",
        code="not_offered",
    )


def _save_or_race_lost(appointment: Appointment) -> None:
    """Save in a savepoint; the exclusion constraint refusing it means another booking won."""
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise _RaceLost from exc
        raise


def _slot_taken(
    *, job: Job, technician: Technician, start: dt.datetime, now: dt.datetime
) -> SlotTaken:
    local = start.astimezone(job.organization.tzinfo)
    alternatives = slots_find(
        organization=job.organization,
        job=job,
        count=ALTERNATIVES,
        exclude=[(technician.pk, start)],
        now=now,
    )
    return SlotTaken(
        f"{technician.display_name} is no longer free at {local:%a %d %b %H:%M}.",
        alternatives=alternatives,
    )


def appointment_event_payload(appointment: Appointment) -> dict[str, Any]:
    """What every appointment event says of the visit (times in the organisation's zone)."""
    tz = appointment.job.organization.tzinfo

    def iso(value: dt.datetime | None) -> str | None:
        return value.astimezone(tz).isoformat() if value is not None else None

    return {
        "appointment": appointment.pk,
        "job": appointment.job_id,
        "customer": appointment.job.customer_id,
        "technician": appointment.technician_id,
        "start": iso(appointment.start),
        "end": iso(appointment.end),
        "arrival_window_start": iso(appointment.arrival_window_start),
        "arrival_window_end": iso(appointment.arrival_window_end),
        "status": appointment.status,
    }
