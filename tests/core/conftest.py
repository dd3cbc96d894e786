from __future__ import annotations

import pytest

from dispatchnode.core import services


@pytest.fixture
def outbox_handlers():
    """`outbox_register` for the test; the module-level registry is restored afterwards."""
    saved = {topic: list(funcs) for topic, funcs in services._handlers.items()}
    yield services.outbox_register
    services._handlers.clear()
    services._handlers.update(saved)


@pytest.fixture
def not_eager(settings):
    """Queue mode: `outbox_emit` schedules nothing on commit, as with a real broker."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    return settings
