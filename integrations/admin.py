"""Admin for stored webhook events (tenant-scoped; the stored fields are read-only)."""

from __future__ import annotations

from django.contrib import admin

from dispatchnode.accounts.admin_base import TenantAdmin
from integrations.models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(TenantAdmin):
    list_display = ("provider", "type", "event_id", "status", "attempts", "created_at")
    list_filter = ("provider", "status")
    search_fields = ("event_id", "type")
    list_select_related = ()
    readonly_fields = (
        "provider",
        "event_id",
        "type",
        "payload",
        "status",
        "error",
        "attempts",
        "processed_at",
    )
