"""Deploy checks (`manage.py check --deploy`): the run-mode mistakes the settings cannot refuse.

The settings already refuse to start with DEBUG off and no broker. What is left is legal but
wrong for a deployment, and is named here:

- `dispatchnode.W001`: TASKS=inline with DEBUG off. Every task (the outbox relay, texts, syncs,
  a dedupe run) runs inside the request that queued it, for all tenants, Twilio webhooks included.
- `dispatchnode.W002`: DEBUG on while DATABASE_URL points at a database on another host.
- `dispatchnode.W003`: DEBUG on while ALLOWED_HOSTS names a host other than this machine.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register

TAG = "dispatchnode"
# Hosts that mean "this machine": a database or a site there is a developer's, not production.
LOCAL_DATABASE_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})
LOCAL_SITE_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1", "testserver"})


def is_local_database_host(host: str) -> bool:
    """Loopback, or a Unix socket directory (`/var/run/postgresql`)."""
    return host in LOCAL_DATABASE_HOSTS or host.startswith("/")


def is_local_site_host(host: str) -> bool:
    host = host.lower()
    return host in LOCAL_SITE_HOSTS or host.rstrip(".").endswith(".localhost")


@register(TAG, deploy=True)
def inline_tasks_without_debug(app_configs=None, **kwargs) -> list[Warning]:
    if settings.DEBUG or settings.TASKS != "inline":
        return []
    return [
        Warning(
            "TASKS=inline with DEBUG off: every Celery task runs inside the web request that "
            "queued it, for all tenants, Twilio webhooks included.",
            hint="Set REDIS_URL (TASKS=broker) and run one worker per queue and one beat "
            "(docs/operations.md, 'Queues and workers').",
            id="dispatchnode.W001",
        )
    ]


@register(TAG, deploy=True)
def debug_with_production_database(app_configs=None, **kwargs) -> list[Warning]:
    if not settings.DEBUG:
        return []
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        return []
    host = database.get("HOST", "")
    if is_local_database_host(host):
        return []
    return [
        Warning(
            f"DEBUG is on while DATABASE_URL points at the database on {host!r}: tracebacks with "
            "its data are shown to anyone who triggers an error.",
            hint="Set DEBUG=0 (with SECRET_KEY, FIELD_ENCRYPTION_KEY and REDIS_URL) for a "
            "deployment; develop against a local database.",
            id="dispatchnode.W002",
        )
    ]


@register(TAG, deploy=True)
def debug_with_production_hosts(app_configs=None, **kwargs) -> list[Warning]:
    if not settings.DEBUG:
        return []
    public = [host for host in settings.ALLOWED_HOSTS if not is_local_site_host(host)]
    if not public:
        return []
    return [
        Warning(
            f"DEBUG is on while ALLOWED_HOSTS serves {', '.join(public)}: a public site would "
            "show tracebacks and settings to its visitors.",
            hint="Set DEBUG=0 for a deployment; keep DEBUG=1 for localhost only.",
            id="dispatchnode.W003",
        )
    ]
