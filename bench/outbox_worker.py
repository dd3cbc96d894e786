"""The Celery app for `bench/outbox.py`'s workers: ours, plus the bench's three subscribers."""

from dispatchnode.celery import app

app.conf.imports = ("bench.outbox_subscribers",)

__all__ = ["app"]
