from __future__ import annotations

from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from customers.models import Source
from dispatchnode.core.constraints import PostgresExclusionConstraint, TsTzRange
from dispatchnode.core.fields import HttpsURLField
from dispatchnode.core.models import TenantModel

CATEGORY_CHOICES = [
    ("hvac", "HVAC"),
    ("plumbing", "Plumbing"),
    ("electrical", "Electrical"),
    ("roofing", "Roofing"),
    ("general", "General"),
]
_HEX_COLOUR = r"^#[0-9a-fA-F]{6}$"


class Skill(TenantModel):
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="bookings_skill_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ServiceType(TenantModel):
    class Kind(models.TextChoices):
        REPAIR = "repair", "Repair"
        MAINTENANCE = "maintenance", "Maintenance"
        INSTALLATION = "installation", "Installation"
        EMERGENCY = "emergency", "Emergency"
        INSPECTION = "inspection", "Inspection / estimate"

    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=20, choices=CATEGORY_CHOICES)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.TextField(blank=True)
    default_duration_minutes = models.PositiveIntegerField(default=90)
    required_skill = models.ForeignKey(
        Skill, null=True, blank=True, on_delete=models.PROTECT, related_name="service_types"
    )
    spoken_synonyms = models.JSONField(
        default=list, blank=True, help_text='How callers say it: "blowing warm air", "no heat"…'
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"], name="bookings_servicetype_unique"
            ),
            models.CheckConstraint(
                condition=Q(default_duration_minutes__gte=15, default_duration_minutes__lte=960),
                name="bookings_servicetype_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Technician(TenantModel):
    user = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="technicians",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=16, blank=True)
    email = models.EmailField(blank=True)
    skills = models.ManyToManyField(Skill, blank=True, related_name="technicians")
    home_base_address = models.CharField(max_length=250, blank=True)
    home_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    home_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    calendar_token = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="Secret in the technician's calendar feed URL; empty means no feed.",
    )
    color = models.CharField(
        max_length=7, default="#2563eb", validators=[RegexValidator(_HEX_COLOUR)]
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["first_name", "last_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"],
                condition=Q(user__isnull=False),
                name="bookings_technician_user_unique",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class WorkingHours(TenantModel):
    """A weekly shift: `weekday` 0 = Monday, times in the organisation's timezone."""

    technician = models.ForeignKey(
        Technician, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(
        choices=[(i, d) for i, d in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))]
    )
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["technician_id", "weekday", "start_time"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="bookings_hours_order"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="bookings_hours_weekday"),
            models.UniqueConstraint(
                fields=["technician", "weekday", "start_time"], name="bookings_hours_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class TimeOff(TenantModel):
    technician = models.ForeignKey(Technician, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="bookings_timeoff_order")
        ]

    def __str__(self) -> str:
        return f"{self.technician} off {self.start:%Y-%m-%d %H:%M}"


class Holiday(TenantModel):
    """A day the company is closed: no regular bookings (emergencies follow the on-call rota)."""

    date = models.DateField()
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "date"], name="bookings_holiday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class OnCallShift(TenantModel):
    """Who takes emergencies outside working hours, from when to when."""

    technician = models.ForeignKey(
        Technician, on_delete=models.CASCADE, related_name="on_call_shifts"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="bookings_oncall_order")
        ]

    def __str__(self) -> str:
        return f"{self.technician} on call {self.start:%Y-%m-%d %H:%M}"


class SchedulingPolicy(TenantModel):
    """How an organisation offers time: one row per organisation (defaults when absent)."""

    class EmergencyHandling(models.TextChoices):
        TRANSFER = "transfer", "Transfer to the on-call technician (or the office)"
        BOOK = "book", "Book the earliest emergency slot"

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="scheduling_policy"
    )
    arrival_window_minutes = models.PositiveSmallIntegerField(
        default=120, help_text='The window promised to customers ("between 8 and 10").'
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        default=30, help_text="Appointments start on this grid (minutes past midnight)."
    )
    minimum_notice_minutes = models.PositiveIntegerField(
        default=60, help_text="The earliest a regular job can be booked from now."
    )
    horizon_days = models.PositiveSmallIntegerField(
        default=14, help_text="How far ahead slots are searched."
    )
    emergency_after_hours = models.BooleanField(
        default=True,
        help_text="Emergencies may be booked outside working hours with the on-call technician.",
    )
    average_speed_kmh = models.PositiveSmallIntegerField(
        default=40, help_text="Straight-line travel estimate until road routing is configured."
    )
    emergency_call_handling = models.CharField(
        max_length=10,
        choices=EmergencyHandling.choices,
        default=EmergencyHandling.TRANSFER,
        help_text="What the phone agent does after the safety instructions in an emergency.",
    )

    class Meta:
        verbose_name_plural = "scheduling policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_step_minutes__gte=5) & Q(slot_step_minutes__lte=240),
                name="bookings_policy_step_range",
            ),
            models.CheckConstraint(
                condition=Q(arrival_window_minutes__gte=15), name="bookings_policy_window_min"
            ),
            models.CheckConstraint(
                condition=Q(horizon_days__gte=1) & Q(horizon_days__lte=120),
                name="bookings_policy_horizon_range",
            ),
            models.CheckConstraint(
                condition=Q(average_speed_kmh__gte=5), name="bookings_policy_speed_min"
            ),
        ]

    def __str__(self) -> str:
        return f"Scheduling policy of {self.organization}"


class Job(TenantModel):
    """The work a customer asked for. Appointments are its visits."""

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        EMERGENCY = "emergency", "Emergency"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SCHEDULED = "scheduled", "Scheduled"
        DISPATCHED = "dispatched", "Dispatched"
        EN_ROUTE = "en_route", "En route"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        INVOICED = "invoiced", "Invoiced"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES = (
        Status.REQUESTED,
        Status.SCHEDULED,
        Status.DISPATCHED,
        Status.EN_ROUTE,
        Status.IN_PROGRESS,
    )

    number = models.CharField(max_length=20)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="jobs"
    )
    location = models.ForeignKey(
        "customers.ServiceLocation", on_delete=models.PROTECT, related_name="jobs"
    )
    service_type = models.ForeignKey(
        ServiceType, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    equipment = models.ForeignKey(
        "customers.Equipment", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    description = models.TextField(blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.STAFF)
    work_notes = models.TextField(blank=True)
    diagnostic_notes = models.TextField(blank=True)
    signature = models.FileField(
        upload_to="signatures/",
        blank=True,
        help_text="The customer's signature at completion (PNG).",
    )
    customer_preference = models.CharField(
        max_length=200, blank=True, help_text='"Tuesday afternoon", "after 3"…'
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["organization", "customer", "created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="bookings_job_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.service_type or ''}".strip()


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    DISPATCHED = "dispatched", "Dispatched"
    EN_ROUTE = "en_route", "En route"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


# The visits that occupy the technician's time: the exclusion constraint, the overlap checks and
# the slot engine all read this one tuple (also `Appointment.ACTIVE_STATUSES` and
# `bookings.rules.APPOINTMENT_ACTIVE_STATUSES`). Everything but cancelled.
APPOINTMENT_ACTIVE_STATUSES = (
    AppointmentStatus.SCHEDULED,
    AppointmentStatus.DISPATCHED,
    AppointmentStatus.EN_ROUTE,
    AppointmentStatus.IN_PROGRESS,
    AppointmentStatus.COMPLETED,
)


class Appointment(TenantModel):
    """A technician's visit for a job: internal start/end plus the window promised to the customer.

    On PostgreSQL an exclusion constraint (`bookings_appointment_no_overlap`, below) makes
    overlapping active appointments of one technician impossible; booking services lock the
    technician row first. The other status rules are in `bookings.rules`.
    """

    Status = AppointmentStatus
    ACTIVE_STATUSES = APPOINTMENT_ACTIVE_STATUSES

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="appointments")
    technician = models.ForeignKey(
        Technician, on_delete=models.PROTECT, related_name="appointments"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    arrival_window_start = models.DateTimeField(null=True, blank=True)
    arrival_window_end = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    en_route_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["organization", "technician", "start"]),
            models.Index(fields=["organization", "start"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="bookings_appt_order"),
            models.CheckConstraint(
                condition=Q(arrival_window_start__isnull=True)
                | Q(arrival_window_end__gt=F("arrival_window_start")),
                name="bookings_appt_window_order",
            ),
            # Half-open ranges: back-to-back visits (one ends at 10:00, the next starts) are fine.
            PostgresExclusionConstraint(
                name="bookings_appointment_no_overlap",
                index_type="gist",
                expressions=[
                    ("technician", RangeOperators.EQUAL),
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=APPOINTMENT_ACTIVE_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.technician} {self.start:%Y-%m-%d %H:%M}"


class CallSession(TenantModel):
    """One phone call handled by the agent: what happened, what was disclosed, what it produced."""

    class Outcome(models.TextChoices):
        IN_PROGRESS = "", "In progress"
        BOOKED = "booked", "Booked"
        RESCHEDULED = "rescheduled", "Rescheduled"
        CANCELLED = "cancelled", "Cancelled"
        TRANSFERRED = "transferred", "Transferred"
        NO_BOOKING = "no_booking", "No booking"

    call_sid = models.CharField(max_length=64)
    account_sid = models.CharField(max_length=64, blank=True)
    from_number = models.CharField(max_length=32)
    to_number = models.CharField(max_length=32)
    direction = models.CharField(max_length=20, default="inbound")
    stir_verstat = models.CharField(max_length=64, blank=True)
    twilio_status = models.CharField(max_length=20, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    new_customer = models.BooleanField(default=False)
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    priority = models.CharField(max_length=10, choices=Job.Priority.choices, blank=True)
    state = models.CharField(max_length=40, default="start", help_text="Dialogue state.")
    context = models.JSONField(default=dict, blank=True, help_text="Dialogue working memory.")
    verified = models.BooleanField(default=False)
    verification_method = models.CharField(max_length=20, blank=True)
    disclosures = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_reason = models.CharField(max_length=300, blank=True)
    summary = models.TextField(blank=True)
    action_items = models.JSONField(default=list, blank=True)
    lead_score = models.PositiveSmallIntegerField(null=True, blank=True)
    recording_url = HttpsURLField(blank=True)
    recording_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The turn being answered: a lease, so a Twilio retry of the same turn waits for its answer
    # instead of acting twice, and a note of what that turn already did (the job it created, the
    # text it queued), so answering it again after a crash does not do it twice.
    turn_lease_token = models.CharField(max_length=32, blank=True, editable=False)
    turn_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    turn_effects = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "call_sid"], name="bookings_call_sid_unique"
            ),
            models.CheckConstraint(
                condition=Q(lead_score__isnull=True) | Q(lead_score__lte=100),
                name="bookings_call_lead_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call_sid} from {self.from_number}"


class CallTurn(TenantModel):
    """One exchange: what the caller said (or pressed) and what the agent answered."""

    call = models.ForeignKey(CallSession, on_delete=models.CASCADE, related_name="turns")
    sequence = models.PositiveIntegerField()
    state = models.CharField(max_length=40, blank=True)
    heard = models.TextField(blank=True)
    digits = models.CharField(max_length=20, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    intent = models.CharField(max_length=40, blank=True)
    said = models.TextField(blank=True)
    processing_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["call_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["call", "sequence"], name="bookings_turn_unique")
        ]

    def __str__(self) -> str:
        return f"{self.call_id}#{self.sequence}"


class VisitAction(TenantModel):
    """One tap of the technician app (On my way, Start, Complete), applied exactly once.

    The app gives every tap an idempotency `key` and may send it several times on a weak signal;
    the first request that carries a key applies it and stores the `result`, every later one gets
    that result back without a second effect (`bookings.services_visits.visit_action_run`).
    """

    class Kind(models.TextChoices):
        EN_ROUTE = "en_route", "On my way"
        START = "start", "Start"
        COMPLETE = "complete", "Complete"

    technician = models.ForeignKey(
        Technician, on_delete=models.CASCADE, related_name="visit_actions"
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="visit_actions"
    )
    key = models.CharField(max_length=64, help_text="The app's idempotency key (a UUID).")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key"], name="bookings_visit_action_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class Callback(TenantModel):
    """A call that ended unbooked with a "call back" action item: the office's queue of leads
    to ring back (`bookings.services_callbacks`). One per call; a dispatcher claims it, then
    closes it with what happened."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLAIMED = "claimed", "Claimed"
        CLOSED = "closed", "Closed"

    class Outcome(models.TextChoices):
        BOOKED = "booked", "Booked"
        NO_ANSWER = "no_answer", "No answer"
        NOT_INTERESTED = "not_interested", "Not interested"
        OTHER = "other", "Other"

    call = models.OneToOneField(CallSession, on_delete=models.CASCADE, related_name="callback")
    reason = models.CharField(max_length=500, blank=True, help_text="The call-back action item.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    claimed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"Call back {self.call_id} ({self.status})"
