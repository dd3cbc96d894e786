"""Celery tasks of the customers app: thin wrappers that own only their retry policy."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from customers.followups import followups_scan, followups_send
from customers.geocoding import ZipCentroidGeocoder
from customers.locations import location_geocode
from customers.models import FollowUp, ServiceLocation
from customers.services import dedupe_report_dict, organization_dedupe
from dispatchnode.accounts.models import Organization
from dispatchnode.core.http import ProviderError
from dispatchnode.core.models import BackgroundRun
from dispatchnode.core.retry import retry_delay
from dispatchnode.core.runs import (
    RUN_SOFT_TIME_LIMIT,
    RUN_TIME_LIMIT,
    RunProgress,
    background_run_claim,
    background_run_fail,
    background_run_succeed,
)
from dispatchnode.core.scoping import tenant_scope, tenant_unscoped

logger = logging.getLogger(__name__)

GEOCODE_MAX_RETRIES = 5
# Far below the broker's visibility timeout: long waits belong to beat, not to countdowns.
MAX_RETRY_COUNTDOWN = 300.0


def retry_countdown(*, error: ProviderError, retries: int) -> float:
    """The one retry policy (`dispatchnode.core.retry`): the provider's Retry-After when it gave
    one, else exponential backoff with jitter (15 s, 30 s, 60 s…), capped at
    `MAX_RETRY_COUNTDOWN`."""
    return retry_delay(error, attempt=retries + 1, base=15.0, cap=MAX_RETRY_COUNTDOWN)


@shared_task(
    bind=True,
    name="customers.location_geocode",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=GEOCODE_MAX_RETRIES,
    ignore_result=True,
)
def location_geocode_task(self, location_id: int) -> None:
    """Geocode one location with the configured geocoder; idempotent (the service never
    downgrades), so a redelivered or repeated run is harmless.

    Outages and rate limits are retried; when the retries run out the offline ZIP centroid is
    used, so the location still gets a position. A refusal that will not change is logged and
    dropped (the HTTP geocoders already fell back to the ZIP centroid for those).
    """
    with tenant_unscoped("find the organisation of the location to geocode"):
        location = ServiceLocation.objects.filter(pk=location_id).first()
    if location is None:
        logger.info("location %s no longer exists; nothing to geocode", location_id)
        return
    with tenant_scope(location.organization_id):
        _location_geocode(self, location)


def _location_geocode(task, location: ServiceLocation) -> None:
    location_id = location.pk
    try:
        location_geocode(location=location)
    except ProviderError as error:
        if not error.retryable:
            logger.warning(
                "location %s (organisation %s) not geocoded: %s",
                location_id,
                location.organization_id,
                error.message,
            )
            return
        if task.request.retries >= task.max_retries:
            logger.warning(
                "location %s (organisation %s): %s Using the ZIP centroid after %d retries.",
                location_id,
                location.organization_id,
                error.message,
                task.request.retries,
            )
            location_geocode(location=location, geocoder=ZipCentroidGeocoder())
            return
        raise task.retry(
            exc=error, countdown=retry_countdown(error=error, retries=task.request.retries)
        ) from error


@shared_task(
    name="customers.organization_dedupe",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=RUN_SOFT_TIME_LIMIT,
    time_limit=RUN_TIME_LIMIT,
)
def organization_dedupe_task(self, run_id: int) -> None:
    """The batch deduplication of one organisation, recorded on its `BackgroundRun` row:
    progress while it runs (throttled short writes), then the report as `result` or the error.

    A redelivered message for a run that is finished, or still alive in another worker, does
    nothing. Errors are recorded on the row, not raised: in inline mode the request that started
    the run still answers.
    """
    with tenant_unscoped("find the organisation of the run"):
        organization_id = (
            BackgroundRun.objects.filter(pk=run_id)
            .values_list("organization_id", flat=True)
            .first()
        )
    if organization_id is None:
        logger.info("dedupe run %s no longer exists", run_id)
        return
    with tenant_scope(organization_id):
        _organization_dedupe_run(run_id)


def _organization_dedupe_run(run_id: int) -> None:
    run = background_run_claim(run_id=run_id)
    if run is None:
        logger.info("dedupe run %s is not queued (finished, running elsewhere or gone)", run_id)
        return
    progress = RunProgress(run)
    try:
        report = organization_dedupe(
            organization=run.organization, merge=run.params.get("merge", True), progress=progress
        )
    except SoftTimeLimitExceeded:
        progress.flush()
        background_run_fail(
            run=run, error=f"Stopped after {RUN_SOFT_TIME_LIMIT // 60} minutes (time limit)."
        )
        logger.warning(
            "dedupe run %s (organisation %s) hit its time limit", run_id, run.organization_id
        )
        return
    except Exception as error:
        progress.flush()
        background_run_fail(run=run, error=f"{type(error).__name__}: {error}")
        logger.exception("dedupe run %s (organisation %s) failed", run_id, run.organization_id)
        return
    progress.flush()
    background_run_succeed(run=run, result=dedupe_report_dict(report))


# --- Follow-ups (beat: dispatchnode.celery.BEAT_SCHEDULE) -----------------------------------


@shared_task(
    name="customers.followups_scan",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def followups_scan_task(now: str | None = None) -> int:
    """Schedule the follow-ups that came due, organisation by organisation. Idempotent: the
    unique key makes a rerun insert nothing new. `now` (ISO 8601) freezes the clock in tests."""

    with tenant_unscoped("list the organisations to scan for follow-ups"):
        organizations = list(Organization.objects.order_by("pk"))
    inserted = 0
    moment = _moment(now)
    for organization in organizations:
        with tenant_scope(organization.pk):
            inserted += followups_scan(now=moment, organization=organization)
    return inserted


@shared_task(
    name="customers.followups_send",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def followups_send_task(now: str | None = None) -> int:
    """Send the due follow-ups. A worker killed mid-send rolls back its one transaction, so the
    redelivered task sends each follow-up exactly once."""

    now = _moment(now)
    with tenant_unscoped("find the organisations with due follow-ups"):
        org_ids = sorted(
            set(
                FollowUp.objects.filter(status=FollowUp.Status.SCHEDULED, scheduled_for__lte=now)
                .values_list("organization_id", flat=True)
                .distinct()
            )
        )
    sent = 0
    for org_id in org_ids:
        with tenant_scope(org_id):
            organization = Organization.objects.get(pk=org_id)
            sent += followups_send(now=now, organization=organization).sent
    return sent


def _moment(now: str | None) -> dt.datetime:
    return dt.datetime.fromisoformat(now) if now else timezone.now()
