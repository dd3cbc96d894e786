"""Configuration from the environment: the URL parser, typed readers and whole-settings start-ups.

Whole-settings cases run `manage.py` in a subprocess so the settings module is read afresh with
exactly the environment under test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from dispatchnode.env import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_database_url,
)

ROOT = Path(__file__).resolve().parent.parent
SQLITE_DEFAULT = Path("/srv/var/dispatchnode.sqlite3")

# Every variable the settings read, found in the source so that a new one cannot be forgotten
# in docker-compose.yml, .env.example or the README.
READ_BY_SETTINGS = sorted(
    set(
        re.findall(
            r'env_(?:str|bool|int|list)\(\s*"([A-Z][A-Z0-9_]*)"',
            (ROOT / "dispatchnode" / "settings.py").read_text(),
        )
    )
)
# Each subprocess starts from a clean slate of these.
SETTINGS_VARIABLES = (*READ_BY_SETTINGS, "DJANGO_SETTINGS_MODULE")
# Not for docker compose to set: the image fixes VAR_DIR (static files are collected there).
NOT_IN_COMPOSE = {"VAR_DIR"}
# docker-compose.yml sets these itself (production mode, the postgres and redis services).
FIXED_BY_COMPOSE = {"DEBUG", "DATABASE_URL", "REDIS_URL", "TASKS"}
# The services that run the application image, each with the whole environment.
APP_SERVICES = (
    "migrate",
    "web",
    "worker-default",
    "worker-outbox",
    "worker-integrations",
    "worker-routing",
    "beat",
)

IN_PROCESS_NOTICE = "Celery tasks run in-process"


def run_manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    clean.update({"VAR_DIR": str(tmp_path / "var"), "LOG_LEVEL": "INFO"})
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_env() -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": "k3y-" + "x7Qp2Lm9Vr4Tz8Wc1Nb6Hd3Fg5Js0Ky" * 2,  # 68 varied characters
        "ALLOWED_HOSTS": "dispatch.example.com",
        "PUBLIC_BASE_URL": "https://dispatch.example.com",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgres://dispatchnode:secret@db.internal:5432/dispatchnode",
        "REDIS_URL": "redis://redis.internal:6379/0",
    }


# --- parse_database_url ---------------------------------------------------------------------


def test_postgres_url_with_user_password_port_and_sslmode():
    config = parse_database_url(
        "postgres://dispatch:p%40ss%2Fword@db.example.com:6543/dispatch_prod?sslmode=require",
        sqlite_default=SQLITE_DEFAULT,
    )

    assert config.engine == "django.db.backends.postgresql"
    assert config.name == "dispatch_prod"
    assert config.user == "dispatch"
    assert config.password == "p@ss/word"
    assert config.host == "db.example.com"
    assert config.port == "6543"
    assert config.options == {"sslmode": "require"}
    assert config.is_sqlite is False


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_postgres_scheme_aliases_without_credentials(scheme):
    config = parse_database_url(f"{scheme}://127.0.0.1/dispatchnode", sqlite_default=SQLITE_DEFAULT)

    assert config.engine == "django.db.backends.postgresql"
    assert (config.name, config.user, config.password) == ("dispatchnode", "", "")
    assert (config.host, config.port, config.options) == ("127.0.0.1", "", {})


def test_postgres_url_without_database_name_is_refused():
    with pytest.raises(ConfigError, match="names no database"):
        parse_database_url("postgres://db.example.com:5432/", sqlite_default=SQLITE_DEFAULT)


def test_sqlite_relative_path():
    config = parse_database_url("sqlite:///var/local.sqlite3", sqlite_default=SQLITE_DEFAULT)

    assert config.engine == "django.db.backends.sqlite3"
    assert config.name == "var/local.sqlite3"
    assert config.is_sqlite is True


def test_sqlite_absolute_path():
    config = parse_database_url("sqlite:////srv/data/db.sqlite3", sqlite_default=SQLITE_DEFAULT)

    assert config.engine == "django.db.backends.sqlite3"
    assert config.name == "/srv/data/db.sqlite3"


def test_empty_url_means_the_sqlite_default():
    config = parse_database_url("", sqlite_default=SQLITE_DEFAULT)

    assert config.engine == "django.db.backends.sqlite3"
    assert config.name == str(SQLITE_DEFAULT)
    assert config.is_sqlite is True


@pytest.mark.parametrize(
    "url", ["mysql://root@127.0.0.1/dispatch", "redis://127.0.0.1:6379/0", "oracle://x/y"]
)
def test_unsupported_scheme_is_a_config_error(url):
    with pytest.raises(ConfigError, match="is not supported"):
        parse_database_url(url, sqlite_default=SQLITE_DEFAULT)


# --- typed readers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), (" Yes ", True), ("on", True), ("0", False), ("off", False)],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("DN_TEST_FLAG", raw)

    assert env_bool("DN_TEST_FLAG") is expected


def test_env_bool_unset_gives_the_default(monkeypatch):
    monkeypatch.delenv("DN_TEST_FLAG", raising=False)

    assert env_bool("DN_TEST_FLAG", default=True) is True


def test_env_bool_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("DN_TEST_FLAG", "maybe")

    with pytest.raises(ConfigError, match=r"DN_TEST_FLAG must be a boolean .*'maybe'"):
        env_bool("DN_TEST_FLAG")


def test_env_int_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("DN_TEST_NUMBER", "ten")

    with pytest.raises(ConfigError, match="DN_TEST_NUMBER must be an integer"):
        env_int("DN_TEST_NUMBER", 3)


def test_empty_values_mean_the_default(monkeypatch):
    # docker-compose passes `${VAR:-}` as an empty string; that must not override a default.
    for name in ("DN_TEST_STR", "DN_TEST_FLAG", "DN_TEST_LIST", "DN_TEST_NUMBER"):
        monkeypatch.setenv(name, "  ")

    assert env_str("DN_TEST_STR", "fallback") == "fallback"
    assert env_bool("DN_TEST_FLAG", default=True) is True
    assert env_list("DN_TEST_LIST", ["a.example.com"]) == ["a.example.com"]
    assert env_int("DN_TEST_NUMBER", 7) == 7


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("DN_TEST_LIST", " a.example.com, ,b.example.com ")

    assert env_list("DN_TEST_LIST") == ["a.example.com", "b.example.com"]


# --- whole settings, in a subprocess ------------------------------------------------------


def test_production_env_passes_check_deploy_without_warnings(tmp_path):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(), tmp_path=tmp_path
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_env_with_optional_variables_empty_still_passes(tmp_path):
    # What docker-compose.yml passes when .env leaves the optional values out.
    env = {
        name: "" for name in SETTINGS_VARIABLES if name not in {"DJANGO_SETTINGS_MODULE", "VAR_DIR"}
    }
    env.update(production_env())

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_without_secret_key_refuses_to_start(tmp_path):
    env = production_env()
    del env["SECRET_KEY"]

    result = run_manage("check", env=env, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "ConfigError" in result.stderr
    assert "SECRET_KEY is required" in result.stderr


def test_manage_py_on_a_bare_shell_runs_in_local_debug_mode(tmp_path):
    # Neither DEBUG nor SECRET_KEY: a developer's shell, as `make` treats it.
    result = run_manage("diffsettings", env={}, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "DEBUG = True" in result.stdout


def test_manage_py_with_a_secret_key_is_never_put_in_debug_mode(tmp_path):
    env = production_env()
    del env["DEBUG"]

    result = run_manage("diffsettings", env=env, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "DEBUG = True" not in result.stdout


def test_production_without_field_encryption_key_refuses_to_start(tmp_path):
    env = production_env()
    del env["FIELD_ENCRYPTION_KEY"]

    result = run_manage("check", env=env, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY is required" in result.stderr


def test_bad_boolean_in_the_environment_fails_at_start_up(tmp_path):
    result = run_manage("check", env={"DEBUG": "sometimes"}, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_without_redis_url_start_up_says_once_that_tasks_run_in_process(tmp_path):
    result = run_manage("check", env={"DEBUG": "1"}, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert (result.stdout + result.stderr).count(IN_PROCESS_NOTICE) == 1


def test_with_redis_url_start_up_says_nothing_about_in_process_tasks(tmp_path):
    result = run_manage(
        "check", env={"DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/15"}, tmp_path=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert IN_PROCESS_NOTICE not in result.stdout + result.stderr


# --- the deployment files agree with the settings -----------------------------------------


def test_settings_read_the_documented_core_variables():
    expected = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"}
    expected |= {"PUBLIC_BASE_URL", "FIELD_ENCRYPTION_KEY", "EMAIL_HOST", "VAR_DIR"}

    assert expected <= set(READ_BY_SETTINGS)


def test_every_variable_is_in_the_readme_table_and_env_example():
    readme = (ROOT / "README.md").read_text()
    env_example = (ROOT / ".env.example").read_text()

    for name in READ_BY_SETTINGS:
        assert f"`{name}`" in readme, f"{name} missing from README.md's configuration table"
        if name not in NOT_IN_COMPOSE | FIXED_BY_COMPOSE:
            assert re.search(rf"^{name}=", env_example, re.M), f"{name} missing from .env.example"


def test_docker_compose_gives_every_app_service_the_settings_variables():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    assert set(services) == {"postgres", "redis", *APP_SERVICES}
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        missing = set(READ_BY_SETTINGS) - NOT_IN_COMPOSE - set(environment)
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert environment["DEBUG"] == "0"
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["TASKS"] == "broker"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["DATABASE_URL"].endswith("@postgres:5432/${POSTGRES_DB:-dispatchnode}")


def test_docker_compose_services_are_wired_for_production():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

    redis_command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_command
    assert "--maxmemory-policy noeviction" in redis_command
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    for queue in ("default", "outbox", "integrations", "routing"):
        worker = services[f"worker-{queue}"]["command"]
        assert worker[worker.index("-Q") + 1] == queue
        assert "inspect ping" in " ".join(services[f"worker-{queue}"]["healthcheck"]["test"])
    assert "beat" in services["beat"]["command"]
    for name in APP_SERVICES[1:]:
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
