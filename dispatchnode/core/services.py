"""Writes of the shared kernel: sequences and the outbox."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dispatchnode.core.models import OutboxEvent, Sequence

logger = logging.getLogger(__name__)


# --- Sequences ------------------------------------------------------------------------------


@transaction.atomic
def sequence_next(*, organization, name: str) -> int:
    """The next value of a per-organisation counter, safe under concurrency."""
    Sequence.objects.get_or_create(organization=organization, name=name)
    Sequence.objects.filter(organization=organization, name=name).update(
        last_value=F("last_value") + 1
    )
    return (
        Sequence.objects.select_for_update()
        .values_list("last_value", flat=True)
        .get(organization=organization, name=name)
    )


# --- Outbox ---------------------------------------------------------------------------------

OutboxHandler = Callable[[OutboxEvent], None]
_handlers: dict[str, list[OutboxHandler]] = defaultdict(list)


class RetryableDeliveryError(Exception):
    """A handler failed in a way worth retrying (timeout, 5xx, rate limit)."""


def outbox_register(topic: str) -> Callable[[OutboxHandler], OutboxHandler]:
    """Decorator: `@outbox_register("appointment.booked")` makes a function a handler.

    A handler must be idempotent: delivery is at least once.
    """

    def decorator(func: OutboxHandler) -> OutboxHandler:
        if func not in _handlers[topic]:
            _handlers[topic].append(func)
        return func

    return decorator


def outbox_handlers(topic: str) -> list[OutboxHandler]:
    return list(_handlers.get(topic, ()))


def outbox_emit(
    *,
    organization,
    topic: str,
    payload: dict[str, Any] | None = None,
    aggregate=None,
) -> OutboxEvent:
    """Record a side effect in the caller's transaction; the relay delivers it after commit."""
    event = OutboxEvent.objects.create(
        organization=organization,
        topic=topic,
        payload=payload or {},
        aggregate_type=aggregate._meta.label_lower if aggregate is not None else "",
        aggregate_id=str(aggregate.pk) if aggregate is not None else "",
    )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Embedded mode has no beat: deliver right after the business transaction commits.
        from dispatchnode.core.tasks import outbox_relay

        transaction.on_commit(outbox_relay.delay)
    return event


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def outbox_deliver(*, event: OutboxEvent) -> None:
    """Run every handler of one (locked) event and record the outcome on the row."""
    now = timezone.now()
    event.attempts += 1
    try:
        with transaction.atomic():  # a failing handler rolls back only its own writes
            for handler in outbox_handlers(event.topic):
                handler(event)
    except Exception as exc:
        retryable = isinstance(exc, RetryableDeliveryError)
        event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if retryable and event.attempts < settings.OUTBOX_MAX_ATTEMPTS:
            event.next_attempt_at = now + _backoff(event.attempts)
        else:
            event.status = OutboxEvent.Status.DEAD
            event.dead_at = now
        logger.warning(
            "outbox event %s (%s, org %s) failed attempt %s: %s",
            event.pk,
            event.topic,
            event.organization_id,
            event.attempts,
            event.last_error,
        )
    else:
        event.status = OutboxEvent.Status.DELIVERED
        event.delivered_at = now
        event.last_error = ""
    event.save(
        update_fields=[
            "attempts",
            "status",
            "next_attempt_at",
            "last_error",
            "delivered_at",
            "dead_at",
            "updated_at",
        ]
    )


def outbox_relay_batch(*, limit: int = 100) -> int:
    """Deliver up to `limit` due events; concurrent relays skip each other's rows."""
    delivered = 0
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxEvent.Status.PENDING, next_attempt_at__lte=timezone.now())
            .order_by("id")[:limit]
        )
        for event in events:
            outbox_deliver(event=event)
            delivered += event.status == OutboxEvent.Status.DELIVERED
    return delivered


@transaction.atomic
def outbox_replay(*, event: OutboxEvent) -> OutboxEvent:
    """Put a dead-lettered event back in the queue (from the admin or the dashboard).

    It gets a fresh attempt budget: otherwise one more transient failure after a replay would
    dead-letter it again at once. `last_error` is kept until it is delivered.
    """
    event.status = OutboxEvent.Status.PENDING
    event.next_attempt_at = timezone.now()
    event.dead_at = None
    event.attempts = 0
    event.save(update_fields=["status", "next_attempt_at", "dead_at", "attempts", "updated_at"])
    return event


def outbox_purge_delivered(*, older_than: timedelta = timedelta(days=30)) -> int:
    cutoff = timezone.now() - older_than
    deleted, _ = OutboxEvent.objects.filter(
        status=OutboxEvent.Status.DELIVERED, delivered_at__lt=cutoff
    ).delete()
    return deleted
