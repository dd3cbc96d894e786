"""The scheduling domain's status rules, each written once.

Which appointment statuses occupy a technician's time, which hold a job, which can still move or
be cancelled, and how a job's status may change. The models, services, selectors, the slot engine
and the admin read them from here (the active tuple lives on the model because the exclusion
constraint in `Appointment.Meta` is built from it). Tests are generated from these tables.
"""

from __future__ import annotations

from bookings.models import APPOINTMENT_ACTIVE_STATUSES, AppointmentStatus, Job
from dispatchnode.core.errors import ApplicationError, Conflict

__all__ = [
    "APPOINTMENT_ACTIVE_STATUSES",
    "APPOINTMENT_CANCELLABLE_STATUSES",
    "APPOINTMENT_OPEN_STATUSES",
    "APPOINTMENT_RESCHEDULABLE_STATUSES",
    "JOB_BOOKABLE_STATUSES",
    "JOB_DONE_STATUSES",
    "JOB_TRANSITIONS",
    "job_transition_check",
]

_A = AppointmentStatus
_J = Job.Status

# Active (on the model): the visit occupies the technician's time; everything but cancelled.
# Open: the visit holds its job (the job is booked while one exists); not yet finished.
APPOINTMENT_OPEN_STATUSES = (_A.SCHEDULED, _A.DISPATCHED, _A.EN_ROUTE, _A.IN_PROGRESS)
# The technician has not left yet: the visit can still move.
APPOINTMENT_RESCHEDULABLE_STATUSES = (_A.SCHEDULED, _A.DISPATCHED)
# The work has not started: the visit can still be called off.
APPOINTMENT_CANCELLABLE_STATUSES = (_A.SCHEDULED, _A.DISPATCHED, _A.EN_ROUTE)

# Job states in which its visits are still being arranged.
JOB_BOOKABLE_STATUSES = (_J.REQUESTED, _J.SCHEDULED, _J.DISPATCHED)
# The work was done (the caller's history).
JOB_DONE_STATUSES = (_J.COMPLETED, _J.INVOICED, _J.CLOSED)

# Every status a job may move to from each status. A job goes back to "requested" when its last
# open visit is cancelled before work started; it is cancelled only before work started; closed
# and cancelled are final.
JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    _J.REQUESTED: frozenset({_J.SCHEDULED, _J.CANCELLED}),
    _J.SCHEDULED: frozenset({_J.REQUESTED, _J.DISPATCHED, _J.CANCELLED}),
    _J.DISPATCHED: frozenset({_J.REQUESTED, _J.SCHEDULED, _J.EN_ROUTE, _J.CANCELLED}),
    _J.EN_ROUTE: frozenset({_J.REQUESTED, _J.IN_PROGRESS, _J.CANCELLED}),
    _J.IN_PROGRESS: frozenset({_J.COMPLETED}),
    _J.COMPLETED: frozenset({_J.INVOICED, _J.CLOSED}),
    _J.INVOICED: frozenset({_J.CLOSED}),
    _J.CLOSED: frozenset(),
    _J.CANCELLED: frozenset(),
}


def job_transition_check(*, job: Job, to: str) -> None:
    """Refuse a status change of `job` that `JOB_TRANSITIONS` does not allow.

    An unknown status is an ApplicationError (400, `unknown_status`); a known one the job may not
    move to is a Conflict (409, `illegal_transition`), naming both statuses. The table holds no
    self-moves: a caller that would leave the status as it is skips the write instead.
    """
    if to not in JOB_TRANSITIONS:
        raise ApplicationError(f"{to!r} is not a job status.", code="unknown_status", status=to)
    allowed = JOB_TRANSITIONS.get(job.status, frozenset())
    if to in allowed:
        return
    labels = dict(_J.choices)
    current, wanted = labels.get(job.status, job.status).lower(), labels[to].lower()
    raise Conflict(
        f"Job {job.number} is {current}; it cannot become {wanted}.",
        code="illegal_transition",
        status=job.status,
        to=to,
    )
