"""Admin for the shared kernel: the outbox (with replay) and the per-organisation sequences."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils.text import Truncator

from dispatchnode.core.admin_base import ADMIN_ROLES, TenantAdmin, may_act
from dispatchnode.core.models import OutboxEvent, Sequence
from dispatchnode.core.services import outbox_replay


@admin.register(OutboxEvent)
class OutboxEventAdmin(TenantAdmin):
    """Read-only: rows are written by services and the relay. Replay puts events back."""

    read_only = True
    view_roles = ADMIN_ROLES
    edit_roles = ()
    list_display = (
        "id",
        "topic",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "dead_at",
        "aggregate",
        "error",
        "created_at",
    )
    list_display_links = ("id", "topic")
    list_filter = ("status", "topic", "aggregate_type")
    search_fields = ("topic", "aggregate_type", "=aggregate_id", "last_error")
    date_hierarchy = "created_at"
    list_select_related = ()
    ordering = ("-id",)
    actions = ["replay"]

    @admin.display(description="Aggregate")
    def aggregate(self, event: OutboxEvent) -> str:
        return f"{event.aggregate_type} {event.aggregate_id}".strip()

    @admin.display(description="Last error")
    def error(self, event: OutboxEvent) -> str:
        return Truncator(event.last_error).chars(80)

    def has_replay_permission(self, request) -> bool:
        return may_act(request, ADMIN_ROLES)

    @admin.action(description="Replay selected events (dead or waiting)", permissions=["replay"])
    def replay(self, request, queryset):
        """Delivered events are left alone; the rows are locked so a running relay is not raced."""
        with transaction.atomic():
            events = list(
                queryset.model.objects.select_for_update()
                .filter(pk__in=queryset.values("pk"))
                .exclude(status=OutboxEvent.Status.DELIVERED)
                .order_by("pk")
            )
            for event in events:
                outbox_replay(event=event)
        skipped = queryset.count() - len(events)
        self.message_user(
            request,
            f"Replayed {len(events)} event(s); skipped {skipped} already delivered.",
            messages.SUCCESS if events else messages.WARNING,
        )


@admin.register(Sequence)
class SequenceAdmin(TenantAdmin):
    read_only = True
    view_roles = ADMIN_ROLES
    edit_roles = ()
    list_display = ("name", "last_value", "updated_at")
    search_fields = ("name",)
    list_select_related = ()
    ordering = ("organization_id", "name")
