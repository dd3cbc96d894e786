"""Run modes: where Celery tasks run (TASKS), what DEBUG=0 requires, when manage.py and the
Makefile may switch debug on, and the deploy checks that name what is legal but wrong.

Whole-settings cases run `manage.py` in a subprocess with exactly the environment under test.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from django.core.checks import run_checks

from dispatchnode.core import checks
from tests.test_settings import ROOT, SETTINGS_VARIABLES, production_env, run_manage

REFUSAL = (
    "REDIS_URL is required when DEBUG is off: without a broker every task would run inside web "
    "requests. Set REDIS_URL=redis://host:6379/0 (and run the workers), or set TASKS=inline to "
    "run tasks in-process on purpose."
)


def production_without_redis() -> dict[str, str]:
    env = production_env()
    del env["REDIS_URL"]
    return env


def setting_value(name: str, result: subprocess.CompletedProcess) -> str:
    for line in result.stdout.splitlines():
        if line.startswith(f"{name} = "):
            return line.split(" = ", 1)[1].removesuffix("###").strip()
    raise AssertionError(f"{name} not in diffsettings output: {result.stdout[-500:]}")


# --- TASKS ------------------------------------------------------------------------------------


def test_debug_off_without_redis_url_refuses_to_start_and_says_why(tmp_path):
    result = run_manage("check", env=production_without_redis(), tmp_path=tmp_path)

    assert result.returncode != 0
    assert f"ConfigError: {REFUSAL}" in result.stderr


def test_the_refusal_is_django_improperly_configured():
    from django.core.exceptions import ImproperlyConfigured

    from dispatchnode.env import ConfigError, task_mode

    with pytest.raises(ImproperlyConfigured) as raised:
        task_mode(raw="", debug=False, redis_url="")

    assert isinstance(raised.value, ConfigError)
    assert str(raised.value) == REFUSAL


@pytest.mark.parametrize(
    ("raw", "debug", "redis_url", "expected"),
    [
        ("", True, "", "inline"),
        ("", True, "redis://127.0.0.1:6379/15", "broker"),
        ("", False, "redis://127.0.0.1:6379/15", "broker"),
        ("inline", True, "redis://127.0.0.1:6379/15", "inline"),
        (" Inline ", False, "", "inline"),
        ("broker", True, "redis://127.0.0.1:6379/15", "broker"),
    ],
)
def test_task_mode_defaults_and_explicit_choices(raw, debug, redis_url, expected):
    from dispatchnode.env import task_mode

    assert task_mode(raw=raw, debug=debug, redis_url=redis_url) == expected


def test_tasks_broker_without_redis_url_is_refused_even_in_debug(tmp_path):
    result = run_manage("check", env={"DEBUG": "1", "TASKS": "broker"}, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "TASKS=broker needs REDIS_URL" in result.stderr


def test_an_unknown_tasks_value_is_refused_by_name(tmp_path):
    result = run_manage("check", env={"DEBUG": "1", "TASKS": "threads"}, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "TASKS must be inline or broker, got 'threads'" in result.stderr


def test_debug_off_with_explicit_inline_starts_but_the_deploy_check_warns(tmp_path):
    env = {**production_without_redis(), "TASKS": "inline"}

    result = run_manage("check", "--deploy", env=env, tmp_path=tmp_path)
    strict = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "(dispatchnode.W001) TASKS=inline with DEBUG off" in result.stdout + result.stderr
    # with DEBUG off the start-up notice is a warning, said once
    assert (result.stdout + result.stderr).count("WARNING dispatchnode: TASKS=inline") == 1
    assert strict.returncode != 0


def test_the_default_mode_follows_debug_and_redis_url(tmp_path):
    bare = run_manage("diffsettings", env={"DEBUG": "1"}, tmp_path=tmp_path)
    with_redis = run_manage(
        "diffsettings",
        env={"DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/15"},
        tmp_path=tmp_path,
    )

    assert bare.returncode == with_redis.returncode == 0, bare.stderr + with_redis.stderr
    assert setting_value("TASKS", bare) == "'inline'"
    assert setting_value("CELERY_TASK_ALWAYS_EAGER", bare) == "True"
    assert setting_value("TASKS", with_redis) == "'broker'"
    assert setting_value("CELERY_TASK_ALWAYS_EAGER", with_redis) == "False"


# --- manage.py and the Makefile never switch debug on for a configured shell -----------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgres://dispatchnode:secret@db.internal:5432/dispatchnode"),
        ("ALLOWED_HOSTS", "dispatch.example.com"),
        ("REDIS_URL", "redis://redis.internal:6379/0"),
        ("SECRET_KEY", "k3y-" + "x7Qp2Lm9Vr4Tz8Wc1Nb6Hd3Fg5Js0Ky" * 2),
    ],
)
def test_manage_py_never_turns_debug_on_when_a_production_variable_is_set(tmp_path, name, value):
    # given a shell that lost DEBUG (and the other secrets) but still has one production value
    result = run_manage("diffsettings", env={name: value}, tmp_path=tmp_path)

    # then the production settings load and refuse, instead of a debug server on that value
    assert result.returncode != 0
    assert "DEBUG = True" not in result.stdout
    missing = "FIELD_ENCRYPTION_KEY" if name == "SECRET_KEY" else "SECRET_KEY"
    assert f"{missing} is required when DEBUG is off" in result.stderr


def make_debug(**env: str) -> str:
    """The DEBUG value the Makefile exports to its recipes, with exactly `env` set."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    clean.pop("MAKEFLAGS", None)
    clean.update(env)
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "--eval",
            'show-debug: ; @echo "DEBUG=[$${DEBUG-}]"',
            "show-debug",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_makefile_runs_a_bare_machine_in_debug():
    assert make_debug() == "DEBUG=[1]"


@pytest.mark.parametrize("name", ["DATABASE_URL", "ALLOWED_HOSTS", "SECRET_KEY", "REDIS_URL"])
def test_the_makefile_leaves_debug_alone_when_a_production_variable_is_set(name):
    assert make_debug(**{name: "set-by-the-deployment"}) == "DEBUG=[]"


def test_the_makefile_keeps_a_chosen_debug():
    assert make_debug(DEBUG="0") == "DEBUG=[0]"


# --- deploy checks ----------------------------------------------------------------------------


def deploy_ids() -> list[str]:
    return sorted(
        message.id for message in run_checks(include_deployment_checks=True, tags=[checks.TAG])
    )


def test_inline_tasks_with_debug_off_is_w001(settings):
    settings.DEBUG = False
    settings.TASKS = "inline"
    settings.ALLOWED_HOSTS = ["dispatch.example.com"]

    assert deploy_ids() == ["dispatchnode.W001"]


# The checks read settings.DATABASES; they never connect, so overriding it here is safe.
override_databases = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


@override_databases
def test_broker_mode_with_debug_off_passes(settings):
    settings.DEBUG = False
    settings.TASKS = "broker"
    settings.ALLOWED_HOSTS = ["dispatch.example.com"]
    settings.DATABASES = {
        **settings.DATABASES,
        "default": {**settings.DATABASES["default"], "HOST": "db.internal"},
    }

    assert deploy_ids() == []


@override_databases
def test_debug_with_a_remote_database_and_public_hosts_is_w002_and_w003(settings):
    settings.DEBUG = True
    settings.TASKS = "inline"
    settings.ALLOWED_HOSTS = ["localhost", "dispatch.example.com"]
    settings.DATABASES = {
        **settings.DATABASES,
        "default": {
            **settings.DATABASES["default"],
            "ENGINE": "django.db.backends.postgresql",
            "HOST": "db.internal",
        },
    }

    messages = run_checks(include_deployment_checks=True, tags=[checks.TAG])

    assert sorted(m.id for m in messages) == ["dispatchnode.W002", "dispatchnode.W003"]
    by_id = {m.id: m.msg for m in messages}
    assert "'db.internal'" in by_id["dispatchnode.W002"]
    assert "serves dispatch.example.com:" in by_id["dispatchnode.W003"]


@override_databases
@pytest.mark.parametrize("host", ["", "localhost", "127.0.0.1", "::1", "/var/run/postgresql"])
def test_debug_with_a_local_database_and_local_hosts_passes(settings, host):
    settings.DEBUG = True
    settings.TASKS = "inline"
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver", "app.localhost"]
    settings.DATABASES = {
        **settings.DATABASES,
        "default": {
            **settings.DATABASES["default"],
            "ENGINE": "django.db.backends.postgresql",
            "HOST": host,
        },
    }

    assert deploy_ids() == []


def test_the_checks_only_run_with_deploy(settings):
    settings.DEBUG = False
    settings.TASKS = "inline"

    assert [m.id for m in run_checks(tags=[checks.TAG])] == []
