"""Celery tasks of the shared kernel: the outbox relay (kicked on commit, swept by beat)."""

from __future__ import annotations

from celery import shared_task

from dispatchnode.core import outbox

# Below the global soft limit (celery.py) and the outbox lease: a relay stops taking new
# deliveries after OUTBOX_RELAY_SECONDS and hands the rest back.
RELAY_SOFT_TIME_LIMIT = 240
RELAY_TIME_LIMIT = 270


@shared_task(
    name="core.outbox_relay",
    ignore_result=True,
    soft_time_limit=RELAY_SOFT_TIME_LIMIT,
    time_limit=RELAY_TIME_LIMIT,
    tenant_unscoped="the outbox relay delivers every organisation's events",
)
def outbox_relay() -> int:
    """Deliver due outbox deliveries. Safe to run concurrently and repeatedly."""
    return outbox.outbox_relay_run().delivered


@shared_task(
    name="core.outbox_purge",
    ignore_result=True,
    tenant_unscoped="the purge removes every organisation's old delivered events",
)
def outbox_purge() -> int:
    return outbox.outbox_purge()
