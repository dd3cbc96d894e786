"""Storing and processing inbound webhook events, once per (organisation, provider, event id)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from dispatchnode.core.errors import ApplicationError
from integrations.models import WebhookEvent


@dataclass(frozen=True)
class Outcome:
    status: int
    detail: str
    event: WebhookEvent | None = None


def webhook_event_process(
    *,
    organization,
    provider: str,
    event_id: str,
    type: str,
    payload: dict,
    apply: Callable[[], None],
    deferred: type[Exception],
) -> Outcome:
    """Store the event (or find it), then apply it unless it was processed already.

    The row is locked while the event applies, so two deliveries at once apply it once. The
    domain writes roll back on any error; the event keeps the status and reason."""
    with transaction.atomic():
        event, _ = WebhookEvent.objects.get_or_create(
            organization=organization,
            provider=provider,
            event_id=event_id[:200],
            defaults={"type": type[:100], "payload": payload},
        )
        event = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if event.status == WebhookEvent.Status.PROCESSED:
            return Outcome(200, "already processed", event)
        event.attempts += 1
        try:
            with transaction.atomic():
                apply()
        except deferred as error:
            event.status, event.error, status = WebhookEvent.Status.DEFERRED, str(error), 409
        except ApplicationError as error:
            event.status, event.error, status = WebhookEvent.Status.FAILED, error.message, 400
        else:
            event.status, event.error, status = WebhookEvent.Status.PROCESSED, "", 200
            event.processed_at = timezone.now()
        event.save(update_fields=["status", "error", "attempts", "processed_at", "updated_at"])
    return Outcome(status, event.error or event.status, event)
