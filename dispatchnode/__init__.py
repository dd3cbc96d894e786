"""DispatchNode: the project package (settings, urls, the Celery app, accounts, core and api)."""

from dispatchnode.celery import app as celery_app

__all__ = ["celery_app"]
