"""Celery tasks of the customers app: thin wrappers that own only their retry policy."""

from __future__ import annotations

import logging

from celery import shared_task

from customers import services
from customers.geocoding import ZipCentroidGeocoder
from customers.models import ServiceLocation
from dispatchnode.core.http import ProviderError
from dispatchnode.core.retry import retry_delay
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
        services.location_geocode(location=location)
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
            services.location_geocode(location=location, geocoder=ZipCentroidGeocoder())
            return
        raise task.retry(
            exc=error, countdown=retry_countdown(error=error, retries=task.request.retries)
        ) from error


@shared_task(name="customers.organization_dedupe", bind=True, acks_late=True)
def organization_dedupe_task(self, organization_id: int, *, merge: bool = True) -> dict:
    """The batch deduplication of one organisation, reporting progress in the task state
    (`{"stage", "done", "total"}`) for a dashboard to show."""
    from customers.services import organization_dedupe
    from dispatchnode.accounts.models import Organization

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        logger.info("dedupe: organisation %s no longer exists", organization_id)
        return {}

    def progress(stage: str, done: int, total: int) -> None:
        if not self.request.called_directly and self.request.id:
            self.update_state(state="PROGRESS", meta={"stage": stage, "done": done, "total": total})

    report = organization_dedupe(organization=organization, merge=merge, progress=progress)
    return {
        "customers": report.customers,
        "clusters": report.clusters,
        "merged": report.merged,
        "queued": report.queued,
        "merges": report.merges,
    }
