"""One worker per queue: docker-compose.yml and `make worker` consume exactly the queues that
`dispatchnode.celery.QUEUES` declares, each once, and the CPU queue recycles its processes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from dispatchnode.celery import CPU_MAX_TASKS_PER_CHILD, CPU_QUEUES, QUEUES
from tests.test_settings import ROOT, SETTINGS_VARIABLES

COMPOSE = ROOT / "docker-compose.yml"


def compose_services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def celery_role(command: list[str]) -> str | None:
    """The role ("worker" or "beat") of a `celery -A dispatchnode <role>` command, else None."""
    if command[:3] != ["celery", "-A", "dispatchnode"]:
        return None
    return command[3]


def option(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


def worker_services() -> dict[str, list[str]]:
    return {
        name: service["command"]
        for name, service in compose_services().items()
        if celery_role(service.get("command") or []) == "worker"
    }


def test_every_queue_has_exactly_one_compose_worker_service():
    # given
    consumers: dict[str, list[str]] = {}
    for name, command in worker_services().items():
        for queue in option(command, "-Q").split(","):
            consumers.setdefault(queue, []).append(name)

    # then: every declared queue once, no undeclared queue
    assert consumers == {queue: [f"worker-{queue}"] for queue in QUEUES}


def test_there_is_one_beat_and_it_is_not_a_worker():
    beats = [
        name
        for name, service in compose_services().items()
        if celery_role(service.get("command") or []) == "beat"
    ]

    assert beats == ["beat"]


def test_each_worker_has_its_own_concurrency_variable():
    variables = {
        name: re.fullmatch(r"\$\{(CELERY_[A-Z]+_CONCURRENCY):-\d+\}", option(cmd, "--concurrency"))
        for name, cmd in worker_services().items()
    }

    assert all(variables.values()), variables
    names = [match.group(1) for match in variables.values()]
    assert sorted(names) == sorted(f"CELERY_{queue.upper()}_CONCURRENCY" for queue in QUEUES)


def test_cpu_queue_workers_recycle_their_processes_and_the_others_use_the_app_default():
    for name, command in worker_services().items():
        queue = option(command, "-Q")
        limit = option(command, "--max-tasks-per-child")
        if queue in CPU_QUEUES:
            assert limit is not None, name
            default = re.fullmatch(r"\$\{[A-Z_]+:-(\d+)\}", limit)
            assert default is not None, limit
            assert int(default.group(1)) == CPU_MAX_TASKS_PER_CHILD
        else:
            assert limit is None, name


def test_docker_compose_config_accepts_the_file(tmp_path):
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed")
    version = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=30, check=False
    )
    if version.returncode != 0:
        pytest.skip("docker has no compose plugin")
    env = {**os.environ, "SECRET_KEY": "x", "POSTGRES_PASSWORD": "x"}

    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--services"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )

    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert {f"worker-{queue}" for queue in QUEUES} | {"beat", "web"} <= services


def make_worker_command(*args: str) -> str:
    """What `make -n worker` would execute, with REDIS_URL set and nothing else configured."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.pop("MAKEFLAGS", None)
    env.update({"REDIS_URL": "redis://127.0.0.1:6379/15", "DEBUG": "1"})
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "worker", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    joined = result.stdout.replace("\\\n", " ")
    [line] = [line for line in joined.splitlines() if "celery -A dispatchnode worker" in line]
    return line


def test_make_worker_consumes_every_queue_by_default():
    command = make_worker_command().split()

    assert option(command, "-Q") == ",".join(QUEUES)
    assert "--max-tasks-per-child" not in command


def test_make_worker_takes_one_queue_and_a_recycling_limit():
    command = make_worker_command("QUEUES=routing", "MAX_TASKS_PER_CHILD=10").split()

    assert option(command, "-Q") == "routing"
    assert option(command, "--hostname") == "routing@%h"
    assert option(command, "--max-tasks-per-child") == "10"
