"""A real Celery worker process, killed with SIGKILL in the middle of a batch of texts, and
restarted: every booking's text reaches the (local, slow) Twilio fake exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from customers.messaging import sms_queue
from customers.models import Message
from dispatchnode.core.models import OutboxDelivery
from dispatchnode.core.tasks import outbox_relay
from tests import factories
from tests.fakes.twilio_rest import FakeTwilioRest

ROOT = Path(__file__).resolve().parents[2]
TEXTS = 8


@pytest.fixture
def twilio():
    server = FakeTwilioRest()
    server.slow_seconds = 0.4  # every answer comes late: the worker dies while one is in flight
    server.fail("slow")
    server.start()
    yield server
    server.stop()


def start_worker(twilio: FakeTwilioRest) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "SMS_BACKEND": "twilio",
        "TWILIO_API_BASE_URL": twilio.url,
        "PUBLIC_BASE_URL": "",
        "OUTBOX_LEASE_SECONDS": "3",
        "OUTBOX_BATCH_SIZE": "20",
    }
    env.pop("TASKS", None)
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "dispatchnode", "worker", "-Q", "outbox"),
            *("--concurrency", "1", "--pool", "prefork", "--loglevel", "WARNING"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group: the kill takes the pool child too
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, *, seconds: float, kick: bool = False) -> bool:
    deadline = time.monotonic() + seconds
    next_kick = 0.0
    while time.monotonic() < deadline:
        if condition():
            return True
        if kick and time.monotonic() >= next_kick:
            outbox_relay.apply_async(queue="outbox")  # what beat's sweep does
            next_kick = time.monotonic() + 1.0
        time.sleep(0.05)
    return condition()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_texts_nobody_twice(twilio, broker_for_tests, settings):
    # given eight confirmation texts committed, to eight callers, in broker mode
    settings.CELERY_TASK_ALWAYS_EAGER = False
    org = factories.OrganizationFactory(
        twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token
    )
    factories.PhoneNumberFactory(organization=org, e164="+15125550100")
    messages = [
        sms_queue(organization=org, to=f"+1512555{n:04d}", body=f"Booked, job {n}.")
        for n in range(201, 201 + TEXTS)
    ]

    # when a worker takes the batch and is killed with SIGKILL after the third text
    worker = start_worker(twilio)
    try:
        assert wait_for(lambda: len(twilio.messages) >= 3, seconds=60, kick=True)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        at_kill = len(twilio.messages)

        # and a new worker is started and the sweep goes on kicking the relay
        worker = start_worker(twilio)
        # (a message holds its sid as soon as Twilio answers; the delivery's outcome is
        # recorded just after, in a transaction of its own, so wait for both)
        assert wait_for(
            lambda: (
                not Message.objects.filter(organization=org, provider_message_id="").exists()
                and not OutboxDelivery.objects.filter(organization=org)
                .exclude(status=OutboxDelivery.Status.DELIVERED)
                .exists()
            ),
            seconds=90,
            kick=True,
        )
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)

    # then Twilio received each text exactly once, and each message holds Twilio's sid
    assert at_kill < TEXTS
    assert Counter(m["to"] for m in twilio.messages) == {m.to_address: 1 for m in messages}
    sids = {m["to"]: m["sid"] for m in twilio.messages}
    assert (
        dict(
            Message.objects.filter(organization=org).values_list(
                "to_address", "provider_message_id"
            )
        )
        == sids
    )
    assert set(
        OutboxDelivery.objects.filter(organization=org).values_list("status", flat=True)
    ) == {OutboxDelivery.Status.DELIVERED}
