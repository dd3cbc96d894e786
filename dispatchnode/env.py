"""The one place that reads configuration from the environment.

Every setting the deployment can change is read here, typed and validated, so a bad value fails
at start-up with a message naming the variable instead of somewhere deep in a request.
An empty value counts as unset, so `FOO=` in a .env file or `FOO: ${FOO:-}` in
docker-compose.yml means "use the default", never "the empty string".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


class ConfigError(ImproperlyConfigured):
    """A configuration value is missing or malformed (Django's `ImproperlyConfigured`, named)."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


@dataclass(frozen=True)
class DatabaseConfig:
    engine: str
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: dict | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine == "django.db.backends.sqlite3"


def parse_database_url(url: str, *, sqlite_default: Path) -> DatabaseConfig:
    """`postgres://user:pass@host:5432/name?sslmode=require` or `sqlite:///path`; empty → SQLite."""
    if not url:
        return DatabaseConfig(engine="django.db.backends.sqlite3", name=str(sqlite_default))
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parsed.path.lstrip("/"))
        if not name:
            raise ConfigError("DATABASE_URL names no database (postgres://host:5432/NAME)")
        options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        return DatabaseConfig(
            engine="django.db.backends.postgresql",
            name=name,
            user=unquote(parsed.username or ""),
            password=unquote(parsed.password or ""),
            host=parsed.hostname or "",
            port=str(parsed.port or ""),
            options=options,
        )
    if scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path
        path = parsed.path[1:] if parsed.path.startswith("//") else parsed.path.lstrip("/")
        if parsed.path.startswith("//"):
            path = "/" + parsed.path.lstrip("/")
        if not path:
            raise ConfigError("DATABASE_URL for SQLite needs a path: sqlite:////abs/path.sqlite3")
        return DatabaseConfig(engine="django.db.backends.sqlite3", name=path)
    raise ConfigError(
        f"DATABASE_URL scheme {scheme!r} is not supported; use postgres:// or sqlite:///"
    )


def voice_brain_check(*, brain: str, base_url: str, timeout: str) -> float:
    """Validate the voice brain variables; return LLM_TIMEOUT_SECONDS in seconds."""
    if brain not in ("rule", "llm"):
        raise ConfigError(f"VOICE_BRAIN must be rule or llm, got {brain!r}")
    if brain == "llm" and not base_url:
        raise ConfigError(
            "VOICE_BRAIN=llm needs LLM_BASE_URL, the OpenAI-compatible API base "
            "(e.g. http://127.0.0.1:11434/v1)"
        )
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"LLM_BASE_URL must be an http:// or https:// URL, got {base_url!r}")
    try:
        seconds = float(timeout)
    except ValueError as exc:
        raise ConfigError(f"LLM_TIMEOUT_SECONDS must be a number, got {timeout!r}") from exc
    if not 0 < seconds < float("inf"):
        raise ConfigError(
            f"LLM_TIMEOUT_SECONDS must be a positive number of seconds, got {timeout!r}"
        )
    return seconds


TASK_MODES = ("inline", "broker")


def task_mode(*, raw: str, debug: bool, redis_url: str) -> str:
    """`TASKS`: where Celery tasks run. "inline": in the process that queued them, right away
    (development, tests, a one-process demo); "broker": sent to Redis for the workers.

    Unset means "inline" only with DEBUG on and no REDIS_URL, else "broker". "broker" needs
    REDIS_URL; with DEBUG off a missing REDIS_URL is refused rather than silently running every
    tenant's tasks inside web requests. TASKS=inline with DEBUG off is the explicit opt-in for
    that (the deploy check `dispatchnode.W001` still warns about it).
    """
    mode = (raw or ("inline" if debug and not redis_url else "broker")).strip().lower()
    if mode not in TASK_MODES:
        raise ConfigError(f"TASKS must be inline or broker, got {raw!r}")
    if mode == "broker" and not redis_url:
        if debug:
            raise ConfigError("TASKS=broker needs REDIS_URL (redis://host:6379/0)")
        raise ConfigError(
            "REDIS_URL is required when DEBUG is off: without a broker every task would run "
            "inside web requests. Set REDIS_URL=redis://host:6379/0 (and run the workers), or "
            "set TASKS=inline to run tasks in-process on purpose."
        )
    return mode
