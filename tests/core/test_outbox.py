"""The transactional outbox: written with the business change, relayed after it, retried with
backoff, dead-lettered with a reason, replayable, and never delivered twice by two relays."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bookings.models import Skill
from dispatchnode.core.models import OutboxEvent
from dispatchnode.core.services import (
    RetryableDeliveryError,
    outbox_emit,
    outbox_relay_batch,
    outbox_replay,
)
from dispatchnode.core.tasks import outbox_relay
from tests import factories

TOPIC = "test.outbox"


def make_due(event: OutboxEvent) -> None:
    OutboxEvent.objects.filter(pk=event.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def state(event: OutboxEvent) -> tuple:
    event.refresh_from_db()
    return event.status, event.attempts, event.last_error


# --- emit -----------------------------------------------------------------------------------


def test_emit_writes_a_pending_row_in_the_callers_transaction(org, not_eager):
    # given a customer
    customer = factories.CustomerFactory(organization=org)
    before = timezone.now()

    # when an event about it is emitted inside a business transaction
    with transaction.atomic():
        event = outbox_emit(
            organization=org, topic="customer.created", payload={"id": 7}, aggregate=customer
        )

    # then a pending, due row holds it
    row = OutboxEvent.objects.values(
        "organization_id",
        "topic",
        "payload",
        "aggregate_type",
        "aggregate_id",
        "status",
        "attempts",
        "last_error",
        "delivered_at",
        "dead_at",
    ).get()
    assert row == {
        "organization_id": org.pk,
        "topic": "customer.created",
        "payload": {"id": 7},
        "aggregate_type": "customers.customer",
        "aggregate_id": str(customer.pk),
        "status": OutboxEvent.Status.PENDING,
        "attempts": 0,
        "last_error": "",
        "delivered_at": None,
        "dead_at": None,
    }
    assert before <= event.next_attempt_at <= timezone.now()


def test_emit_is_rolled_back_with_the_caller(org, not_eager):
    # given a business transaction that emits an event and then fails
    def business_change():
        with transaction.atomic():
            outbox_emit(organization=org, topic=TOPIC)
            raise RuntimeError("business rule broken")

    # when it runs
    with pytest.raises(RuntimeError, match="business rule broken"):
        business_change()

    # then no event is left behind
    assert OutboxEvent.objects.count() == 0


def test_embedded_mode_schedules_a_relay_after_commit_and_queue_mode_does_not(
    org, settings, django_capture_on_commit_callbacks
):
    # given embedded mode (no broker)
    settings.CELERY_TASK_ALWAYS_EAGER = True

    # when an event is emitted, then again in queue mode
    with django_capture_on_commit_callbacks() as embedded:
        outbox_emit(organization=org, topic=TOPIC)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with django_capture_on_commit_callbacks() as queued:
        outbox_emit(organization=org, topic=TOPIC)

    # then only embedded mode relays on commit; queue mode leaves it to beat
    assert embedded == [outbox_relay.delay]
    assert queued == []


# --- relay ------------------------------------------------------------------------------------


def test_relay_delivers_to_registered_handlers_and_marks_delivered(org, outbox_handlers, not_eager):
    # given a handler for a topic, two events on it and one on a topic nobody handles
    seen = []
    outbox_handlers(TOPIC)(lambda event: seen.append((event.pk, event.payload)))
    first = outbox_emit(organization=org, topic=TOPIC, payload={"n": 1})
    second = outbox_emit(organization=org, topic=TOPIC, payload={"n": 2})
    unhandled = outbox_emit(organization=org, topic="test.nobody-listens")
    before = timezone.now()

    # when the relay runs twice
    delivered = outbox_relay_batch()
    again = outbox_relay_batch()

    # then each handled event reached the handler once, in order, and every row is delivered
    assert (delivered, again) == (3, 0)
    assert seen == [(first.pk, {"n": 1}), (second.pk, {"n": 2})]
    for event in (first, second, unhandled):
        assert state(event) == (OutboxEvent.Status.DELIVERED, 1, "")
        assert before <= event.delivered_at <= timezone.now()
        assert event.dead_at is None


def test_relay_leaves_events_that_are_not_due(org, outbox_handlers, not_eager):
    # given an event scheduled for later
    seen = []
    outbox_handlers(TOPIC)(seen.append)
    event = outbox_emit(organization=org, topic=TOPIC)
    OutboxEvent.objects.filter(pk=event.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(minutes=5)
    )

    # when the relay runs
    delivered = outbox_relay_batch()

    # then nothing happened
    assert delivered == 0
    assert seen == []
    assert state(event) == (OutboxEvent.Status.PENDING, 0, "")


def test_retryable_error_schedules_a_retry_with_growing_backoff(org, outbox_handlers, not_eager):
    # given a handler that fails with a retryable error
    calls = []

    @outbox_handlers(TOPIC)
    def flaky(event):
        calls.append(event.pk)
        raise RetryableDeliveryError("HTTP 503 from the CRM")

    event = outbox_emit(organization=org, topic=TOPIC)

    # when the relay runs, then runs again at once
    before = timezone.now()
    first = outbox_relay_batch()
    after = timezone.now()
    at_once = outbox_relay_batch()

    # then the event is still pending, one attempt recorded, due again in 30 s, not retried yet
    assert (first, at_once) == (0, 0)
    assert calls == [event.pk]
    assert state(event) == (
        OutboxEvent.Status.PENDING,
        1,
        "RetryableDeliveryError: HTTP 503 from the CRM",
    )
    assert before + dt.timedelta(seconds=30) <= event.next_attempt_at
    assert event.next_attempt_at <= after + dt.timedelta(seconds=30)
    assert event.dead_at is None

    # when it is due again and fails again
    make_due(event)
    before = timezone.now()
    outbox_relay_batch()
    after = timezone.now()

    # then the backoff doubled
    assert state(event)[:2] == (OutboxEvent.Status.PENDING, 2)
    assert before + dt.timedelta(seconds=60) <= event.next_attempt_at
    assert event.next_attempt_at <= after + dt.timedelta(seconds=60)
    assert calls == [event.pk, event.pk]


def test_non_retryable_error_dead_letters_at_once(org, outbox_handlers, not_eager):
    # given a handler that rejects the event for good
    calls = []

    @outbox_handlers(TOPIC)
    def strict(event):
        calls.append(event.pk)
        raise ValueError("payload has no customer id")

    event = outbox_emit(organization=org, topic=TOPIC)
    before = timezone.now()

    # when the relay runs, then again with the event made due
    outbox_relay_batch()
    make_due(event)
    outbox_relay_batch()

    # then it was tried once and is dead with the reason
    assert calls == [event.pk]
    assert state(event) == (OutboxEvent.Status.DEAD, 1, "ValueError: payload has no customer id")
    assert before <= event.dead_at <= timezone.now()
    assert event.delivered_at is None


def test_exhausting_the_attempts_dead_letters(org, outbox_handlers, settings, not_eager):
    # given three allowed attempts and a handler that keeps timing out
    settings.OUTBOX_MAX_ATTEMPTS = 3
    calls = []

    @outbox_handlers(TOPIC)
    def down(event):
        calls.append(event.attempts)
        raise RetryableDeliveryError("timeout")

    event = outbox_emit(organization=org, topic=TOPIC)

    # when the relay tries whenever the event is due, four times
    states = []
    for _ in range(4):
        make_due(event)
        outbox_relay_batch()
        states.append(state(event)[:2])

    # then the third failure dead-lettered it and the fourth run left it alone
    assert states == [
        (OutboxEvent.Status.PENDING, 1),
        (OutboxEvent.Status.PENDING, 2),
        (OutboxEvent.Status.DEAD, 3),
        (OutboxEvent.Status.DEAD, 3),
    ]
    assert calls == [1, 2, 3]  # `attempts` counts the one in progress
    assert event.last_error == "RetryableDeliveryError: timeout"
    assert event.dead_at is not None


def test_replay_puts_a_dead_event_back_with_a_fresh_attempt_budget(
    org, outbox_handlers, settings, not_eager
):
    # given an event dead after its last attempt, and a receiver that is back but still flaky
    settings.OUTBOX_MAX_ATTEMPTS = 2
    outcomes = [RetryableDeliveryError("down"), RetryableDeliveryError("down"), None, None]
    outcomes.insert(2, RetryableDeliveryError("one more blip"))

    @outbox_handlers(TOPIC)
    def receiver(event):
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    event = outbox_emit(organization=org, topic=TOPIC)
    for _ in range(2):
        make_due(event)
        outbox_relay_batch()
    assert state(event)[:2] == (OutboxEvent.Status.DEAD, 2)

    # when it is replayed
    before = timezone.now()
    outbox_replay(event=event)
    replayed = state(event)

    # then it is pending and due now, with its last error kept
    assert replayed == (OutboxEvent.Status.PENDING, 0, "RetryableDeliveryError: down")
    assert before <= event.next_attempt_at <= timezone.now()
    assert event.dead_at is None

    # when one more transient failure happens and then delivery succeeds
    outbox_relay_batch()
    after_blip = state(event)[:2]
    make_due(event)
    outbox_relay_batch()

    # then the blip was retried, not dead-lettered, and the event is delivered
    assert after_blip == (OutboxEvent.Status.PENDING, 1)
    assert state(event) == (OutboxEvent.Status.DELIVERED, 2, "")


def test_a_failing_delivery_rolls_back_its_handlers_writes_only(org, outbox_handlers, not_eager):
    # given two handlers on a topic: the first writes a row, the second fails for one event
    @outbox_handlers(TOPIC)
    def writer(event):
        Skill.objects.create(organization=event.organization, code=f"s{event.pk}", name="x")

    @outbox_handlers(TOPIC)
    def picky(event):
        if event.payload.get("bad"):
            raise RetryableDeliveryError("receiver said 502")

    bad = outbox_emit(organization=org, topic=TOPIC, payload={"bad": True})
    good = outbox_emit(organization=org, topic=TOPIC, payload={})

    # when both are relayed in one batch
    delivered = outbox_relay_batch()

    # then only the good event's write is kept; the bad one's attempt is recorded
    assert delivered == 1
    assert list(Skill.objects.values_list("code", flat=True)) == [f"s{good.pk}"]
    assert state(bad)[:2] == (OutboxEvent.Status.PENDING, 1)
    assert state(good)[:2] == (OutboxEvent.Status.DELIVERED, 1)


# --- concurrent relays (PostgreSQL: FOR UPDATE SKIP LOCKED) --------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_relay_skips_events_another_relay_holds(outbox_handlers, not_eager):
    # given ten due events, the first four locked by another relay's open transaction
    org = factories.OrganizationFactory()
    seen = []
    outbox_handlers(TOPIC)(lambda event: seen.append(event.pk))
    events = [outbox_emit(organization=org, topic=TOPIC) for _ in range(10)]
    held, free = [e.pk for e in events[:4]], [e.pk for e in events[4:]]
    locked, release = threading.Event(), threading.Event()

    def other_relay():
        try:
            with transaction.atomic():
                list(OutboxEvent.objects.select_for_update().filter(pk__in=held))
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=other_relay)
    holder.start()
    assert locked.wait(timeout=30)

    # when this relay runs while the lock is held, then after it is released
    during = outbox_relay_batch()
    seen_during = list(seen)
    release.set()
    holder.join(timeout=30)
    after = outbox_relay_batch()

    # then it delivered the free ones without waiting, and the held ones afterwards
    assert (during, after) == (6, 4)
    assert seen_during == free
    assert seen == free + held


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_relays_never_deliver_an_event_twice(outbox_handlers, not_eager):
    # given 120 due events and a handler that records which relay delivered what
    org = factories.OrganizationFactory()
    deliveries: list[tuple[int, str]] = []
    record = threading.Lock()

    @outbox_handlers(TOPIC)
    def slow(event):
        time.sleep(0.002)
        with record:
            deliveries.append((event.pk, threading.current_thread().name))

    ids = [outbox_emit(organization=org, topic=TOPIC).pk for _ in range(120)]
    relays = 4
    barrier = threading.Barrier(relays)
    errors = []

    def relay():
        try:
            barrier.wait(timeout=30)
            while outbox_relay_batch(limit=10):
                pass
        except Exception as exc:  # recorded and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay, name=f"relay-{i}") for i in range(relays)]

    # when four relays run at the same time until nothing is due
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then every event was delivered exactly once, by relays working side by side
    assert errors == []
    assert Counter(pk for pk, _ in deliveries) == dict.fromkeys(ids, 1)
    assert OutboxEvent.objects.filter(status=OutboxEvent.Status.DELIVERED).count() == 120
    assert len({name for _, name in deliveries}) >= 2
