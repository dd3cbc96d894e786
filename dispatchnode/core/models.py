"""Base models every table stands on, per-organisation sequences, the transactional outbox and
the record of long background work."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from dispatchnode.core.scoping import scope_filter


class BaseModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantQuerySet(models.QuerySet):
    def for_organization(self, organization) -> TenantQuerySet:
        return self.filter(organization=organization)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """The default manager of every tenant model: applies the active tenant scope
    (`dispatchnode.core.scoping`). `_base_manager` (forward foreign keys, the outbox relay) is
    a plain manager and never filtered."""

    def get_queryset(self) -> TenantQuerySet:
        return scope_filter(super().get_queryset())


class TenantModel(BaseModel):
    """Every tenant-owned row belongs to exactly one organisation.

    `clean()` refuses a relation to another organisation's row, so a service that calls
    `full_clean()` cannot link tenants together by mistake.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", editable=False
    )

    objects = TenantManager()

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
    """A fact another part of the system may care about, written in the business transaction.

    The row is immutable: topic, aggregate and payload. Who receives it lives in
    `OutboxDelivery`, one row per subscriber, so one failing subscriber never makes another run
    twice. An event that nobody subscribed to when it was written is `unrouted`: kept, not
    "delivered", so a subscriber added later can be backfilled from it (`outbox_backfill`).
    """

    class Routing(models.TextChoices):
        ROUTED = "routed", "Routed to its subscribers"
        UNROUTED = "unrouted", "No subscriber yet"

    topic = models.CharField(max_length=80)
    aggregate_type = models.CharField(max_length=60, blank=True)
    aggregate_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    routing = models.CharField(max_length=10, choices=Routing.choices, default=Routing.ROUTED)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["organization", "topic", "id"], name="core_outbox_topic_idx"),
            models.Index(fields=["organization", "aggregate_type", "aggregate_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"

    @property
    def aggregate_key(self) -> str:
        return f"{self.aggregate_type}:{self.aggregate_id}" if self.aggregate_id else ""


class OutboxDelivery(TenantModel):
    """One subscriber's copy of one event: its own status, attempts, lease and dead letter.

    A relay claims due rows with a lease (`leased_until`, `lease_token`) in a short transaction,
    runs the subscriber with no transaction open and records the outcome in another. A delivery
    waits while an earlier event's delivery for the same subscriber and aggregate is pending, so
    each subscriber sees one object's events in order, retries included.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead-lettered"

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=120)
    # The event's "type:id", copied so the ordering check needs no join ("" = no order).
    aggregate_key = models.CharField(max_length=130, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "outbox deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscriber"], name="core_outbox_delivery_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="core_delivery_due_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["organization", "subscriber", "aggregate_key", "event"],
                name="core_delivery_order_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["organization", "subscriber", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} ← event {self.event_id} ({self.status})"


class OutboxDeliveryAttempt(TenantModel):
    """One try of one delivery: when, how long, and what came of it (the sync log's rows)."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        RETRY = "retry", "Failed, will retry"
        DEAD = "dead", "Failed, dead-lettered"

    delivery = models.ForeignKey(
        OutboxDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} try {self.number}: {self.outcome}"


class BackgroundRun(TenantModel):
    """One run of long work (a dedupe; later backfills and route plans): its status and progress
    as a row that the API, the admin and the dashboard read.

    The task updates it in short writes of their own (at most about two a second), never inside a
    long transaction, so readers see progress as it happens. At most one run of a kind is queued
    or running per organisation: the database refuses a second one.
    """

    class Kind(models.TextChoices):
        DEDUPE = "dedupe", "Duplicate customers"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=30, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    params = models.JSONField(default=dict, blank=True)
    stage = models.CharField(max_length=60, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind"],
                condition=models.Q(status__in=["queued", "running"]),
                name="core_backgroundrun_one_active",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "succeeded", "failed"]),
                name="core_backgroundrun_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["organization", "kind", "-id"])]

    def __str__(self) -> str:
        return f"{self.kind} run #{self.pk} ({self.status})"
