"""Send the customers app's Celery tasks by their registered names.

The tasks sit on top of the app: they load rows and call the services. So the services and
intake below them never import `customers.tasks`; they send a task by name through here, and
the task module is never needed to queue work. The names are each task's `name=` in
`customers.tasks`: stable, because queued messages and the routes in `dispatchnode/celery.py`
carry them too. `customers.apps` imports the tasks at start-up, so every process knows them.
"""

from __future__ import annotations

from celery import current_app

LOCATION_GEOCODE = "customers.location_geocode"
ORGANIZATION_DEDUPE = "customers.organization_dedupe"


def task_send(name: str, *args: object) -> None:
    """Queue the task `name` with `args` (in inline mode it runs right here). Call it after
    the commit, from `transaction.on_commit`: the task reads rows this transaction writes."""
    current_app.tasks[name].delay(*args)
