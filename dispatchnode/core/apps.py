import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger("dispatchnode")


class CoreConfig(AppConfig):
    name = "dispatchnode.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from dispatchnode.core.scoping import connect_task_signals

        connect_task_signals()  # every Celery task is a tenant entry point
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            logger.info(
                "REDIS_URL is not set: Celery tasks run in-process (embedded mode). "
                "Set REDIS_URL and run `make worker` and `make beat` for a real queue."
            )
