"""Follow-up rules: find what is due, schedule it once, send it in the customer's daytime.

Two steps, both driven by Celery beat and both taking `now` so tests can freeze the clock:

- `followups_scan(now=...)`: for every active rule, the trigger's finder (registered by the app
  that owns the objects: `bookings.followups`, `invoicing.followups`) runs one set-based query for
  the objects due that have no `FollowUp` row yet, and the rows are bulk-inserted with
  `ignore_conflicts`. The unique key (rule, object type, object id, sequence) makes the insert
  "at most once": two racing scans insert one row, not a flag read then written.
- `followups_send(now=...)`: claims due `scheduled` rows (`select_for_update(skip_locked)`), and
  for each, in ONE short transaction, re-checks that it still applies, the quiet hours, the
  contact and its consent, then queues the message (`sms_queue`/`email_queue`, which emit the
  outbox event delivered after commit) and marks the row `sent` with the message. A worker
  killed in the middle rolls back both, so a redelivered task sends the message exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from customers.messaging import email_queue, sms_queue
from customers.models import ContactPoint, FollowUp, FollowUpRule
from customers.selectors import consent_allows
from dispatchnode.accounts.models import Organization
from dispatchnode.core.errors import ApplicationError

logger = logging.getLogger(__name__)

# The customer's local daytime (organisation timezone): outside it a due follow-up waits for
# the next morning; it is never dropped.
DAY_START = dt.time(8, 0)
DAY_END = dt.time(20, 0)
SCAN_CHUNK = 2000
SEND_BATCH = 200


@dataclass(frozen=True)
class Due:
    """One object a rule is due for, as a trigger's finder yields it."""

    object_type: str
    object_id: int
    customer_id: int | None
    job_id: int | None
    due: dt.datetime
    context: dict = field(default_factory=dict)
    sequence: int = 1


Finder = Callable[[FollowUpRule, dt.datetime], Iterable[Due]]
# Returns "" when the follow-up still applies, or the reason to cancel it ("booked", "paid").
Recheck = Callable[[FollowUp], str]


@dataclass(frozen=True)
class Trigger:
    finder: Finder
    recheck: Recheck | None = None


_TRIGGERS: dict[str, Trigger] = {}


def followup_trigger_register(trigger: str, *, finder: Finder, recheck: Recheck | None = None):
    """Called from the owning app's `apps.py` (customers cannot import bookings/invoicing)."""
    _TRIGGERS[trigger] = Trigger(finder=finder, recheck=recheck)


# --- Default rules -------------------------------------------------------------------------

DEFAULT_RULES: tuple[dict, ...] = (
    {
        "name": "Appointment reminder",
        "trigger": FollowUpRule.Trigger.APPOINTMENT_REMINDER,
        "channel": FollowUpRule.Channel.SMS,
        "delay": dt.timedelta(hours=24),
        "body": "Hi {first_name}, a reminder from {company}: your {service} visit is {window}. "
        "Call {booking_phone} to change it. Reply STOP to opt out.",
    },
    {
        "name": "Thanks for booking",
        "trigger": FollowUpRule.Trigger.BOOKING_CREATED,
        "channel": FollowUpRule.Channel.EMAIL,
        "delay": dt.timedelta(hours=24),
        "subject": "Your {service} visit with {company}",
        "body": "Hi {first_name},\n\nThanks for booking your {service} visit with {company}. "
        "Questions? Call us at {booking_phone}.",
    },
    {
        "name": "30 days after the job",
        "trigger": FollowUpRule.Trigger.JOB_COMPLETED,
        "channel": FollowUpRule.Channel.SMS,
        "delay": dt.timedelta(days=30),
        "body": "Hi {first_name}, it's {company}. How is everything running since your "
        "{service}? Book your next tune-up at {booking_phone}. Reply STOP to opt out.",
    },
    {
        "name": "Invoice overdue",
        "trigger": FollowUpRule.Trigger.INVOICE_OVERDUE,
        "channel": FollowUpRule.Channel.EMAIL,
        "delay": dt.timedelta(days=3),
        "repeat_every": dt.timedelta(days=7),
        "max_count": 3,
        "subject": "Invoice {invoice_number} is overdue",
        "body": "Hi {first_name},\n\nInvoice {invoice_number} from {company} has a balance of "
        "{balance}. Pay online: {pay_url}",
    },
    {
        "name": "Review request",
        "trigger": FollowUpRule.Trigger.INVOICE_PAID,
        "channel": FollowUpRule.Channel.SMS,
        "delay": dt.timedelta(hours=2),
        "body": "Thanks for choosing {company}, {first_name}! How did we do? Reply STOP to opt "
        "out.",
    },
    {
        "name": "Lead nurture: text after a day",
        "trigger": FollowUpRule.Trigger.LEAD_UNBOOKED,
        "channel": FollowUpRule.Channel.SMS,
        "delay": dt.timedelta(days=1),
        "body": "Hi {first_name}, it's {company}. Still need help with {service}? Call "
        "{booking_phone} and we'll get you on the schedule. Reply STOP to opt out.",
    },
    {
        "name": "Lead nurture: email after three days",
        "trigger": FollowUpRule.Trigger.LEAD_UNBOOKED,
        "channel": FollowUpRule.Channel.EMAIL,
        "delay": dt.timedelta(days=3),
        "subject": "Can {company} help with {service}?",
        "body": "Hi {first_name},\n\nYou called {company} about {service}. We have openings "
        "this week: call {booking_phone} to book.",
    },
)


def followup_rules_default_ensure(*, organization: Organization) -> int:
    """Create the default rules an organisation lacks (by name); re-runnable. Returns created."""
    existing = set(
        FollowUpRule.objects.filter(organization=organization).values_list("name", flat=True)
    )
    rows = [
        FollowUpRule(organization=organization, **spec)
        for spec in DEFAULT_RULES
        if spec["name"] not in existing
    ]
    FollowUpRule.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- Reads and the owner's edits ----------------------------------------------------------


def followup_rule_list(*, organization: Organization) -> QuerySet[FollowUpRule]:
    return FollowUpRule.objects.filter(organization=organization)


def followup_list(*, organization: Organization) -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(organization=organization).select_related("rule")


@transaction.atomic
def followup_rule_update(
    *,
    rule: FollowUpRule,
    is_active: bool | None = None,
    delay: dt.timedelta | None = None,
    subject: str | None = None,
    body: str | None = None,
) -> FollowUpRule:
    """The owner turns a rule on or off, changes its delay or its text. Follow-ups already
    scheduled keep their time; a rule turned off cancels them at send time."""
    rule = FollowUpRule.objects.select_for_update().get(pk=rule.pk)
    if delay is not None:
        if delay <= dt.timedelta(0) or delay > dt.timedelta(days=365):
            raise ApplicationError("The delay is between a minute and a year.", code="delay")
        rule.delay = delay
    if body is not None:
        if not body.strip():
            raise ApplicationError("The message text cannot be empty.", code="body")
        rule.body = body.strip()
    if subject is not None:
        rule.subject = subject.strip()
    if is_active is not None:
        rule.is_active = is_active
    rule.full_clean()
    rule.save()
    return rule


# --- Scan ----------------------------------------------------------------------------------


def followups_scan(*, now: dt.datetime, organization: Organization | None = None) -> int:
    """Schedule every follow-up that has come due and has no row yet. Returns rows inserted."""
    orgs = [organization] if organization is not None else list(Organization.objects.all())
    inserted = 0
    for org in orgs:
        if not FollowUpRule.objects.filter(organization=org).exists():
            followup_rules_default_ensure(organization=org)
        rules = FollowUpRule.objects.filter(organization=org, is_active=True).select_related(
            "organization"
        )
        for rule in rules:
            trigger = _TRIGGERS.get(rule.trigger)
            if trigger is None:
                continue
            chunk: list[FollowUp] = []
            for due in trigger.finder(rule, now):
                chunk.append(
                    FollowUp(
                        organization_id=org.pk,
                        rule_id=rule.pk,
                        object_type=due.object_type,
                        object_id=due.object_id,
                        sequence=due.sequence,
                        customer_id=due.customer_id,
                        job_id=due.job_id,
                        scheduled_for=due.due,
                        context=due.context,
                    )
                )
                if len(chunk) >= SCAN_CHUNK:
                    inserted += _insert(chunk)
                    chunk = []
            if chunk:
                inserted += _insert(chunk)
    return inserted


def _insert(rows: list[FollowUp]) -> int:
    # ignore_conflicts: the unique key decides; a row another scan inserted first is skipped.
    with transaction.atomic():
        FollowUp.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- Send ----------------------------------------------------------------------------------


@dataclass
class SendResult:
    sent: int = 0
    skipped: int = 0
    cancelled: int = 0
    rescheduled: int = 0
    failed: int = 0


def followups_send(
    *, now: dt.datetime, organization: Organization | None = None, batch: int = SEND_BATCH
) -> SendResult:
    """Send the scheduled follow-ups that are due at `now`, one short transaction each."""
    result = SendResult()
    due = FollowUp.objects.filter(status=FollowUp.Status.SCHEDULED, scheduled_for__lte=now)
    if organization is not None:
        due = due.filter(organization=organization)
    ids = list(due.order_by("scheduled_for", "id").values_list("id", flat=True)[:batch])
    for pk in ids:
        outcome = followup_send_one(followup_id=pk, now=now)
        if outcome:
            setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def _local_daytime(*, organization: Organization, now: dt.datetime) -> dt.datetime | None:
    """None when `now` is daytime for the organisation; else the next morning's start (aware)."""
    tz = zoneinfo.ZoneInfo(organization.timezone or "UTC")
    local = now.astimezone(tz)
    if DAY_START <= local.time() < DAY_END:
        return None
    day = local.date() if local.time() < DAY_START else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, DAY_START, tzinfo=tz)


class _SafeContext(dict):
    def __missing__(self, key: str) -> str:
        return ""


def followup_render(text: str, context: dict) -> str:
    try:
        return text.format_map(_SafeContext(context))
    except (ValueError, IndexError, AttributeError):
        return text


def _contact(*, followup: FollowUp, kind: str) -> str:
    return (
        ContactPoint.objects.filter(
            organization_id=followup.organization_id,
            customer_id=followup.customer_id,
            kind=kind,
            is_valid=True,
        )
        .order_by("-is_primary", "id")
        .values_list("value", flat=True)
        .first()
        or ""
    )


@transaction.atomic
def followup_send_one(*, followup_id: int, now: dt.datetime) -> str:
    """Decide and send one follow-up on its locked row; returns the outcome's name or ""."""
    followup = (
        FollowUp.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("rule", "organization", "customer", "job")
        .filter(pk=followup_id, status=FollowUp.Status.SCHEDULED, scheduled_for__lte=now)
        .first()
    )
    if followup is None:  # another worker has it, or it is already decided
        return ""
    rule, org = followup.rule, followup.organization
    if not rule.is_active:
        return _close(followup, FollowUp.Status.CANCELLED, "Rule turned off.", "cancelled")
    trigger = _TRIGGERS.get(rule.trigger)
    if trigger is not None and trigger.recheck is not None:
        reason = trigger.recheck(followup)
        if reason:
            return _close(followup, FollowUp.Status.CANCELLED, reason, "cancelled")
    morning = _local_daytime(organization=org, now=now)
    if morning is not None:
        followup.scheduled_for = morning
        followup.reason = "Quiet hours: moved to the next morning."
        followup.save(update_fields=["scheduled_for", "reason", "updated_at"])
        return "rescheduled"
    if followup.customer_id is None:
        return _close(followup, FollowUp.Status.SKIPPED, "No customer.", "skipped")
    kind = ContactPoint.Kind.PHONE if rule.channel == rule.Channel.SMS else ContactPoint.Kind.EMAIL
    to = _contact(followup=followup, kind=kind)
    if not to:
        return _close(followup, FollowUp.Status.SKIPPED, f"No {rule.channel} contact.", "skipped")
    if not consent_allows(organization=org, channel=rule.channel, address=to):
        return _close(
            followup, FollowUp.Status.SKIPPED, f"{to} opted out of {rule.channel}.", "skipped"
        )
    body = followup_render(rule.body, followup.context)
    if rule.channel == rule.Channel.SMS:
        message = sms_queue(
            organization=org,
            to=to,
            body=body,
            customer=followup.customer,
            job=followup.job,
            purpose="follow_up",
        )
    else:
        message = email_queue(
            organization=org,
            to=to,
            subject=followup_render(rule.subject, followup.context)[:300],
            body=body,
            customer=followup.customer,
            job=followup.job,
            purpose="follow_up",
        )
    followup.message = message
    if message.status in (message.Status.FAILED, message.Status.SUPPRESSED):
        followup.status = FollowUp.Status.FAILED
        followup.reason = message.error[:300]
        outcome = "failed"
    else:
        followup.status = FollowUp.Status.SENT
        followup.sent_at = now
        outcome = "sent"
    followup.save(update_fields=["message", "status", "reason", "sent_at", "updated_at"])
    return outcome


def _close(followup: FollowUp, status: str, reason: str, outcome: str) -> str:
    followup.status = status
    followup.reason = reason[:300]
    followup.save(update_fields=["status", "reason", "updated_at"])
    return outcome
