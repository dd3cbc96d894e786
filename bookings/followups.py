"""The follow-up triggers on bookings' objects, registered into `customers.followups`.

Each finder is one set-based query: the objects due for the rule in a window that have no
`FollowUp` row for it yet (`NOT EXISTS`), read with `values()` so a scan over 20,000 jobs does
not build model instances. Each recheck runs at send time on the locked follow-up row.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q

from bookings.models import APPOINTMENT_ACTIVE_STATUSES, Appointment, Callback, CallSession, Job
from bookings.services_callbacks import HOT_LEAD_SCORE
from customers.followups import Due, followup_trigger_register
from customers.models import FollowUp, FollowUpRule
from dispatchnode.accounts.models import PhoneNumber

# How far back a finder looks past the due time: a rule turned on today does not message
# every customer of the last ten years; a scan that was down for a few days catches up.
LOOKBACK = dt.timedelta(days=7)
DONE_STATUSES = (Job.Status.COMPLETED, Job.Status.INVOICED, Job.Status.CLOSED)


def _has_followup(rule: FollowUpRule, object_type: str) -> Exists:
    return Exists(
        FollowUp.objects.filter(rule_id=rule.pk, object_type=object_type, object_id=OuterRef("pk"))
    )


def _base_context(rule: FollowUpRule) -> dict:
    org = rule.organization
    phone = (
        PhoneNumber.objects.filter(organization=org, is_active=True)
        .values_list("e164", flat=True)
        .first()
    )
    return {"company": org.name, "booking_phone": org.office_phone or phone or ""}


def _category(qs, rule: FollowUpRule, prefix: str = ""):
    if rule.category:
        return qs.filter(**{f"{prefix}service_type__category": rule.category})
    return qs


def _job_dues(rule, qs, *, object_type: str, time_field: str) -> Iterator[Due]:
    """A job-based rule's due follow-ups: `delay` after each job's `time_field`, for the jobs
    of `qs` (in the rule's category) that have none of this rule yet."""
    base = _base_context(rule)
    fields = ("pk", "customer_id", "customer__first_name", "service_type__name", time_field)
    qs = _category(qs, rule).filter(~_has_followup(rule, object_type)).order_by()
    for row in qs.values(*fields).iterator(chunk_size=2000):
        yield Due(
            object_type=object_type,
            object_id=row["pk"],
            customer_id=row["customer_id"],
            job_id=row["pk"],
            due=row[time_field] + rule.delay,
            context={
                **base,
                "first_name": row["customer__first_name"],
                "service": row["service_type__name"] or "service",
            },
        )


def job_completed_due(rule: FollowUpRule, now: dt.datetime) -> Iterator[Due]:
    """Jobs completed `delay` ago (within the look-back), e.g. the 30-day tune-up text."""
    start, end = now - rule.delay - LOOKBACK, now - rule.delay
    qs = Job.objects.filter(
        organization_id=rule.organization_id,
        status__in=DONE_STATUSES,
        completed_at__gt=start,
        completed_at__lte=end,
    )
    yield from _job_dues(rule, qs, object_type="job", time_field="completed_at")


def booking_created_due(rule: FollowUpRule, now: dt.datetime) -> Iterator[Due]:
    """Jobs created `delay` ago that are still open."""
    qs = Job.objects.filter(
        organization_id=rule.organization_id,
        created_at__gt=now - rule.delay - LOOKBACK,
        created_at__lte=now - rule.delay,
    ).exclude(status=Job.Status.CANCELLED)
    yield from _job_dues(rule, qs, object_type="booking", time_field="created_at")


def appointment_reminder_due(rule: FollowUpRule, now: dt.datetime) -> Iterator[Due]:
    """Appointments starting within `delay` from now (due `delay` before the start)."""
    tz = zoneinfo.ZoneInfo(rule.organization.timezone or "UTC")
    qs = Appointment.objects.filter(
        organization_id=rule.organization_id,
        status=Appointment.Status.SCHEDULED,
        start__gt=now,
        start__lte=now + rule.delay,
    )
    qs = _category(qs, rule, prefix="job__").filter(~_has_followup(rule, "appointment")).order_by()
    base = _base_context(rule)
    rows = qs.values(
        "pk",
        "job_id",
        "job__customer_id",
        "job__customer__first_name",
        "job__service_type__name",
        "start",
        "arrival_window_start",
        "arrival_window_end",
    )
    for row in rows.iterator(chunk_size=2000):
        ws = (row["arrival_window_start"] or row["start"]).astimezone(tz)
        we = row["arrival_window_end"]
        window = f"{ws:%a %b} {ws.day} {ws:%I:%M %p}".replace(" 0", " ")
        if we:
            window += f"–{we.astimezone(tz):%I:%M %p}".replace("–0", "–")
        yield Due(
            object_type="appointment",
            object_id=row["pk"],
            customer_id=row["job__customer_id"],
            job_id=row["job_id"],
            due=max(now, row["start"] - rule.delay),
            context={
                **base,
                "first_name": row["job__customer__first_name"],
                "service": row["job__service_type__name"] or "service",
                "window": window,
            },
        )


def appointment_recheck(followup: FollowUp) -> str:
    status = (
        Appointment.objects.filter(pk=followup.object_id, organization_id=followup.organization_id)
        .values_list("status", flat=True)
        .first()
    )
    if status is None or status == Appointment.Status.CANCELLED:
        return "Appointment cancelled."
    if status not in APPOINTMENT_ACTIVE_STATUSES:
        return "Appointment no longer scheduled."
    return ""


def booking_recheck(followup: FollowUp) -> str:
    if Job.objects.filter(pk=followup.object_id, status=Job.Status.CANCELLED).exists():
        return "Job cancelled."
    return ""


def lead_unbooked_due(rule: FollowUpRule, now: dt.datetime) -> Iterator[Due]:
    """Calls that ended without a booking, `delay` after the call: the nurture sequence. Hot
    leads and calls with a call-back item are the office's callback queue, not nurtured."""
    booked_since = Exists(
        Job.objects.filter(
            customer_id=OuterRef("customer_id"), created_at__gte=OuterRef("started_at")
        )
    )
    qs = (
        CallSession.objects.filter(
            organization_id=rule.organization_id,
            outcome=CallSession.Outcome.NO_BOOKING,
            customer__isnull=False,
            ended_at__gt=now - rule.delay - LOOKBACK,
            ended_at__lte=now - rule.delay,
        )
        .filter(Q(lead_score__isnull=True) | Q(lead_score__lt=HOT_LEAD_SCORE))
        .filter(~booked_since, ~_has_followup(rule, "call"))
        .exclude(Exists(Callback.objects.filter(call_id=OuterRef("pk"))))
        .order_by()
    )
    base = _base_context(rule)
    rows = qs.values("pk", "customer_id", "customer__first_name", "context", "ended_at")
    for row in rows.iterator(chunk_size=2000):
        service = ((row["context"] or {}).get("service_name") or "your service request")[:80]
        yield Due(
            object_type="call",
            object_id=row["pk"],
            customer_id=row["customer_id"],
            job_id=None,
            due=row["ended_at"] + rule.delay,
            context={**base, "first_name": row["customer__first_name"], "service": service},
        )


def lead_recheck(followup: FollowUp) -> str:
    """Stop the nurture as soon as the customer books (a job created after the call)."""
    started = (
        CallSession.objects.filter(pk=followup.object_id)
        .values_list("started_at", "created_at")
        .first()
    )
    if started is None:
        return "Call deleted."
    since = started[0] or started[1]
    if Job.objects.filter(customer_id=followup.customer_id, created_at__gte=since).exists():
        return "Booked since the call."
    return ""


def register() -> None:
    T = FollowUpRule.Trigger
    followup_trigger_register(T.JOB_COMPLETED, finder=job_completed_due)
    followup_trigger_register(
        T.BOOKING_CREATED, finder=booking_created_due, recheck=booking_recheck
    )
    followup_trigger_register(
        T.APPOINTMENT_REMINDER, finder=appointment_reminder_due, recheck=appointment_recheck
    )
    followup_trigger_register(T.LEAD_UNBOOKED, finder=lead_unbooked_due, recheck=lead_recheck)
