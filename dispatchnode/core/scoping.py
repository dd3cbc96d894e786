"""The active tenant scope: which organisation's rows `TenantModel.objects` may return.

One context variable holds the scope of the running code:

- inside `tenant_scope(organization)`: every default-manager queryset of a `TenantModel` is
  filtered to that organisation;
- inside `tenant_unscoped(reason)`: unfiltered, on purpose (cross-tenant sweeps, resolving which
  organisation a request or task belongs to); the reason is kept for errors and reviews;
- outside any block: unfiltered, unless an *entry point* (the request middleware, a Celery task)
  marked the context strict with `tenant_strict()`; then a tenant query raises
  `TenantScopeError` until the entry point has resolved its organisation.

Plain code (tests calling services, the shell, management commands) is not strict. The
setting `TENANT_SCOPE_STRICT = False` turns the raising into a logged warning (an emergency
switch; the scope filter itself always applies).

Forward foreign-key access goes through `_base_manager` and is never filtered; the outbox relay
reads through `_base_manager` on purpose, it serves every organisation.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)


class TenantScopeError(RuntimeError):
    """A tenant table was queried in a strict context with no organisation in scope.

    A programming error: wrap the code in `tenant_scope(organization)`, or in
    `tenant_unscoped(reason)` when it really serves several organisations.
    """


@dataclass(frozen=True)
class Scope:
    organization_id: int | None = None  # set: rows of this organisation only
    unscoped: str = ""  # set: the reason every organisation's rows are allowed
    strict: bool = False  # an entry point: no organisation and not unscoped raises

    @property
    def label(self) -> str:
        if self.organization_id is not None:
            return f"organisation {self.organization_id}"
        if self.unscoped:
            return f"unscoped ({self.unscoped})"
        return "strict, no organisation" if self.strict else "none"


NO_SCOPE = Scope()
_current: ContextVar[Scope] = ContextVar("dispatchnode_tenant_scope", default=NO_SCOPE)


def current_scope() -> Scope:
    return _current.get()


def _organization_id(organization) -> int:
    pk = getattr(organization, "pk", organization)
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise TypeError(f"tenant_scope() needs an organisation or its id, not {organization!r}")
    return pk


def scope_set(scope: Scope) -> Token:
    """Low level: make `scope` current until `scope_reset(token)` (entry points use this)."""
    return _current.set(scope)


def scope_reset(token: Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def _active(scope: Scope) -> Iterator[Scope]:
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


def tenant_scope(organization):
    """Rows of `organization` (or its id) only, inside the block; keeps the strictness."""
    return _active(
        Scope(organization_id=_organization_id(organization), strict=current_scope().strict)
    )


def tenant_unscoped(reason: str):
    """An explicit cross-tenant block: every organisation's rows. Say why."""
    if not reason or not reason.strip():
        raise ValueError("tenant_unscoped() needs a reason")
    return _active(Scope(unscoped=reason.strip(), strict=current_scope().strict))


def tenant_strict():
    """Mark an entry point: tenant queries raise until a scope (or unscoped block) is active."""
    return _active(Scope(strict=True))


def unscoped_view(view, reason: str):
    """Mark a view that reads no tenant rows for one organisation (e.g. the API schema, which
    introspects every model): the middleware runs it in `tenant_unscoped(reason)`."""
    if not reason or not reason.strip():
        raise ValueError("unscoped_view() needs a reason")
    view.tenant_unscoped = reason.strip()
    return view


def scope_filter(queryset):
    """Apply the current scope to a fresh default-manager queryset of a tenant model."""
    scope = _current.get()
    if scope.organization_id is not None:
        return queryset.filter(organization_id=scope.organization_id)
    if scope.unscoped or not scope.strict:
        return queryset
    model = queryset.model
    message = (
        f"{model._meta.label}.objects was queried with no tenant scope inside an entry point "
        "(a request or a Celery task). Resolve the organisation first and wrap the code in "
        "tenant_scope(organization), or in tenant_unscoped(reason) when it serves several "
        "organisations (dispatchnode.core.scoping)."
    )
    if getattr(settings, "TENANT_SCOPE_STRICT", True):
        raise TenantScopeError(message)
    logger.warning("%s TENANT_SCOPE_STRICT is off: returning every organisation's rows.", message)
    return queryset


# --- Celery: every task is an entry point ----------------------------------------------------
#
# A task names its organisation by an `organization_id` argument: it runs in that scope. A task
# declared with `tenant_unscoped="why"` (a `shared_task` option) runs unscoped, e.g. the outbox
# relay. Any other task runs strict with no organisation and resolves its own (see
# `customers.location_geocode`).

_task_tokens: dict[str, list[Token]] = {}


def task_scope_for(task, args, kwargs) -> Scope:
    reason = getattr(task, "tenant_unscoped", "")
    if reason:
        return Scope(unscoped=reason, strict=True)
    organization_id = (kwargs or {}).get("organization_id")
    if organization_id is None and args:
        try:
            bound = inspect.signature(task.run).bind_partial(*args, **(kwargs or {}))
        except TypeError:
            bound = None
        if bound is not None:
            organization_id = bound.arguments.get("organization_id")
    if organization_id is not None:
        return Scope(organization_id=int(organization_id), strict=True)
    return Scope(strict=True)


def _task_prerun(sender=None, task_id=None, task=None, args=None, kwargs=None, **extra) -> None:
    task = task or sender
    token = _current.set(task_scope_for(task, args or (), kwargs or {}))
    _task_tokens.setdefault(task_id or "", []).append(token)


def _task_postrun(sender=None, task_id=None, **extra) -> None:
    tokens = _task_tokens.get(task_id or "")
    if not tokens:
        return
    token = tokens.pop()
    if not tokens:
        _task_tokens.pop(task_id or "", None)
    try:
        _current.reset(token)
    except ValueError:  # set in another context (should not happen); leave a clean slate
        _current.set(NO_SCOPE)


def connect_task_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_prerun, weak=False, dispatch_uid="dispatchnode_tenant_scope_pre")
    task_postrun.connect(_task_postrun, weak=False, dispatch_uid="dispatchnode_tenant_scope_post")
