"""Build "Demo Heating & Air" (DESIGN.md §4): idempotent, deterministic, fast.

`demo_seed` makes the pinned facts true on every run (organisation, number, logins, technicians,
catalogue, price book, John Smith and William Jenkins), creates the generated customers that are
missing (matched by primary phone) with two years of history, tops up the next two weeks of
visits, and makes sure the demo API token exists. A second run in a row writes nothing new.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from customers.followups import followup_rules_default_ensure
from customers.services import customers_refresh_name_keys
from dispatchnode.accounts.models import Organization
from dispatchnode.core.models import TenantModel
from dispatchnode.demo import data
from dispatchnode.demo.accounts import accounts_load, install_dates_move, population_persist
from dispatchnode.demo.apitoken import ensure_api_token, token_file, write_token_file
from dispatchnode.demo.calls import standalone_calls
from dispatchnode.demo.company import (
    ensure_catalogue,
    ensure_organization,
    ensure_price_book,
    ensure_technicians,
    ensure_users,
)
from dispatchnode.demo.context import DemoSeedError, Numbering, SeedContext
from dispatchnode.demo.drafts import PersistCounts, drafts_persist
from dispatchnode.demo.history import history_drafts
from dispatchnode.demo.pinned import ensure_pinned_customers, pinned_visit_date
from dispatchnode.demo.population import plan_customers
from dispatchnode.demo.timetable import Timetable
from dispatchnode.demo.upcoming import requested_drafts, upcoming_drafts

__all__ = [
    "DemoSeedError",
    "SeedResult",
    "demo_reset",
    "demo_seed",
    "pinned_visit_date",
    "token_file",
]


@dataclass
class SeedResult:
    organization: Organization
    api_token_key: str
    created: PersistCounts
    new_customers: int
    rows: dict[str, int] = field(default_factory=dict)  # the demo organisation's rows per model
    seconds: float = 0.0


Progress = Callable[[str], None]


def demo_seed(
    *,
    customers: int = 300,
    reset: bool = False,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> SeedResult:
    started = time.monotonic()
    say = progress or (lambda _message: None)
    now = now or timezone.now()
    if reset and demo_reset():
        say("Removed the previous demo organisation.")
    with transaction.atomic():
        organization = ensure_organization()
        users = ensure_users(organization=organization)
        technicians = ensure_technicians(organization=organization, users=users)
        service_types = ensure_catalogue(organization=organization)
        items = ensure_price_book(organization=organization, service_types=service_types)
        # The default follow-up rules (by name: a rerun adds none).
        followup_rules_default_ensure(organization=organization)
        say(
            f"Organisation, {len(users)} logins, {len(technicians)} technicians, "
            f"{len(service_types)} service types, {len(items)} price-book items: ready."
        )
        ctx = SeedContext(
            organization=organization,
            now=now,
            timetable=Timetable.load(organization=organization, technician_ids=technicians),
            numbering=Numbering(organization=organization),
            service_types=service_types,
            items=items,
            technicians=technicians,
            skills_of={
                t.pk: frozenset(s.code for s in t.skills.all()) for t in technicians.values()
            },
            dispatcher_id=users["dispatcher"].pk,
        )
        pinned_ids = ensure_pinned_customers(ctx=ctx)
        say(
            f"John Smith (last AC service {pinned_visit_date(ctx.today):%Y-%m-%d}) and "
            "William Jenkins: ready."
        )

        plans = plan_customers(count=customers, today=ctx.today, tz=ctx.tz)
        accounts = population_persist(ctx=ctx, plans=plans)
        customers_refresh_name_keys(organization=organization)
        say(f"Customers: {len(accounts)} new of {len(plans)} planned.")

        drafts, moved = history_drafts(ctx=ctx, accounts=accounts)
        install_dates_move(organization=organization, moved=moved)
        created = drafts_persist(ctx=ctx, drafts=drafts)
        say(
            f"History: {created.jobs} finished jobs, {created.invoices} invoices, "
            f"{created.payments} payments."
        )

        bookable = accounts_load(ctx=ctx, exclude_ids=pinned_ids)
        ahead = upcoming_drafts(ctx=ctx, accounts=bookable)
        ahead += requested_drafts(ctx=ctx, accounts=bookable)
        upcoming = drafts_persist(ctx=ctx, drafts=ahead)
        upcoming.calls += standalone_calls(ctx=ctx, accounts=bookable)
        created.add(upcoming)
        say(
            f"Next two weeks: {upcoming.appointments} visits and {upcoming.jobs} jobs added, "
            f"{upcoming.calls} calls, {upcoming.messages} messages."
        )
        ctx.numbering.save()
        key, file_key = ensure_api_token(organization=organization, owner=users["owner"])
    if file_key:
        write_token_file(file_key)
    return SeedResult(
        organization=organization,
        api_token_key=key,
        created=created,
        new_customers=len(accounts),
        rows=demo_row_counts(organization),
        seconds=time.monotonic() - started,
    )


# --- Reset ----------------------------------------------------------------------------------


def _tenant_models_in_delete_order() -> list[type[models.Model]]:
    """Tenant tables, referencing tables first (PROTECT foreign keys forbid the other order)."""
    tenant = [m for m in apps.get_models() if issubclass(m, TenantModel) and not m._meta.abstract]
    refers_to = {
        m: {
            f.related_model
            for f in m._meta.concrete_fields
            if f.is_relation and f.related_model in tenant and f.related_model is not m
        }
        for m in tenant
    }
    ordered: list[type[models.Model]] = []
    remaining = set(tenant)
    while remaining:
        # a model goes next when nothing still remaining refers to it
        ready = sorted(
            (m for m in remaining if not any(m in refers_to[o] for o in remaining if o is not m)),
            key=lambda m: m._meta.label,
        )
        if not ready:  # a cycle of nullable references: Django's collector untangles it
            ready = sorted(remaining, key=lambda m: m._meta.label)[:1]
        ordered.extend(ready)
        remaining -= set(ready)
    return ordered


@transaction.atomic
def demo_reset() -> bool:
    """Delete the demo organisation and everything it owns; its users stay (for the rebuild)."""
    organization = Organization.objects.filter(slug=data.ORG_SLUG).first()
    if organization is None:
        return False
    for model in _tenant_models_in_delete_order():
        model._base_manager.filter(organization=organization).delete()
    organization.delete()
    return True


def demo_row_counts(organization: Organization) -> dict[str, int]:
    counts = {
        m._meta.label: m._base_manager.filter(organization=organization).count()
        for m in apps.get_models()
        if issubclass(m, TenantModel) and not m._meta.abstract
    }
    return {label: n for label, n in sorted(counts.items()) if n}
