"""The transactional outbox: an event per fact, a delivery per subscriber, leases, per-object
order, one retry policy, dead letters with replay, backfill from a cursor."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, transaction
from django.utils import timezone

from dispatchnode.core import outbox
from dispatchnode.core.http import ProviderRejected, ProviderUnavailable, RateLimited
from dispatchnode.core.models import OutboxDelivery, OutboxDeliveryAttempt, OutboxEvent
from dispatchnode.core.outbox import (
    outbox_backfill,
    outbox_claim,
    outbox_emit,
    outbox_purge,
    outbox_relay_run,
    outbox_replay,
)
from dispatchnode.core.retry import RetryableDeliveryError
from tests import factories

TOPIC = "test.outbox"
Status = OutboxDelivery.Status


def make_due(*deliveries: OutboxDelivery | None) -> None:
    rows = OutboxDelivery.objects.all()
    if deliveries:
        rows = rows.filter(pk__in=[d.pk for d in deliveries])
    rows.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


def state(delivery: OutboxDelivery) -> tuple:
    delivery.refresh_from_db()
    return delivery.status, delivery.attempts, delivery.last_error


def delivery_of(event: OutboxEvent, key: str) -> OutboxDelivery:
    return OutboxDelivery.objects.get(event=event, subscriber=key)


def relay() -> outbox.RelayReport:
    return outbox_relay_run(time_budget=30)


# --- emit -----------------------------------------------------------------------------------


def test_emit_writes_the_event_and_a_delivery_per_subscriber(org, outbox_handlers, not_eager):
    # given two subscribers of a topic and a customer
    outbox_handlers(TOPIC, key="a")(lambda event: None)
    outbox_handlers(TOPIC, key="b")(lambda event: None)
    customer = factories.CustomerFactory(organization=org)

    # when an event about the customer is emitted inside a business transaction
    with transaction.atomic():
        event = outbox_emit(organization=org, topic=TOPIC, payload={"id": 7}, aggregate=customer)

    # then the event holds the fact and each subscriber has a pending delivery of it
    assert OutboxEvent.objects.values(
        "organization_id", "topic", "payload", "aggregate_type", "aggregate_id", "routing"
    ).get() == {
        "organization_id": org.pk,
        "topic": TOPIC,
        "payload": {"id": 7},
        "aggregate_type": "customers.customer",
        "aggregate_id": str(customer.pk),
        "routing": OutboxEvent.Routing.ROUTED,
    }
    assert sorted(
        OutboxDelivery.objects.values_list(
            "subscriber", "status", "attempts", "aggregate_key", "event_id", "organization_id"
        )
    ) == [
        ("a", Status.PENDING, 0, f"customers.customer:{customer.pk}", event.pk, org.pk),
        ("b", Status.PENDING, 0, f"customers.customer:{customer.pk}", event.pk, org.pk),
    ]


def test_emit_is_rolled_back_with_the_caller(org, outbox_handlers, not_eager):
    # given a business transaction that emits an event and then fails
    outbox_handlers(TOPIC)(lambda event: None)

    def business_change():
        with transaction.atomic():
            outbox_emit(organization=org, topic=TOPIC)
            raise RuntimeError("business rule broken")

    # when it runs
    with pytest.raises(RuntimeError, match="business rule broken"):
        business_change()

    # then neither the event nor its delivery is left behind
    assert (OutboxEvent.objects.count(), OutboxDelivery.objects.count()) == (0, 0)


@pytest.mark.parametrize("eager", [True, False])
def test_a_transaction_kicks_the_relay_once_on_commit_in_both_modes(
    org, outbox_handlers, settings, django_capture_on_commit_callbacks, eager
):
    # given inline or broker mode and a subscriber
    settings.CELERY_TASK_ALWAYS_EAGER = eager
    outbox_handlers(TOPIC)(lambda event: None)

    # when one transaction emits three events
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for _ in range(3):
            outbox_emit(organization=org, topic=TOPIC)

    # then one kick is scheduled for its commit (beat only sweeps)
    assert callbacks == [outbox._kick]


def test_a_topic_nobody_subscribes_to_is_kept_unrouted_not_delivered(
    org, outbox_handlers, django_capture_on_commit_callbacks, not_eager
):
    # given no subscriber of a topic
    # when an event is emitted on it and the relay runs
    with django_capture_on_commit_callbacks() as callbacks:
        event = outbox_emit(organization=org, topic="job.created", payload={"job": 1})
    report = relay()

    # then it is recorded as unrouted, no delivery exists and nothing was kicked
    event.refresh_from_db()
    assert event.routing == OutboxEvent.Routing.UNROUTED
    assert OutboxDelivery.objects.count() == 0
    assert (report.claimed, callbacks) == (0, [])


def test_a_subscriber_added_later_is_backfilled_from_a_cursor(org, outbox_handlers, not_eager):
    # given three job.created events nobody received, and another organisation's one
    early = [outbox_emit(organization=org, topic="job.created", payload={"n": n}) for n in range(3)]
    outbox_emit(organization=factories.OrganizationFactory(), topic="job.created")
    seen = []
    outbox_handlers("job.created", key="crm.late")(lambda event: seen.append(event.payload["n"]))

    # when it is backfilled from after the first event, then again from the cursor it returned
    first = outbox_backfill(organization=org, subscriber="crm.late", after_event_id=early[0].pk)
    again = outbox_backfill(organization=org, subscriber="crm.late", after_event_id=first.cursor)
    relay()

    # then it received the two events after the cursor, in order, once, and only ours
    assert (first.created, first.cursor) == (2, early[2].pk)
    assert (again.created, again.cursor) == (0, early[2].pk)
    assert seen == [1, 2]
    assert list(
        OutboxEvent.objects.filter(pk__in=[e.pk for e in early])
        .order_by("pk")
        .values_list("routing", flat=True)
    ) == [OutboxEvent.Routing.UNROUTED, OutboxEvent.Routing.ROUTED, OutboxEvent.Routing.ROUTED]


# --- one delivery per subscriber -------------------------------------------------------------


def test_two_subscribers_one_failing_the_other_delivers_once(org, outbox_handlers, not_eager):
    # given two subscribers, the second failing retryably every time
    calls = Counter()

    @outbox_handlers(TOPIC, key="good")
    def good(event):
        calls["good"] += 1

    @outbox_handlers(TOPIC, key="flaky")
    def flaky(event):
        calls["flaky"] += 1
        raise RetryableDeliveryError("upstream 503")

    event = outbox_emit(organization=org, topic=TOPIC)

    # when the relay runs three times, each time after the retry came due
    for _ in range(3):
        relay()
        make_due()

    # then the good subscriber ran once, the failing one three times
    assert calls == {"good": 1, "flaky": 3}
    assert state(delivery_of(event, "good")) == (Status.DELIVERED, 1, "")
    assert state(delivery_of(event, "flaky")) == (
        Status.PENDING,
        3,
        "RetryableDeliveryError: upstream 503",
    )
    assert list(
        OutboxDeliveryAttempt.objects.filter(delivery__subscriber="flaky").values_list(
            "number", "outcome"
        )
    ) == [(1, "retry"), (2, "retry"), (3, "retry")]


def test_a_subscriber_runs_with_no_transaction_open(outbox_handlers, not_eager, transactional_db):
    # given a subscriber that notes whether a transaction is open while it runs
    org = factories.OrganizationFactory()
    seen = []
    outbox_handlers(TOPIC)(lambda event: seen.append(connection.in_atomic_block))
    outbox_emit(organization=org, topic=TOPIC)

    # when the relay delivers it
    relay()

    # then the subscriber could call the network without holding a transaction or its locks
    assert seen == [False]


# --- order per (subscriber, object) ---------------------------------------------------------


def test_order_per_object_holds_through_retries(org, outbox_handlers, not_eager):
    # given a subscriber whose first delivery fails once, and two events about one appointment
    # (booked, then cancelled) plus one about another object
    seen = []
    failures = {"left": 1}

    @outbox_handlers("x.booked", key="crm")
    @outbox_handlers("x.cancelled", key="crm")
    def crm(event):
        if event.topic == "x.booked" and failures["left"]:
            failures["left"] -= 1
            raise RetryableDeliveryError("timeout")
        seen.append((event.topic, event.aggregate_id))

    job, other = factories.JobFactory(organization=org), factories.JobFactory(organization=org)
    outbox_emit(organization=org, topic="x.booked", aggregate=job)
    outbox_emit(organization=org, topic="x.cancelled", aggregate=job)
    outbox_emit(organization=org, topic="x.booked", aggregate=other)

    # when the relay runs, the retry comes due, and it runs again
    relay()
    after_first = list(seen)
    make_due()
    relay()

    # then the cancellation waited for the booking of the same job; the other job was not held
    assert after_first == [("x.booked", str(other.pk))]
    assert seen == [
        ("x.booked", str(other.pk)),
        ("x.booked", str(job.pk)),
        ("x.cancelled", str(job.pk)),
    ]


# --- one retry policy -----------------------------------------------------------------------


def test_a_retryable_provider_error_is_retried_and_retry_after_honoured(
    org, outbox_handlers, not_eager
):
    # given subscribers failing with the HTTP client's typed errors
    @outbox_handlers(TOPIC, key="limited")
    def limited(event):
        raise RateLimited("Twilio is limiting us.", provider="twilio", retry_after=42)

    @outbox_handlers(TOPIC, key="down")
    def down(event):
        raise ProviderUnavailable("Twilio did not answer.", provider="twilio")

    @outbox_handlers(TOPIC, key="refused")
    def refused(event):
        raise ProviderRejected("Twilio refused it (400).", provider="twilio", status=400)

    event = outbox_emit(organization=org, topic=TOPIC)
    before = timezone.now()

    # when the relay runs
    relay()

    # then the rate limit waits what the provider asked, the outage backs off (15 s + jitter),
    # and the refusal is dead-lettered at once with its reason
    rate, outage, refusal = (delivery_of(event, key) for key in ("limited", "down", "refused"))
    for delivery in (rate, outage, refusal):
        delivery.refresh_from_db()
    assert rate.status == outage.status == Status.PENDING
    assert 41 <= (rate.next_attempt_at - before).total_seconds() <= 43
    assert 14 <= (outage.next_attempt_at - before).total_seconds() <= 20
    assert (refusal.status, refusal.attempts) == (Status.DEAD, 1)
    assert refusal.last_error == "ProviderRejected: Twilio refused it (400)."


def test_the_backoff_grows_and_the_last_attempt_dead_letters(
    org, outbox_handlers, settings, not_eager
):
    # given three attempts allowed and a subscriber that always times out
    settings.OUTBOX_MAX_ATTEMPTS = 3
    outbox_handlers(TOPIC, key="slow")(lambda event: (_ for _ in ()).throw(TimeoutError("slow")))
    delivery = delivery_of(outbox_emit(organization=org, topic=TOPIC), "slow")
    waits = []

    # when it is tried three times
    for _ in range(3):
        started = timezone.now()
        relay()
        delivery.refresh_from_db()
        waits.append((delivery.next_attempt_at - started).total_seconds())
        make_due(delivery)

    # then the waits double (15 s, 30 s with up to 25 % jitter) and the third try gives up
    assert 15 <= waits[0] <= 19
    assert 30 <= waits[1] <= 38
    assert (delivery.status, delivery.attempts) == (Status.DEAD, 3)
    assert delivery.last_error == "Gave up after 3 attempts. TimeoutError: slow"
    assert delivery.dead_at is not None


def test_a_soft_time_limit_is_a_retry_and_hands_the_rest_of_the_batch_back(
    org, outbox_handlers, not_eager
):
    # given three deliveries, the first cut by the task's soft time limit
    seen = []

    @outbox_handlers(TOPIC, key="sub")
    def sub(event):
        if event.payload["n"] == 0:
            raise SoftTimeLimitExceeded()
        seen.append(event.payload["n"])

    events = [outbox_emit(organization=org, topic=TOPIC, payload={"n": n}) for n in range(3)]

    # when the relay runs
    report = relay()

    # then the cut one will be retried (not dead), the relay stopped, the others are unleased
    first = delivery_of(events[0], "sub")
    assert state(first)[:2] == (Status.PENDING, 1)
    assert first.last_error.startswith("The attempt ran out of time")
    assert (report.stopped_early, seen) == (True, [])
    assert list(
        OutboxDelivery.objects.filter(event__in=events[1:]).values_list("lease_token", "attempts")
    ) == [("", 0), ("", 0)]

    # and the next relay delivers them
    relay()
    assert seen == [1, 2]


def test_an_unknown_subscriber_dead_letters_with_the_reason(org, outbox_handlers, not_eager):
    # given a delivery whose subscriber was removed from the code
    outbox_handlers(TOPIC, key="gone")(lambda event: None)
    event = outbox_emit(organization=org, topic=TOPIC)
    del outbox._subscribers["gone"]

    # when the relay runs
    relay()

    # then it is dead with a reason a person can act on
    assert state(delivery_of(event, "gone")) == (
        Status.DEAD,
        1,
        "LookupError: No subscriber named 'gone' is registered.",
    )


# --- dead letters and replay ----------------------------------------------------------------


def test_replay_puts_a_dead_delivery_back_with_a_fresh_attempt_budget(
    org, outbox_handlers, not_eager
):
    # given a dead delivery whose subscriber has since been fixed
    broken = {"yes": True}

    @outbox_handlers(TOPIC, key="sub")
    def sub(event):
        if broken["yes"]:
            raise ValueError("bad mapping")

    delivery = delivery_of(outbox_emit(organization=org, topic=TOPIC), "sub")
    relay()
    assert state(delivery)[:2] == (Status.DEAD, 1)
    broken["yes"] = False

    # when it is replayed and the relay runs
    outbox_replay(delivery=delivery)
    replayed = state(delivery)
    relay()

    # then it was pending again with the reason kept, and is now delivered
    assert replayed == (Status.PENDING, 0, "ValueError: bad mapping")
    assert state(delivery) == (Status.DELIVERED, 1, "")


# --- leases ---------------------------------------------------------------------------------


def test_a_leased_delivery_is_not_claimed_again_until_its_lease_runs_out(
    org, outbox_handlers, not_eager
):
    # given a delivery claimed by a relay that then died (never recorded an outcome)
    seen = []
    outbox_handlers(TOPIC, key="sub")(lambda event: seen.append(event.pk))
    event = outbox_emit(organization=org, topic=TOPIC)
    [claimed] = outbox_claim(limit=10, lease_seconds=60)

    # when another relay runs during the lease, then after it ran out
    during = relay()
    OutboxDelivery.objects.filter(pk=claimed.pk).update(
        leased_until=timezone.now() - dt.timedelta(seconds=1)
    )
    after = relay()

    # then only the second run delivered it, once
    assert (during.claimed, after.delivered, seen) == (0, 1, [event.pk])


def test_an_outcome_from_a_relay_that_lost_its_lease_is_not_recorded(
    org, outbox_handlers, not_eager
):
    # given a delivery claimed by a slow relay, whose lease ran out and was taken over
    outbox_handlers(TOPIC, key="sub")(lambda event: None)
    outbox_emit(organization=org, topic=TOPIC)
    [slow] = outbox_claim(limit=10, lease_seconds=60)
    OutboxDelivery.objects.filter(pk=slow.pk).update(
        leased_until=timezone.now() - dt.timedelta(seconds=1)
    )
    [fresh] = outbox_claim(limit=10, lease_seconds=60)

    # when the slow relay finishes after the new one delivered
    outbox.outbox_deliver(delivery=fresh)
    outbox.outbox_deliver(delivery=slow)

    # then one attempt is on record
    assert state(fresh) == (Status.DELIVERED, 1, "")
    assert OutboxDeliveryAttempt.objects.count() == 1


# --- purge ----------------------------------------------------------------------------------


def test_purge_deletes_old_finished_events_only(org, outbox_handlers, not_eager):
    # given old events: delivered, dead, never routed; and a recent delivered one
    outbox_handlers("t.ok", key="ok")(lambda event: None)
    outbox_handlers("t.bad", key="bad")(lambda event: (_ for _ in ()).throw(ValueError("no")))
    done = outbox_emit(organization=org, topic="t.ok")
    dead = outbox_emit(organization=org, topic="t.bad")
    unrouted = outbox_emit(organization=org, topic="t.nobody")
    relay()
    OutboxEvent.objects.update(created_at=timezone.now() - dt.timedelta(days=40))
    recent = outbox_emit(organization=org, topic="t.ok")
    relay()

    # when the purge runs with the 30-day retention
    deleted = outbox_purge()

    # then the old delivered and unrouted events are gone, the dead letter and recent one stay
    assert deleted == 2
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {dead.pk, recent.pk}
    assert not OutboxEvent.objects.filter(pk__in=[done.pk, unrouted.pk]).exists()


# --- concurrent relays (PostgreSQL: FOR UPDATE SKIP LOCKED) --------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_relays_never_deliver_twice(outbox_handlers, not_eager, settings):
    # given 120 events for two subscribers, and small batches
    settings.OUTBOX_BATCH_SIZE = 5
    org = factories.OrganizationFactory()
    deliveries: list[tuple[str, int, str]] = []
    record = threading.Lock()

    def subscriber(name):
        def handle(event):
            time.sleep(0.001)
            with record:
                deliveries.append((name, event.pk, threading.current_thread().name))

        return handle

    outbox_handlers(TOPIC, key="one")(subscriber("one"))
    outbox_handlers(TOPIC, key="two")(subscriber("two"))
    ids = [outbox_emit(organization=org, topic=TOPIC).pk for _ in range(120)]
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait(timeout=30)
            while relay().claimed:
                pass
        except Exception as exc:  # recorded and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, name=f"relay-{i}") for i in range(4)]

    # when four relays run at the same time until nothing is due
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then every (subscriber, event) was delivered exactly once, by relays side by side
    assert errors == []
    expected = {(name, pk): 1 for pk in ids for name in ("one", "two")}
    assert Counter((name, pk) for name, pk, _ in deliveries) == expected
    assert OutboxDelivery.objects.filter(status=Status.DELIVERED).count() == 240
    assert len({thread for _, _, thread in deliveries}) >= 2
