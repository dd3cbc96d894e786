"""The Celery app keeps the reliability settings of `shared/reference/reliability.md`.

Losing a task when a worker dies, or running a task twice because Redis handed it out again
while it was still running, are the failures these settings prevent; each is pinned here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from dispatchnode import celery as celery_module
from dispatchnode.celery import app

ROOT = Path(__file__).resolve().parent.parent
QUEUES = {"default", "outbox", "integrations", "routing"}


@pytest.fixture(scope="module")
def registered_tasks() -> set[str]:
    app.loader.import_default_modules()
    return set(app.tasks)


def test_tasks_are_acknowledged_late_and_rejected_when_the_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is True


def test_time_limits_are_set_and_soft_comes_first():
    soft, hard = app.conf.task_soft_time_limit, app.conf.task_time_limit

    assert soft is not None
    assert hard is not None
    assert 0 < soft < hard


def test_visibility_timeout_outlives_the_longest_task():
    options = app.conf.broker_transport_options

    assert options["visibility_timeout"] > app.conf.task_time_limit
    assert options["visibility_timeout"] == celery_module.VISIBILITY_TIMEOUT
    # Abandoned tasks come back within seconds, not kombu's default ~100 s sweep.
    assert options["unacked_restore_interval"] <= 10


def test_the_three_queues_are_declared_and_default_is_the_default():
    assert {queue.name for queue in app.conf.task_queues} == QUEUES
    assert app.conf.task_default_queue == "default"


def test_task_routes_only_name_declared_queues():
    routed_to = {route["queue"] for route in app.conf.task_routes.values()}

    assert routed_to <= QUEUES


def test_beat_schedule_names_registered_tasks_on_declared_queues(registered_tasks):
    schedule = app.conf.beat_schedule

    assert schedule, "the beat schedule is defined in code and is not empty"
    for entry_name, entry in schedule.items():
        assert entry["task"] in registered_tasks, f"{entry_name}: {entry['task']} not registered"
        assert entry.get("options", {}).get("queue", "default") in QUEUES, entry_name


def test_beat_has_the_outbox_relay(registered_tasks):
    relay = [entry for entry in app.conf.beat_schedule.values() if entry["task"].endswith("relay")]

    assert [entry["task"] for entry in relay] == ["core.outbox_relay"]
    assert relay[0]["schedule"] <= 60


def test_no_project_task_opts_out_of_late_acks(registered_tasks):
    ours = sorted(name for name in registered_tasks if not name.startswith("celery."))

    assert ours, "the project registers tasks"
    for name in ours:
        task = app.tasks[name]
        assert task.acks_late is True, name
        assert task.reject_on_worker_lost is True, name


def test_periodic_entries_expire_before_redis_would_redeliver_them():
    # Far-future work goes through beat or database rows (reliability.md): every periodic entry
    # expires well before Redis would hand the message out a second time.
    for entry_name, entry in app.conf.beat_schedule.items():
        expires = entry.get("options", {}).get("expires")
        assert expires is not None, entry_name
        assert expires < celery_module.VISIBILITY_TIMEOUT, entry_name


def test_eager_in_this_process_exactly_in_inline_mode():
    assert app.conf.task_always_eager is (settings.TASKS == "inline")


def celery_mode(env_overrides: dict[str, str], tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "TASKS"}}
    env.update({"DEBUG": "1", "VAR_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"})
    env.pop("SECRET_KEY", None)
    env.update(env_overrides)
    code = (
        "import json, django; django.setup(); "
        "from dispatchnode.celery import app; "
        "print(json.dumps({'eager': app.conf.task_always_eager, 'broker': app.conf.broker_url}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_redis_url_tasks_run_eagerly_in_process(tmp_path):
    assert celery_mode({}, tmp_path) == {"eager": True, "broker": "memory://"}


def test_with_redis_url_tasks_go_to_the_broker(tmp_path):
    mode = celery_mode({"REDIS_URL": "redis://127.0.0.1:6379/15"}, tmp_path)

    assert mode == {"eager": False, "broker": "redis://127.0.0.1:6379/15"}


def test_tasks_inline_runs_in_process_even_with_a_broker(tmp_path):
    mode = celery_mode({"REDIS_URL": "redis://127.0.0.1:6379/15", "TASKS": "inline"}, tmp_path)

    assert mode == {"eager": True, "broker": "redis://127.0.0.1:6379/15"}


def test_the_batch_dedupe_runs_on_the_cpu_queue_whose_children_are_recycled():
    assert app.conf.task_routes["customers.organization_dedupe"] == {"queue": "routing"}
    assert set(celery_module.CPU_QUEUES) == {"routing"}
    assert app.conf.worker_max_tasks_per_child > celery_module.CPU_MAX_TASKS_PER_CHILD
    assert app.conf.worker_max_tasks_per_child == celery_module.MAX_TASKS_PER_CHILD
