import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger("dispatchnode")


class CoreConfig(AppConfig):
    name = "dispatchnode.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from dispatchnode.core import checks  # noqa: F401  (registers the deploy checks)
        from dispatchnode.core.scoping import connect_task_signals

        connect_task_signals()  # every Celery task is a tenant entry point
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            log = logger.info if settings.DEBUG else logger.warning
            log(
                "TASKS=inline: Celery tasks run in-process, inside the request that queued them. "
                "Set REDIS_URL (TASKS=broker) and run `make worker` and `make beat` for a real "
                "queue."
            )
