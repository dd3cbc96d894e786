from __future__ import annotations

from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from dispatchnode.core.models import TenantModel


class Source(models.TextChoices):
    """Where a record came from; used for revenue attribution on customers and jobs."""

    AI_CALL = "ai_call", "AI phone agent"
    STAFF = "staff", "Office staff"
    API = "api", "API"
    ONLINE = "online", "Online booking"
    CRM_SYNC = "crm_sync", "CRM sync"
    IMPORT = "import", "Import"
    REFERRAL = "referral", "Referral"


class Customer(TenantModel):
    class Kind(models.TextChoices):
        RESIDENTIAL = "residential", "Residential"
        COMMERCIAL = "commercial", "Commercial"

    class LeadStatus(models.TextChoices):
        LEAD = "lead", "Lead"
        ACTIVE = "active", "Active customer"
        INACTIVE = "inactive", "Inactive"
        LOST = "lost", "Lost"

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.RESIDENTIAL)
    lead_status = models.CharField(
        max_length=20, choices=LeadStatus.choices, default=LeadStatus.ACTIVE
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.STAFF)
    do_not_service = models.BooleanField(default=False)
    do_not_service_reason = models.CharField(max_length=300, blank=True)
    tags = models.JSONField(default=list, blank=True)
    name_key = models.CharField(
        max_length=40,
        blank=True,
        editable=False,
        help_text="Sound-alike key of the last name or company, kept by the matcher.",
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
        help_text="Set when this record was merged into another; kept for undo.",
    )

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["organization", "last_name", "first_name"]),
            models.Index(fields=["organization", "name_key"], name="customers_name_key"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(first_name="", last_name="", company_name=""),
                name="customers_customer_has_a_name",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        person = f"{self.first_name} {self.last_name}".strip()
        return person or self.company_name


class ContactPoint(TenantModel):
    """A phone number (E.164) or email address (lower-cased) of a customer.

    `sms_opt_out` and `email_opt_out` mirror the organisation's `Consent` for the value, written
    by the consent services; messaging reads the consent record, not these flags.
    """

    class Kind(models.TextChoices):
        PHONE = "phone", "Phone"
        EMAIL = "email", "Email"

    class Label(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        HOME = "home", "Home"
        WORK = "work", "Work"
        OTHER = "other", "Other"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=254, help_text="E.164 phone or normalised email.")
    raw_value = models.CharField(max_length=254, blank=True)
    extension = models.CharField(max_length=10, blank=True)
    label = models.CharField(max_length=10, choices=Label.choices, default=Label.MOBILE)
    is_primary = models.BooleanField(default=False)
    sms_opt_out = models.BooleanField(default=False)
    email_opt_out = models.BooleanField(default=False)
    is_valid = models.BooleanField(default=True, help_text="False when flagged as unusable.")

    class Meta:
        ordering = ["-is_primary", "id"]
        indexes = [
            models.Index(fields=["organization", "kind", "value"], name="customers_cp_lookup")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "value"], name="customers_contact_unique"
            )
        ]

    def __str__(self) -> str:
        return self.value


class Consent(TenantModel):
    """Whether the organisation may message an address on a channel: one row per (organisation,
    channel, address), whoever the address belongs to. A STOP from a number that is no customer
    is kept, and it still counts when that number later becomes a customer's. No row: allowed."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        OPTED_OUT = "opted_out", "Opted out"
        OPTED_IN = "opted_in", "Opted in"

    class Source(models.TextChoices):
        SMS_KEYWORD = "sms_keyword", "SMS keyword (STOP / START)"
        PROVIDER_ERROR = "provider_error", "Provider refusal (Twilio 21610)"
        STAFF = "staff", "Office staff"
        IMPORT = "import", "Import"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=254, help_text="E.164 phone or lower-cased email.")
    status = models.CharField(max_length=10, choices=Status.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    changed_at = models.DateTimeField(
        default=timezone.now, help_text="When the status last changed."
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "channel", "address"], name="customers_consent_unique"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["sms", "email"]), name="customers_consent_channel"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["opted_out", "opted_in"]), name="customers_consent_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.address}: {self.get_status_display()}"


class ServiceLocation(TenantModel):
    """A place we work: the raw address as given, its normalised form and access notes."""

    class GeocodeQuality(models.TextChoices):
        NONE = "none", "Not geocoded"
        ZIP_CENTROID = "zip_centroid", "ZIP centroid"
        STREET = "street", "Street"
        ROOFTOP = "rooftop", "Rooftop"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="locations")
    label = models.CharField(max_length=80, blank=True, help_text="Home, Rental, Office…")
    raw_address = models.TextField(help_text="Exactly as given; never discarded.")
    street = models.CharField(max_length=200, blank=True, help_text="Normalised first line.")
    unit = models.CharField(max_length=60, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    country = models.CharField(max_length=2, default="US")
    components = models.JSONField(default=dict, blank=True, help_text="Parsed address parts.")
    match_key = models.CharField(max_length=250, blank=True)
    street_key = models.CharField(
        max_length=200, blank=True, help_text="House number and street, for finding neighbours."
    )
    needs_review = models.BooleanField(default=False)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    geocode_quality = models.CharField(
        max_length=20, choices=GeocodeQuality.choices, default=GeocodeQuality.NONE
    )
    gate_code = models.CharField(max_length=60, blank=True)
    pets = models.CharField(max_length=200, blank=True)
    parking = models.CharField(max_length=200, blank=True)
    access_notes = models.TextField(blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        indexes = [
            models.Index(fields=["organization", "street_key"], name="customers_loc_street_key"),
            models.Index(fields=["organization", "postal_code"], name="customers_loc_postal"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="customers_location_lat_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="customers_location_lng_range",
            ),
        ]

    def __str__(self) -> str:
        return self.one_line

    @property
    def one_line(self) -> str:
        if not self.street:
            return self.raw_address
        line = f"{self.street} {self.unit}".strip()
        return ", ".join(
            p for p in (line, self.city, f"{self.state} {self.postal_code}".strip()) if p
        )


class Equipment(TenantModel):
    class Kind(models.TextChoices):
        AIR_CONDITIONER = "air_conditioner", "Central air conditioner"
        HEAT_PUMP = "heat_pump", "Heat pump"
        FURNACE = "furnace", "Furnace"
        BOILER = "boiler", "Boiler"
        MINI_SPLIT = "mini_split", "Ductless mini-split"
        THERMOSTAT = "thermostat", "Thermostat"
        WATER_HEATER = "water_heater", "Water heater"
        TANKLESS_WATER_HEATER = "tankless_water_heater", "Tankless water heater"
        WATER_SOFTENER = "water_softener", "Water softener"
        SUMP_PUMP = "sump_pump", "Sump pump"
        ELECTRICAL_PANEL = "electrical_panel", "Electrical panel"
        GENERATOR = "generator", "Generator"
        EV_CHARGER = "ev_charger", "EV charger"
        OTHER = "other", "Other"

    location = models.ForeignKey(
        ServiceLocation, on_delete=models.CASCADE, related_name="equipment"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    category = models.CharField(max_length=20, blank=True, help_text="hvac, plumbing, electrical…")
    make = models.CharField(max_length=80, blank=True)
    model_number = models.CharField(max_length=80, blank=True)
    serial_number = models.CharField(max_length=80, blank=True)
    installed_on = models.DateField(null=True, blank=True)
    warranty_expires_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "equipment"

    def __str__(self) -> str:
        return " ".join(p for p in (self.make, self.get_kind_display()) if p)


class CustomerNote(TenantModel):
    class Kind(models.TextChoices):
        GENERAL = "general", "General"
        ACCESS = "access", "Access"
        PREFERENCE = "preference", "Preference"
        COMPLAINT = "complaint", "Complaint"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.GENERAL)
    body = models.TextField()
    visible_to_agent = models.BooleanField(
        default=True, help_text="The phone agent may use this note (it never reads it verbatim)."
    )
    author = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.body[:40]}"


class Message(TenantModel):
    """One SMS or email to or from a customer: the message timeline."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Outbound"
        INBOUND = "inbound", "Inbound"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        # Handed to the provider by a delivery that has not recorded the answer yet: a
        # redelivery asks the provider before sending again.
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        UNDELIVERED = "undelivered", "Undelivered"
        RECEIVED = "received", "Received"
        SUPPRESSED = "suppressed", "Not sent (opted out or quiet hours)"

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    to_address = models.CharField(max_length=254)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    html = models.TextField(blank=True, help_text="An email's HTML alternative.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    purpose = models.CharField(
        max_length=60, blank=True, help_text="booking_confirmation, invoice, follow_up…"
    )
    provider_message_id = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    job = models.ForeignKey(
        "bookings.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "customer", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "channel", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="customers_message_provider_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to_address}: {self.body[:30]}"


class CustomerMerge(TenantModel):
    """One merge of a duplicate customer into a survivor, with what undo needs to reverse it.

    `snapshot` is written by `customers.merge` and read only by it: the rows it moved per model,
    the rows it left behind, and the survivor's and contacts' values before and after.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        REVIEW = "review", "Review queue"
        INTAKE = "intake", "Intake (automatic)"
        BATCH = "batch", "Batch dedupe (automatic)"

    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_kept")
    duplicate = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="merges_absorbed"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    probability = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    snapshot = models.JSONField(default=dict, blank=True, editable=False)
    performed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(survivor=models.F("duplicate")),
                name="customers_merge_two_customers",
            ),
            models.CheckConstraint(
                condition=Q(probability__isnull=True) | Q(probability__gte=0, probability__lte=1),
                name="customers_merge_probability_range",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.duplicate_id} into #{self.survivor_id}"


class DuplicateReview(TenantModel):
    """A likely duplicate pair waiting for a person: one row per unordered pair, kept after the
    decision so a dismissed pair ("not the same person") is never queued again."""

    class Source(models.TextChoices):
        INTAKE = "intake", "Intake"
        BATCH = "batch", "Batch dedupe"
        API = "api", "API"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MERGED = "merged", "Merged"
        DISMISSED = "dismissed", "Not the same person"

    customer_a = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    customer_b = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    probability = models.DecimalField(max_digits=4, decimal_places=3)
    evidence = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.BATCH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    merge = models.ForeignKey(
        CustomerMerge, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )

    class Meta:
        ordering = [
            Case(When(status="open", then=Value(0)), default=Value(1)).asc(),
            "-probability",
            "id",
        ]
        indexes = [models.Index(fields=["organization", "status"], name="customers_review_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer_a__lt=models.F("customer_b")),
                name="customers_review_pair_ordered",
            ),
            models.UniqueConstraint(
                fields=["organization", "customer_a", "customer_b"],
                name="customers_review_pair_unique",
            ),
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=1),
                name="customers_review_probability_range",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.customer_a_id} / #{self.customer_b_id} ({self.get_status_display()})"


class FollowUpRule(TenantModel):
    """An owner-editable rule: which message goes out, on which trigger, how long after.

    The trigger's finder lives in the app that owns the objects (bookings, invoicing) and is
    registered in `customers.followups`; this table only holds the owner's settings.
    """

    class Trigger(models.TextChoices):
        APPOINTMENT_REMINDER = "appointment_reminder", "Before an appointment"
        BOOKING_CREATED = "booking_created", "After a booking"
        JOB_COMPLETED = "job_completed", "After a job is completed"
        INVOICE_OVERDUE = "invoice_overdue", "Invoice overdue"
        INVOICE_PAID = "invoice_paid", "After an invoice is paid"
        LEAD_UNBOOKED = "lead_unbooked", "Lead that did not book"

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    name = models.CharField(max_length=120)
    trigger = models.CharField(max_length=30, choices=Trigger.choices)
    category = models.CharField(
        max_length=20, blank=True, help_text="Service category (hvac, plumbing…); blank: any."
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SMS)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(
        help_text="Placeholders: {first_name} {company} {service} {window} {invoice_number} "
        "{balance} {pay_url} {booking_phone}."
    )
    delay = models.DurationField(
        help_text="After the trigger time (before it for appointment reminders)."
    )
    repeat_every = models.DurationField(null=True, blank=True)
    max_count = models.PositiveSmallIntegerField(default=1)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["trigger", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="customers_followuprule_name_unique"
            ),
            models.CheckConstraint(
                condition=Q(max_count__gte=1), name="customers_followuprule_max_count_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FollowUp(TenantModel):
    """One scheduled (then sent, skipped or cancelled) message of a rule for one object.

    At most once per rule, object and sequence: a unique key, so two scans racing each other
    insert one row, and the send marks the row sent in the transaction that queues the message.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    rule = models.ForeignKey(FollowUpRule, on_delete=models.CASCADE, related_name="followups")
    object_type = models.CharField(max_length=30, help_text="job, appointment, invoice, call.")
    object_id = models.BigIntegerField()
    sequence = models.PositiveSmallIntegerField(default=1)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="followups"
    )
    job = models.ForeignKey(
        "bookings.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="followups"
    )
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    reason = models.CharField(max_length=300, blank=True)
    context = models.JSONField(default=dict, blank=True, help_text="Placeholder values.")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="followups"
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        indexes = [
            models.Index(fields=["status", "scheduled_for"], name="customers_followup_due"),
            models.Index(fields=["organization", "customer", "scheduled_for"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "object_type", "object_id", "sequence"],
                name="customers_followup_once_per_rule_object",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.object_type}:{self.object_id}#{self.sequence} {self.status}"
