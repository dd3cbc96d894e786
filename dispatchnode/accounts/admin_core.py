"""Admin for the shared kernel: the outbox (with replay), the per-organisation sequences and the
record of background runs.

Kept here, not in `dispatchnode.core`: the pages are scoped by memberships (`admin_base`), and
core stands below accounts. `dispatchnode.accounts.admin` imports this module, so Django's admin
autodiscovery registers these pages with the others."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.text import Truncator

from dispatchnode.accounts.admin_base import ADMIN_ROLES, TenantAdmin, may_act
from dispatchnode.core.models import (
    BackgroundRun,
    OutboxDelivery,
    OutboxDeliveryAttempt,
    OutboxEvent,
    Sequence,
)
from dispatchnode.core.outbox import outbox_replay


class OutboxDeliveryInline(admin.TabularInline):
    model = OutboxDelivery
    extra = 0
    can_delete = False
    fields = ("subscriber", "status", "attempts", "next_attempt_at", "delivered_at", "last_error")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(TenantAdmin):
    """Read-only: events are written by services; their deliveries show who got them."""

    read_only = True
    view_roles = ADMIN_ROLES
    edit_roles = ()
    list_display = ("id", "topic", "routing", "aggregate", "created_at")
    list_display_links = ("id", "topic")
    list_filter = ("routing", "topic", "aggregate_type")
    search_fields = ("topic", "aggregate_type", "=aggregate_id")
    date_hierarchy = "created_at"
    list_select_related = ()
    ordering = ("-id",)
    inlines = [OutboxDeliveryInline]

    @admin.display(description="Aggregate")
    def aggregate(self, event: OutboxEvent) -> str:
        return f"{event.aggregate_type} {event.aggregate_id}".strip()


@admin.register(OutboxDelivery)
class OutboxDeliveryAdmin(TenantAdmin):
    """One subscriber's copy of an event: the dead-letter queue, with replay."""

    read_only = True
    view_roles = ADMIN_ROLES
    edit_roles = ()
    list_display = (
        "id",
        "subscriber",
        "topic",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "dead_at",
        "error",
    )
    list_display_links = ("id", "subscriber")
    list_filter = ("status", "subscriber", "event__topic")
    search_fields = ("subscriber", "event__topic", "=aggregate_key", "last_error")
    list_select_related = ("event",)
    ordering = ("-id",)
    actions = ["replay"]

    @admin.display(description="Topic", ordering="event__topic")
    def topic(self, delivery: OutboxDelivery) -> str:
        return delivery.event.topic

    @admin.display(description="Last error")
    def error(self, delivery: OutboxDelivery) -> str:
        return Truncator(delivery.last_error).chars(80)

    def has_replay_permission(self, request) -> bool:
        return may_act(request, ADMIN_ROLES)

    @admin.action(
        description="Replay selected deliveries (dead or waiting)", permissions=["replay"]
    )
    def replay(self, request, queryset):
        """Delivered ones are left alone."""
        chosen = list(queryset.exclude(status=OutboxDelivery.Status.DELIVERED).order_by("pk"))
        for delivery in chosen:
            outbox_replay(delivery=delivery)
        skipped = queryset.count() - len(chosen)
        self.message_user(
            request,
            f"Replayed {len(chosen)} deliveries; skipped {skipped} already delivered.",
            messages.SUCCESS if chosen else messages.WARNING,
        )


@admin.register(OutboxDeliveryAttempt)
class OutboxDeliveryAttemptAdmin(TenantAdmin):
    """Every try of every delivery: the sync log."""

    read_only = True
    view_roles = ADMIN_ROLES
    edit_roles = ()
    list_display = ("id", "delivery", "number", "outcome", "duration_ms", "created_at", "error")
    list_filter = ("outcome", "delivery__subscriber")
    search_fields = ("delivery__subscriber", "error")
    list_select_related = ("delivery",)
    ordering = ("-id",)


@admin.register(Sequence)
class SequenceAdmin(TenantAdmin):
    read_only = True
    view_roles = ADMIN_ROLES
    edit_roles = ()
    list_display = ("name", "last_value", "updated_at")
    search_fields = ("name",)
    list_select_related = ()
    ordering = ("organization_id", "name")


@admin.register(BackgroundRun)
class BackgroundRunAdmin(TenantAdmin):
    """Read-only: runs are started through the API or `manage.py dedupe` and written by tasks."""

    read_only = True
    view_roles = ADMIN_ROLES
    edit_roles = ()
    list_display = (
        "id",
        "kind",
        "status",
        "stage",
        "progress",
        "requested_by",
        "started_at",
        "finished_at",
        "short_error",
    )
    list_display_links = ("id", "kind")
    list_filter = ("kind", "status")
    search_fields = ("=id", "stage", "error")
    date_hierarchy = "created_at"
    list_select_related = ("requested_by",)
    ordering = ("-id",)

    @admin.display(description="Progress")
    def progress(self, run: BackgroundRun) -> str:
        return f"{run.done:,}/{run.total:,}" if run.total else ""

    @admin.display(description="Error")
    def short_error(self, run: BackgroundRun) -> str:
        return Truncator(run.error).chars(80)
