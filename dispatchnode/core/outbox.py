"""The transactional outbox: events, a delivery per subscriber, leases, one retry policy.

Shape (after Saleor's EventPayload → EventDelivery → EventDeliveryAttempt):

- `outbox_emit` writes an immutable `OutboxEvent` and one `OutboxDelivery` per subscriber of
  its topic, in the caller's transaction. With no subscriber the event is `unrouted`.
- A relay (`outbox_relay_run`, the `core.outbox_relay` task on the `outbox` queue) claims due
  deliveries with a lease in one short transaction, runs each subscriber with **no transaction
  open** (they call the network), and records each outcome in its own short transaction, with
  an `OutboxDeliveryAttempt` row. A worker that dies mid-batch leaves leases that expire; the
  deliveries are claimed again, so every subscriber must be idempotent at the receiving end.
- Order: a delivery waits while an earlier event's delivery for the same subscriber and the
  same aggregate is pending, through retries. Dead letters do not block (they wait for a
  person); replaying one puts it back in line.
- Retries follow `dispatchnode.core.retry` (typed errors decide, Retry-After honoured,
  backoff with jitter, a soft time limit is a retry).
- Broker mode kicks the relay on commit (a code texted during a call arrives in about a
  second); beat only sweeps. Inline mode runs the relay right after the commit.

Subscribers are code (`@outbox_register(topic, key=...)`) or come from a `SubscriberSource`
(integrations will register one that yields each active Connection subscribed to a topic).
Cross-tenant reads here go through `_base_manager`: the relay serves every organisation.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from dispatchnode.core.models import OutboxDelivery, OutboxDeliveryAttempt, OutboxEvent
from dispatchnode.core.retry import retry_decide
from dispatchnode.core.scoping import tenant_scope

logger = logging.getLogger(__name__)

OutboxHandler = Callable[[OutboxEvent], None]

Deliveries = OutboxDelivery._base_manager
Events = OutboxEvent._base_manager


# --- Subscribers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscriber:
    """Who receives a topic: a stable `key` (stored on every delivery) and the handler."""

    key: str
    handler: OutboxHandler
    topics: tuple[str, ...] = ()


class SubscriberSource(Protocol):
    """Subscribers that are data, not code (one per active integration Connection)."""

    def subscribers_for(self, *, organization_id: int, topic: str) -> Iterable[Subscriber]: ...

    def subscriber(self, key: str) -> Subscriber | None: ...


_subscribers: dict[str, Subscriber] = {}
_sources: list[SubscriberSource] = []


def outbox_register(topic: str, *, key: str = "") -> Callable[[OutboxHandler], OutboxHandler]:
    """Decorator: `@outbox_register("message.sms", key="sms.send")` subscribes a function.

    The key names the subscriber in every delivery row: keep it stable (renaming it orphans
    pending deliveries, which then dead-letter with a clear reason). A handler must be
    idempotent: delivery is at least once. It runs with no transaction open.
    """

    def decorator(func: OutboxHandler) -> OutboxHandler:
        name = key or f"{func.__module__}.{func.__qualname__}"
        known = _subscribers.get(name)
        topics = tuple(dict.fromkeys((*(known.topics if known else ()), topic)))
        _subscribers[name] = Subscriber(key=name, handler=func, topics=topics)
        return func

    return decorator


def outbox_register_source(source: SubscriberSource) -> SubscriberSource:
    if source not in _sources:
        _sources.append(source)
    return source


def outbox_subscribers(*, organization_id: int, topic: str) -> list[Subscriber]:
    found = [s for s in _subscribers.values() if topic in s.topics]
    for source in _sources:
        found.extend(source.subscribers_for(organization_id=organization_id, topic=topic))
    return found


def outbox_subscriber(key: str) -> Subscriber | None:
    if key in _subscribers:
        return _subscribers[key]
    for source in _sources:
        found = source.subscriber(key)
        if found is not None:
            return found
    return None


# --- Emit -----------------------------------------------------------------------------------


def event_actor(actor) -> int | None:
    """The id of the signed-in user who acted, for an event's `actor`; None for the system, an
    anonymous request or an API token."""
    return actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None


def outbox_emit(
    *,
    organization,
    topic: str,
    payload: dict[str, Any] | None = None,
    aggregate=None,
) -> OutboxEvent:
    """Record an event in the caller's transaction, with a delivery per current subscriber."""
    subscribers = outbox_subscribers(organization_id=organization.pk, topic=topic)
    with transaction.atomic():
        event = OutboxEvent.objects.create(
            organization=organization,
            topic=topic,
            payload=payload or {},
            aggregate_type=aggregate._meta.label_lower if aggregate is not None else "",
            aggregate_id=str(aggregate.pk) if aggregate is not None else "",
            routing=OutboxEvent.Routing.ROUTED if subscribers else OutboxEvent.Routing.UNROUTED,
        )
        OutboxDelivery.objects.bulk_create(
            [_delivery_for(event, subscriber.key) for subscriber in subscribers]
        )
    if subscribers:
        outbox_kick_on_commit()
    return event


def _delivery_for(event: OutboxEvent, key: str) -> OutboxDelivery:
    return OutboxDelivery(
        organization_id=event.organization_id,
        event=event,
        subscriber=key,
        aggregate_key=event.aggregate_key,
    )


def outbox_kick_on_commit() -> None:
    """Start a relay once the current transaction commits (once per transaction)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(func is _kick for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_kick)


def _kick() -> None:
    from dispatchnode.core.tasks import outbox_relay

    if settings.CELERY_TASK_ALWAYS_EAGER:
        outbox_relay.apply()  # inline mode: deliver in this process, right after the commit
        return
    try:
        outbox_relay.apply_async(queue="outbox", expires=120)
    except Exception as error:  # the broker is down: the beat sweep (or the next kick) delivers
        logger.warning("outbox: could not kick the relay (%s); the sweep will deliver", error)


# --- Relay ----------------------------------------------------------------------------------


@dataclass
class RelayReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    seconds: float = 0.0
    stopped_early: bool = False


def outbox_claim(*, limit: int, lease_seconds: float | None = None) -> list[OutboxDelivery]:
    """Lease up to `limit` due deliveries, in order, in one short transaction."""
    now = timezone.now()
    lease = timedelta(seconds=lease_seconds or settings.OUTBOX_LEASE_SECONDS)
    earlier_pending = Deliveries.filter(
        organization_id=OuterRef("organization_id"),
        subscriber=OuterRef("subscriber"),
        aggregate_key=OuterRef("aggregate_key"),
        event_id__lt=OuterRef("event_id"),
        status=OutboxDelivery.Status.PENDING,
    )
    token = uuid.uuid4().hex
    with transaction.atomic():
        ids = list(
            Deliveries.select_for_update(skip_locked=True)
            .filter(status=OutboxDelivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .exclude(Q(~Q(aggregate_key="")) & Exists(earlier_pending))
            .order_by("event_id", "id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        Deliveries.filter(pk__in=ids).update(
            leased_until=now + lease, lease_token=token, updated_at=now
        )
    return list(
        Deliveries.filter(pk__in=ids, lease_token=token)
        .select_related("event")
        .order_by("event_id", "id")
    )


def outbox_deliver(*, delivery: OutboxDelivery) -> str:
    """Run one leased delivery's subscriber (no transaction open) and record the outcome."""
    return _deliver(delivery)[0]


def _deliver(delivery: OutboxDelivery) -> tuple[str, bool]:
    """The outcome, and whether the attempt was cut by the task's soft time limit."""
    started = time.monotonic()
    subscriber = outbox_subscriber(delivery.subscriber)
    error: BaseException | None = None
    try:
        if subscriber is None:
            raise LookupError(f"No subscriber named {delivery.subscriber!r} is registered.")
        with tenant_scope(delivery.organization_id):  # a handler serves one organisation
            subscriber.handler(delivery.event)
    except (SoftTimeLimitExceeded, Exception) as exc:
        error = exc
    outcome = _record(delivery, error=error, duration=time.monotonic() - started)
    return outcome, isinstance(error, SoftTimeLimitExceeded)


def _record(delivery: OutboxDelivery, *, error: BaseException | None, duration: float) -> str:
    now = timezone.now()
    attempt = delivery.attempts + 1
    changes: dict[str, Any] = {
        "attempts": attempt,
        "leased_until": None,
        "lease_token": "",
        "updated_at": now,
    }
    if error is None:
        outcome = OutboxDeliveryAttempt.Outcome.DELIVERED
        reason = ""
        changes.update(status=OutboxDelivery.Status.DELIVERED, delivered_at=now, last_error="")
    else:
        decision = retry_decide(
            error,
            attempt=attempt,
            max_attempts=settings.OUTBOX_MAX_ATTEMPTS,
            base=settings.OUTBOX_RETRY_BASE_SECONDS,
            cap=settings.OUTBOX_RETRY_MAX_SECONDS,
        )
        reason = decision.reason
        changes["last_error"] = reason
        if decision.retry:
            outcome = OutboxDeliveryAttempt.Outcome.RETRY
            changes["next_attempt_at"] = now + timedelta(seconds=decision.delay)
        else:
            outcome = OutboxDeliveryAttempt.Outcome.DEAD
            changes.update(status=OutboxDelivery.Status.DEAD, dead_at=now)
        logger.warning(
            "outbox delivery %s (%s of event %s %s, org %s) failed attempt %s: %s",
            delivery.pk,
            delivery.subscriber,
            delivery.event_id,
            delivery.event.topic,
            delivery.organization_id,
            attempt,
            reason,
        )
    with transaction.atomic():
        updated = Deliveries.filter(pk=delivery.pk, lease_token=delivery.lease_token).update(
            **changes
        )
        if updated:
            OutboxDeliveryAttempt.objects.create(
                organization_id=delivery.organization_id,
                delivery_id=delivery.pk,
                number=attempt,
                outcome=outcome,
                error=reason,
                duration_ms=min(int(duration * 1000), 2**31 - 1),
            )
    if not updated:  # the lease ran out and another relay took it over: its outcome stands
        logger.warning(
            "outbox delivery %s: lease lost, outcome %s not recorded", delivery.pk, outcome
        )
    for name, value in changes.items():
        setattr(delivery, name, value)
    return outcome


def _release(deliveries: Iterable[OutboxDelivery]) -> None:
    for delivery in deliveries:
        Deliveries.filter(pk=delivery.pk, lease_token=delivery.lease_token).update(
            leased_until=None, lease_token=""
        )


def outbox_relay_run(
    *, batch_size: int | None = None, time_budget: float | None = None, max_batches: int = 0
) -> RelayReport:
    """Deliver due deliveries batch by batch until none is due or the time budget is spent."""
    report = RelayReport()
    started = time.monotonic()
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    budget = settings.OUTBOX_RELAY_SECONDS if time_budget is None else time_budget
    batches = 0
    while True:
        batch = outbox_claim(limit=batch_size)
        if not batch:
            break
        batches += 1
        report.claimed += len(batch)
        for index, delivery in enumerate(batch):
            outcome, timed_out = _deliver(delivery)
            if outcome == OutboxDeliveryAttempt.Outcome.DELIVERED:
                report.delivered += 1
            elif outcome == OutboxDeliveryAttempt.Outcome.RETRY:
                report.retried += 1
            else:
                report.dead += 1
            out_of_time = time.monotonic() - started > budget
            if timed_out or out_of_time:
                _release(batch[index + 1 :])
                report.stopped_early = True
                break
        if report.stopped_early or (max_batches and batches >= max_batches):
            break
    report.seconds = time.monotonic() - started
    return report


# --- Dead letters, backfill, purge -------------------------------------------------------------


def outbox_replay(*, delivery: OutboxDelivery) -> OutboxDelivery:
    """Put a dead (or waiting) delivery back in line with a fresh attempt budget.

    `last_error` is kept until it is delivered. A delivered one is left alone.
    """
    with transaction.atomic():
        locked = (
            Deliveries.select_for_update()
            .filter(pk=delivery.pk)
            .exclude(status=OutboxDelivery.Status.DELIVERED)
            .first()
        )
        if locked is None:
            delivery.refresh_from_db()
            return delivery
        now = timezone.now()
        locked.status = OutboxDelivery.Status.PENDING
        locked.next_attempt_at = now
        locked.dead_at = None
        locked.attempts = 0
        locked.leased_until = None
        locked.lease_token = ""
        locked.save(
            update_fields=[
                "status",
                "next_attempt_at",
                "dead_at",
                "attempts",
                "leased_until",
                "lease_token",
                "updated_at",
            ]
        )
        outbox_kick_on_commit()
    return locked


@dataclass(frozen=True)
class BackfillReport:
    created: int
    cursor: int  # the last event id looked at: pass it as `after_event_id` next time


def outbox_backfill(
    *,
    organization,
    subscriber: str,
    after_event_id: int = 0,
    topics: Iterable[str] | None = None,
    limit: int = 10_000,
) -> BackfillReport:
    """Give a subscriber added later the events it missed, from a cursor (an event id)."""
    found = outbox_subscriber(subscriber)
    wanted = tuple(topics or (found.topics if found else ()))
    if not wanted:
        raise LookupError(f"No topics to backfill for subscriber {subscriber!r}.")
    events = list(
        OutboxEvent.objects.filter(
            organization=organization, topic__in=wanted, pk__gt=after_event_id
        )
        .exclude(deliveries__subscriber=subscriber)
        .order_by("pk")[:limit]
    )
    with transaction.atomic():
        created = OutboxDelivery.objects.bulk_create(
            [_delivery_for(event, subscriber) for event in events], ignore_conflicts=True
        )
        OutboxEvent.objects.filter(
            pk__in=[e.pk for e in events], routing=OutboxEvent.Routing.UNROUTED
        ).update(routing=OutboxEvent.Routing.ROUTED)
        if events:
            outbox_kick_on_commit()
    cursor = events[-1].pk if events else after_event_id
    return BackfillReport(created=len(created), cursor=cursor)


def outbox_purge(*, older_than: timedelta | None = None) -> int:
    """Delete old events that need nothing more: all deliveries delivered, or never routed."""
    cutoff = timezone.now() - (older_than or timedelta(days=settings.OUTBOX_RETENTION_DAYS))
    open_delivery = Deliveries.filter(event_id=OuterRef("pk")).exclude(
        status=OutboxDelivery.Status.DELIVERED
    )
    _, per_model = Events.filter(created_at__lt=cutoff).exclude(Exists(open_delivery)).delete()
    return per_model.get(OutboxEvent._meta.label, 0)
