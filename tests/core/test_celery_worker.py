"""A real Celery worker on Redis relays the outbox (no eager mode, no mocks)."""

from __future__ import annotations

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from dispatchnode.celery import app
from dispatchnode.core.models import OutboxDelivery
from dispatchnode.core.outbox import outbox_emit
from dispatchnode.core.tasks import outbox_relay
from tests import factories

TOPIC = "test.worker"
WAIT_SECONDS = 20


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_an_outbox_event_through_redis(broker_for_tests, outbox_handlers):
    # given queue mode, a handler and a committed event
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    assert app.conf.task_always_eager is False
    ran_in: list[str] = []
    outbox_handlers(TOPIC)(lambda event: ran_in.append(threading.current_thread().name))
    event = outbox_emit(organization=factories.OrganizationFactory(), topic=TOPIC)
    delivery = OutboxDelivery.objects.get(event=event)

    # when a worker runs in a thread and the relay task is sent through the broker
    with start_worker(app, perform_ping_check=False, queues=["outbox"], shutdown_timeout=20):
        outbox_relay.delay()
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            delivery.refresh_from_db()
            if delivery.status != OutboxDelivery.Status.PENDING:
                break
            time.sleep(0.1)

    # then the worker (not this thread) ran the handler and the row is delivered
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        OutboxDelivery.Status.DELIVERED,
        1,
        "",
    )
    assert len(ran_in) == 1
    assert ran_in != [threading.current_thread().name]
