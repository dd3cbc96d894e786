from celery import shared_task

from dispatchnode.core import services


@shared_task(name="core.outbox_relay", ignore_result=True)
def outbox_relay(limit: int = 100) -> int:
    """Deliver due outbox events. Safe to run concurrently and repeatedly."""
    return services.outbox_relay_batch(limit=limit)


@shared_task(name="core.outbox_purge_delivered", ignore_result=True)
def outbox_purge_delivered() -> int:
    return services.outbox_purge_delivered()
