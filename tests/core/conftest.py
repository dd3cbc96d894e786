from __future__ import annotations

import itertools

import pytest

from dispatchnode.core import outbox


@pytest.fixture
def outbox_handlers():
    """`outbox_handlers(topic, key=...)` subscribes a function for the test; each gets its own
    key unless one is given. The module-level registry is restored afterwards."""
    saved = dict(outbox._subscribers)
    counter = itertools.count(1)

    def register(topic: str, *, key: str = ""):
        return outbox.outbox_register(topic, key=key or f"test.subscriber-{next(counter)}")

    yield register
    outbox._subscribers.clear()
    outbox._subscribers.update(saved)


@pytest.fixture
def not_eager(settings):
    """Broker mode: the kick on commit enqueues a task (to the in-memory broker in tests)
    instead of delivering in-process, so a test runs the relay itself."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    return settings
