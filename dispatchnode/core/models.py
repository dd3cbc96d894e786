"""Base models every table stands on, per-organisation sequences and the transactional outbox."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class BaseModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantQuerySet(models.QuerySet):
    def for_organization(self, organization) -> TenantQuerySet:
        return self.filter(organization=organization)


class TenantModel(BaseModel):
    """Every tenant-owned row belongs to exactly one organisation.

    `clean()` refuses a relation to another organisation's row, so a service that calls
    `full_clean()` cannot link tenants together by mistake.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", editable=False
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        errors = {}
        for field in self._meta.concrete_fields:
            if not field.is_relation or field.name == "organization":
                continue
            related_model = field.related_model
            if not (isinstance(related_model, type) and issubclass(related_model, TenantModel)):
                continue
            related_id = getattr(self, field.attname)
            if related_id is None:
                continue
            cached = field.get_cached_value(self, default=None)
            org_id = (
                cached.organization_id
                if cached is not None
                else related_model._base_manager.filter(pk=related_id)
                .values_list("organization_id", flat=True)
                .first()
            )
            if org_id != self.organization_id:
                errors[field.name] = f"Unknown {related_model._meta.verbose_name}."
        if errors:
            raise ValidationError(errors)


class Sequence(TenantModel):
    """A gap-tolerant counter per organisation and name (invoice and job numbers)."""

    name = models.CharField(max_length=40)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="core_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"


class OutboxEvent(TenantModel):
    """A side effect waiting to leave the process, written in the business transaction.

    The relay task picks due rows with `FOR UPDATE SKIP LOCKED`, hands each to the handlers
    registered for its topic, and records the outcome. A row that failed its last attempt is
    dead-lettered (`dead_at`, `last_error`) and can be replayed.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead-lettered"

    topic = models.CharField(max_length=80, db_index=True)
    aggregate_type = models.CharField(max_length=60, blank=True)
    aggregate_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                name="core_outbox_due_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["organization", "aggregate_type", "aggregate_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk} ({self.status})"
