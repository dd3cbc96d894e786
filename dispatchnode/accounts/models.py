"""The tenant root and who may act for it."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from dispatchnode.core.fields import EncryptedTextField, HttpsURLField
from dispatchnode.core.models import BaseModel, TenantModel

e164_validator = RegexValidator(
    r"^\+[1-9]\d{6,14}$", "Enter a phone number in E.164 (+15125550100)."
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = RegexValidator(r"^([01]\d|2[0-3]):[0-5]\d$")


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA timezone (e.g. America/Chicago).")


def default_business_hours() -> dict[str, list[list[str]]]:
    weekday = [["08:00", "17:00"]]
    return {
        "mon": weekday,
        "tue": weekday,
        "wed": weekday,
        "thu": weekday,
        "fri": weekday,
        "sat": [],
        "sun": [],
    }


def validate_business_hours(value) -> None:
    """`{"mon": [["08:00", "17:00"]], ...}`: per weekday, a list of [open, close] pairs."""
    if not isinstance(value, dict):
        raise ValidationError("Business hours must be an object keyed by weekday (mon..sun).")
    for day, spans in value.items():
        if day not in WEEKDAYS:
            raise ValidationError(f"Unknown weekday {day!r}; use mon..sun.")
        if not isinstance(spans, list):
            raise ValidationError(f"{day}: expected a list of [open, close] pairs.")
        for span in spans:
            if not (isinstance(span, list | tuple) and len(span) == 2):
                raise ValidationError(f'{day}: each span is ["HH:MM", "HH:MM"].')
            for part in span:
                _HHMM(part)
            if span[0] >= span[1]:
                raise ValidationError(f"{day}: {span[0]}–{span[1]} closes before it opens.")


class User(AbstractUser):
    """Login identity. Organisation membership and role live on `Membership`."""

    phone = models.CharField(max_length=16, blank=True, validators=[e164_validator])

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Organization(BaseModel):
    """A field-service company: the root of every tenant-owned row."""

    class CallerPrivacy(models.TextChoices):
        ATTESTED = "attested", "Full greeting only with STIR/SHAKEN A attestation; verify otherwise"
        ALWAYS_VERIFY = "always_verify", "Always verify the caller before reading anything back"
        TRUST_CALLER_ID = "trust_caller_id", "Trust caller ID (greet in full)"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(
        max_length=64, default="America/Chicago", validators=[validate_timezone]
    )
    country = models.CharField(
        max_length=2, default="US", help_text="ISO country; default region for phone numbers."
    )
    currency = models.CharField(max_length=3, default="USD")
    tax_rate = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.5"))],
        help_text="Sales tax as a fraction: 0.0825 is 8.25 %.",
    )
    business_hours = models.JSONField(
        default=default_business_hours, validators=[validate_business_hours]
    )
    office_phone = models.CharField(max_length=16, blank=True, validators=[e164_validator])
    email = models.EmailField(blank=True)
    website = HttpsURLField(blank=True)
    address = models.TextField(blank=True)
    caller_privacy = models.CharField(
        max_length=20, choices=CallerPrivacy.choices, default=CallerPrivacy.ATTESTED
    )
    match_auto_threshold = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.950"),
        help_text="A new record this likely to be an existing customer is attached to them.",
    )
    match_review_threshold = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.800"),
        help_text="From this likelihood up to the automatic threshold, a person reviews the pair.",
    )
    twilio_account_sid = models.CharField(max_length=64, blank=True)
    twilio_auth_token = EncryptedTextField(blank=True)
    invoice_terms_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MaxValueValidator(365)],
        help_text="An invoice is due this many days after it is sent (0: on receipt).",
    )
    # Stripe (payments): the secret key pays invoices through Checkout; the signing secret
    # checks `Stripe-Signature` on the webhook. Both encrypted at rest.
    stripe_secret_key = EncryptedTextField(blank=True)
    stripe_webhook_secret = EncryptedTextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tax_rate__gte=0) & models.Q(tax_rate__lte=Decimal("0.5")),
                name="accounts_org_tax_rate_range",
            ),
            models.CheckConstraint(
                condition=models.Q(match_review_threshold__gt=0)
                & models.Q(match_review_threshold__lte=models.F("match_auto_threshold"))
                & models.Q(match_auto_threshold__lte=1),
                name="accounts_org_match_thresholds",
                violation_error_message=(
                    "The review threshold must be above 0 and at most the automatic threshold, "
                    "which is at most 1."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class PhoneNumber(TenantModel):
    """A Twilio number the organisation answers on. A call's `To` finds the organisation."""

    e164 = models.CharField(max_length=16, unique=True, validators=[e164_validator])
    label = models.CharField(max_length=80, blank=True)
    twilio_sid = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["e164"]
        verbose_name = "Twilio number"

    def __str__(self) -> str:
        return self.e164


class Membership(TenantModel):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        DISPATCHER = "dispatcher", "Dispatcher"
        TECHNICIAN = "technician", "Technician"
        INTEGRATOR = "integrator", "Integrator"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="accounts_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization_id} ({self.role})"


# Scopes are "<family>:<read|write>"; write implies read; "*:read" / "*:write" cover all families.
SCOPE_FAMILIES = ("customers", "bookings", "invoicing", "calls", "integrations", "routing")
SCOPE_LEVELS = ("read", "write")


def validate_scopes(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError('Scopes are a non-empty list such as ["customers:read"].')
    for scope in value:
        family, _, level = str(scope).partition(":")
        if family not in (*SCOPE_FAMILIES, "*") or level not in SCOPE_LEVELS:
            raise ValidationError(
                f"Unknown scope {scope!r}; use <family>:<read|write> with a family of "
                f"{', '.join(SCOPE_FAMILIES)} or *."
            )


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(TenantModel):
    """An organisation's API key. Only its SHA-256 is stored; the key is shown once."""

    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    scopes = models.JSONField(default=list, validators=[validate_scopes])
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate_key() -> str:
        """A URL-safe key that never starts with "-", so a command line never reads it as an
        option (`--token -abc` fails in argparse)."""
        while True:
            key = secrets.token_urlsafe(32)
            if not key.startswith("-"):
                return key

    def set_key(self, key: str) -> None:
        self.key_hash = hash_token_key(key)
        self.prefix = key[:8]

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def allows(self, family: str, level: str) -> bool:
        wanted = {f"{family}:{level}", f"*:{level}"}
        if level == "read":
            wanted |= {f"{family}:write", "*:write"}
        return bool(wanted & set(self.scopes))
