"""Long background work recorded in a `BackgroundRun` row: start, claim, progress, outcome.

A service starts a run (`background_run_create`, at most one queued or running per organisation
and kind) and enqueues its task on commit. The task claims the row (`background_run_claim`),
reports progress through a `RunProgress` callback, and ends it with `background_run_succeed` or
`background_run_fail`. Every write is one short UPDATE of its own: call these outside any
transaction, so a reader (the API, the admin) sees progress while the work goes on.

A worker that dies leaves its row `running`. Such a row stops counting as active once nothing
wrote to it for `STALE_AFTER` (longer than a task may live: its hard time limit has killed it
by then): the next start marks it failed, and a redelivered task may claim it again.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from dispatchnode.core.errors import Conflict
from dispatchnode.core.models import BackgroundRun

logger = logging.getLogger(__name__)

# A running row nobody wrote to for this long belongs to a dead worker. Longer than any run task's
# hard time limit (RUN_TIME_LIMIT).
RUN_SOFT_TIME_LIMIT = 10 * 60
RUN_TIME_LIMIT = 11 * 60
STALE_AFTER = dt.timedelta(seconds=RUN_TIME_LIMIT + 60)
# A queued row no worker picked up for this long was lost (the broker dropped it, or was down).
LOST_AFTER = dt.timedelta(hours=1)
# Progress is written at most this often (seconds): about two writes a second.
PROGRESS_INTERVAL = 0.5

Status = BackgroundRun.Status


def background_run_list(*, organization, kind: str | None = None) -> QuerySet[BackgroundRun]:
    runs = BackgroundRun.objects.filter(organization=organization)
    return runs.filter(kind=kind) if kind else runs


def background_runs_expire(*, organization, kind: str, now: dt.datetime | None = None) -> int:
    """Mark the organisation's dead runs of `kind` failed (see the module docstring); return how
    many."""
    now = now or timezone.now()
    runs = BackgroundRun.objects.filter(organization=organization, kind=kind)
    dead = runs.filter(status=Status.RUNNING, updated_at__lt=now - STALE_AFTER).update(
        status=Status.FAILED,
        finished_at=now,
        error=f"No progress for {STALE_AFTER}: the worker running it was lost.",
        updated_at=now,
    )
    lost = runs.filter(status=Status.QUEUED, updated_at__lt=now - LOST_AFTER).update(
        status=Status.FAILED,
        finished_at=now,
        error=f"Not started within {LOST_AFTER}: the queued task was lost.",
        updated_at=now,
    )
    return dead + lost


@transaction.atomic
def background_run_create(
    *, organization, kind: str, params: dict | None = None, user=None
) -> BackgroundRun:
    """A queued run, or `Conflict` when one of the same kind is already queued or running for the
    organisation (the unique constraint decides, so two requests at once cannot both start)."""
    background_runs_expire(organization=organization, kind=kind)
    run = BackgroundRun(
        organization=organization, kind=kind, params=params or {}, requested_by=user
    )
    run.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError as error:
        active = (
            BackgroundRun.objects.filter(
                organization=organization, kind=kind, status__in=BackgroundRun.ACTIVE_STATUSES
            )
            .values_list("pk", flat=True)
            .first()
        )
        raise Conflict(
            f"A {kind} run is already queued or running for this organisation.",
            code="run_in_progress",
            run=active,
        ) from error
    return run


def background_run_claim(*, run_id: int, now: dt.datetime | None = None) -> BackgroundRun | None:
    """Move a queued run (or a stale running one, see STALE_AFTER) to running and return it;
    None when it is gone, finished, or alive in another worker (a redelivered message)."""
    now = now or timezone.now()
    runs = BackgroundRun.objects.filter(pk=run_id)
    claimed = runs.filter(status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, updated_at=now
    ) or runs.filter(status=Status.RUNNING, updated_at__lt=now - STALE_AFTER).update(
        started_at=now, updated_at=now
    )
    return runs.first() if claimed else None


class RunProgress:
    """The `progress(stage, done, total)` callback of long work, recorded on its run's row.

    It writes at most once per `interval` seconds (the first call always writes); calls in
    between only remember the latest values, which `flush()` writes at the end. `writes` counts
    the UPDATEs made.
    """

    def __init__(
        self,
        run: BackgroundRun,
        *,
        interval: float = PROGRESS_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.run_id = run.pk
        self.interval = interval
        self.clock = clock
        self.writes = 0
        self._written_at: float | None = None
        self._latest: tuple[str, int, int] | None = None
        self._pending = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        self._latest = (stage[:60], max(done, 0), max(total, 0))
        self._pending = True
        now = self.clock()
        if self._written_at is None or now - self._written_at >= self.interval:
            self._write(now)

    def flush(self) -> None:
        if self._pending:
            self._write(self.clock())

    def _write(self, now: float) -> None:
        stage, done, total = self._latest
        BackgroundRun.objects.filter(pk=self.run_id, status=Status.RUNNING).update(
            stage=stage, done=done, total=total, updated_at=timezone.now()
        )
        self._written_at, self._pending = now, False
        self.writes += 1


def background_run_succeed(*, run: BackgroundRun, result: dict) -> None:
    now = timezone.now()
    BackgroundRun.objects.filter(pk=run.pk).update(
        status=Status.SUCCEEDED, result=result, error="", finished_at=now, updated_at=now
    )


def background_run_fail(*, run: BackgroundRun, error: str) -> None:
    now = timezone.now()
    BackgroundRun.objects.filter(pk=run.pk).update(
        status=Status.FAILED, error=error[:10_000], finished_at=now, updated_at=now
    )
