"""The follow-up triggers on invoices, registered into `customers.followups`.

- `invoice_overdue`: `delay` after the due date, then every `repeat_every`, at most `max_count`
  times: sequence 1 is found from the due date; sequence k+1 only once sequence k was sent
  `repeat_every` ago, so the reminders never bunch up after downtime and stop at K.
- `invoice_paid`: the review request, `delay` after the payment.

Both recheck on the locked follow-up at send time: an invoice paid (or voided) since cancels an
overdue reminder.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import Exists, F, OuterRef

from customers.followups import DAY_START, Due, followup_trigger_register
from customers.models import FollowUp, FollowUpRule
from invoicing.models import Invoice
from invoicing.services_sending import invoice_public_url

OPEN = (Invoice.Status.SENT, Invoice.Status.PARTIALLY_PAID)
# A first overdue reminder is not started for invoices overdue longer than this.
OVERDUE_LOOKBACK = dt.timedelta(days=60)
PAID_LOOKBACK = dt.timedelta(days=7)


def _pay_url(token: str) -> str:
    """The customer's invoice page (`invoicing.services_sending.invoice_public_url`)."""
    return invoice_public_url(Invoice(public_token=token))


def _has_followup(rule: FollowUpRule, sequence: int) -> Exists:
    return Exists(
        FollowUp.objects.filter(
            rule_id=rule.pk, object_type="invoice", object_id=OuterRef("pk"), sequence=sequence
        )
    )


def _rows(rule: FollowUpRule, qs) -> Iterator[dict]:
    owed = F("total") - F("credited") - F("amount_paid")
    values = (
        qs.order_by()
        .annotate(owed=owed)
        .values(
            "pk",
            "customer_id",
            "job_id",
            "number",
            "owed",
            "currency",
            "public_token",
            "due_date",
            "paid_at",
            "customer__first_name",
        )
    )
    yield from values.iterator(chunk_size=2000)


def _context(rule: FollowUpRule, row: dict) -> dict:
    org = rule.organization
    owed = Decimal(row["owed"] or 0).quantize(Decimal("0.01"))
    symbol = "$" if row["currency"] == "USD" else f"{row['currency']} "
    return {
        "company": org.name,
        "booking_phone": org.office_phone or "",
        "first_name": row["customer__first_name"],
        "invoice_number": row["number"],
        "balance": f"{symbol}{owed:,}",
        "pay_url": _pay_url(row["public_token"]),
    }


def invoice_overdue_due(rule: FollowUpRule, now: dt.datetime) -> Iterator[Due]:
    tz = zoneinfo.ZoneInfo(rule.organization.timezone or "UTC")
    today = now.astimezone(tz).date()
    base = Invoice.objects.filter(organization_id=rule.organization_id, status__in=OPEN).filter(
        total__gt=F("credited") + F("amount_paid")
    )
    # Sequence 1: `delay` days after the due date (the morning of that day, local time).
    last_due = today - dt.timedelta(days=rule.delay.days)
    first = base.filter(
        due_date__isnull=False,
        due_date__lte=last_due,
        due_date__gt=last_due - dt.timedelta(days=OVERDUE_LOOKBACK.days),
    ).filter(~_has_followup(rule, 1))
    for row in _rows(rule, first):
        day = row["due_date"] + dt.timedelta(days=rule.delay.days)
        yield Due(
            object_type="invoice",
            object_id=row["pk"],
            customer_id=row["customer_id"],
            job_id=row["job_id"],
            due=min(now, dt.datetime.combine(day, DAY_START, tzinfo=tz)),
            context=_context(rule, row),
        )
    if rule.repeat_every is None:
        return
    # Sequence k+1: once sequence k went out `repeat_every` ago; never past `max_count`.
    for sequence in range(2, rule.max_count + 1):
        previous_sent = Exists(
            FollowUp.objects.filter(
                rule_id=rule.pk,
                object_type="invoice",
                object_id=OuterRef("pk"),
                sequence=sequence - 1,
                status=FollowUp.Status.SENT,
                sent_at__lte=now - rule.repeat_every,
            )
        )
        repeat = base.filter(previous_sent).filter(~_has_followup(rule, sequence))
        for row in _rows(rule, repeat):
            yield Due(
                object_type="invoice",
                object_id=row["pk"],
                customer_id=row["customer_id"],
                job_id=row["job_id"],
                due=now,
                context=_context(rule, row),
                sequence=sequence,
            )


def invoice_overdue_recheck(followup: FollowUp) -> str:
    invoice = (
        Invoice.objects.filter(pk=followup.object_id, organization_id=followup.organization_id)
        .values("status", "total", "credited", "amount_paid")
        .first()
    )
    if invoice is None:
        return "Invoice deleted."
    if invoice["status"] == Invoice.Status.VOID:
        return "Invoice void."
    if invoice["status"] == Invoice.Status.PAID or (
        invoice["total"] - invoice["credited"] - invoice["amount_paid"] <= 0
    ):
        return "Invoice paid."
    return ""


def invoice_paid_due(rule: FollowUpRule, now: dt.datetime) -> Iterator[Due]:
    qs = Invoice.objects.filter(
        organization_id=rule.organization_id,
        status=Invoice.Status.PAID,
        paid_at__gt=now - rule.delay - PAID_LOOKBACK,
        paid_at__lte=now - rule.delay,
    ).filter(~_has_followup(rule, 1))
    for row in _rows(rule, qs):
        yield Due(
            object_type="invoice",
            object_id=row["pk"],
            customer_id=row["customer_id"],
            job_id=row["job_id"],
            due=row["paid_at"] + rule.delay,
            context=_context(rule, row),
        )


def register() -> None:
    followup_trigger_register(
        FollowUpRule.Trigger.INVOICE_OVERDUE,
        finder=invoice_overdue_due,
        recheck=invoice_overdue_recheck,
    )
    followup_trigger_register(FollowUpRule.Trigger.INVOICE_PAID, finder=invoice_paid_due)
