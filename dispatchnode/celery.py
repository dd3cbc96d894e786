"""The Celery app: queues, reliability settings and the beat schedule, all defined here in code.

Reliability choices follow `shared/reference/reliability.md`: a task is acknowledged only after
it ran (`acks_late`) and is given back when its worker dies (`task_reject_on_worker_lost`), so
every task must be idempotent. The Redis visibility timeout is longer than any task time limit,
and far-future work is scheduled through beat or database rows, never long countdowns.

The two environment-dependent values (broker URL, eager mode) come from Django settings
(`CELERY_BROKER_URL`, `CELERY_TASK_ALWAYS_EAGER`): with TASKS=inline tasks run in-process.

Queues (docs/operations.md, "Queues and workers"), one worker service each in production:
`default` (short application work), `outbox` (the relay: texts, emails, syncs; never waits behind
anything else), `integrations` (third-party calls: geocoding, polling) and `routing`, the CPU
queue (OR-Tools plans and the batch dedupe), whose pool processes are recycled often.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")

TASK_SOFT_TIME_LIMIT = 5 * 60
TASK_TIME_LIMIT = 6 * 60
# Longer than the longest task and any countdown we allow, so Redis never redelivers live work.
VISIBILITY_TIMEOUT = 15 * 60

QUEUES = ("default", "outbox", "integrations", "routing")
# Queues whose tasks are CPU- and memory-heavy (numpy, OR-Tools): their workers recycle each pool
# process after CPU_MAX_TASKS_PER_CHILD tasks (docker-compose.yml, `make worker`), so a large
# run's memory goes back to the system. Every other worker recycles after MAX_TASKS_PER_CHILD.
CPU_QUEUES = ("routing",)
CPU_MAX_TASKS_PER_CHILD = 10
MAX_TASKS_PER_CHILD = 1000

BEAT_SCHEDULE = {
    # Commits kick the relay at once; this sweep picks up retries that came due and kicks
    # lost while the broker was down.
    "outbox-relay": {
        "task": "core.outbox_relay",
        "schedule": 10.0,
        "options": {"queue": "outbox", "expires": 30},
    },
    # Follow-ups (customers.followups): find what came due, then send it in local daytime.
    "followups-scan": {
        "task": "customers.followups_scan",
        "schedule": 5 * 60.0,
        "options": {"queue": "default", "expires": 4 * 60},
    },
    "followups-send": {
        "task": "customers.followups_send",
        "schedule": 60.0,
        "options": {"queue": "default", "expires": 50},
    },
    "outbox-purge": {
        "task": "core.outbox_purge",
        "schedule": 6 * 60 * 60.0,
        "options": {"queue": "outbox", "expires": 600},
    },
}

app = Celery("dispatchnode")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_ignore_result=True,
    task_eager_propagates=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    worker_max_tasks_per_child=MAX_TASKS_PER_CHILD,
    worker_cancel_long_running_tasks_on_connection_loss=True,
    task_soft_time_limit=TASK_SOFT_TIME_LIMIT,
    task_time_limit=TASK_TIME_LIMIT,
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "unacked_restore_interval": 5,
        "unacked_restore_throttle": 0.1,
        "unacked_mutex_expire": 60,
    },
    task_default_queue="default",
    task_queues=[Queue(name, Exchange(name), routing_key=name) for name in QUEUES],
    task_routes={
        "core.outbox_*": {"queue": "outbox"},
        "integrations.*": {"queue": "integrations"},
        "routing.*": {"queue": "routing"},
        # Geocoding calls a third-party provider: keep it off the default queue.
        "customers.location_geocode": {"queue": "integrations"},
        # The batch dedupe scores every candidate pair with numpy: the CPU queue, so it never
        # holds up texts, syncs or the default queue.
        "customers.organization_dedupe": {"queue": "routing"},
    },
    task_serializer="json",
    accept_content=["json"],
    timezone="UTC",
    enable_utc=True,
    beat_schedule=BEAT_SCHEDULE,
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks()


@worker_process_init.connect
def _close_inherited_db_connections(**kwargs) -> None:
    """A forked pool child must not share the parent's database socket."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()
