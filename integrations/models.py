"""Inbound webhook events of every vendor, stored raw once by the vendor's event id."""

from __future__ import annotations

from django.db import models

from dispatchnode.core.models import TenantModel


class WebhookEvent(TenantModel):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        DEFERRED = "deferred", "Deferred (waiting for an earlier event)"

    provider = models.CharField(max_length=30)
    event_id = models.CharField(max_length=200)
    type = models.CharField(max_length=100, blank=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "event_id"],
                name="integrations_webhook_event_unique",
            )
        ]
        indexes = [models.Index(fields=["organization", "provider", "status"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"
