"""Reads behind the phone agent's caller context.

Each selector is one query whatever the customer's history (the newest rows only, sliced in the
database), so recognising a caller with 200 past jobs costs what it costs for one. Every read
takes the organisation explicitly: a customer of another company with the same number is never
seen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)

from bookings.models import Appointment, Job
from bookings.rules import APPOINTMENT_OPEN_STATUSES, JOB_DONE_STATUSES
from customers import selectors as customer_selectors
from customers.models import Customer, CustomerNote, Equipment, ServiceLocation
from dispatchnode.accounts.models import Organization
from invoicing.models import Invoice, Payment

# How much history the agent is given: enough to talk about, bounded so the query cost is fixed.
MAX_CANDIDATES = 20
MAX_LOCATIONS = 10
MAX_VISITS = 3
MAX_UPCOMING = 5
MAX_NOTES = 20

OPEN_INVOICE_STATUSES = (Invoice.Status.OPEN, Invoice.Status.PARTIALLY_PAID)


@dataclass(frozen=True)
class Balance:
    open_balance: Decimal
    overdue_invoices: int


def callers_with_phone(*, organization: Organization, e164: str) -> list[Customer]:
    """The organisation's customers (merged-away ones excluded) having this number among any of
    their phones, the one with the most recent job first: when a household shares a line, the
    person who last had work done is the likeliest caller."""
    last_job = (
        Job.objects.filter(organization=organization, customer=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    customers = customer_selectors.customers_with_phone(
        Customer.objects.filter(organization=organization), e164=e164
    )
    return list(
        customers.annotate(last_job_at=Subquery(last_job)).order_by(
            F("last_job_at").desc(nulls_last=True), "-created_at", "-id"
        )[:MAX_CANDIDATES]
    )


def caller_locations(*, organization: Organization, customer: Customer) -> list[ServiceLocation]:
    """Primary location first, each with its equipment loaded (two queries)."""
    equipment = Equipment.objects.filter(organization=organization).order_by("id")
    return list(
        ServiceLocation.objects.filter(organization=organization, customer=customer)
        .order_by("-is_primary", "id")
        .prefetch_related(Prefetch("equipment", queryset=equipment))[:MAX_LOCATIONS]
    )


def caller_last_visits(*, organization: Organization, customer: Customer) -> list[Job]:
    """Finished jobs, the most recently completed first."""
    return list(
        Job.objects.filter(
            organization=organization, customer=customer, status__in=JOB_DONE_STATUSES
        )
        .select_related("service_type", "equipment")
        .order_by(F("completed_at").desc(nulls_last=True), "-created_at", "-id")[:MAX_VISITS]
    )


def caller_upcoming(
    *, organization: Organization, customer: Customer, now: dt.datetime
) -> list[Appointment]:
    """Active appointments not yet over, soonest first."""
    return list(
        Appointment.objects.filter(
            organization=organization,
            job__customer=customer,
            status__in=APPOINTMENT_OPEN_STATUSES,
            end__gte=now,
        )
        .select_related("technician", "job")
        .order_by("start", "id")[:MAX_UPCOMING]
    )


def caller_balance(*, organization: Organization, customer: Customer, today: dt.date) -> Balance:
    """What the customer owes on open invoices, and how many of those are past their due date
    (`today` in the organisation's timezone)."""
    owed = ExpressionWrapper(
        F("total") - F("amount_paid"), output_field=DecimalField(max_digits=12, decimal_places=2)
    )
    row = Invoice.objects.filter(
        organization=organization, customer=customer, status__in=OPEN_INVOICE_STATUSES
    ).aggregate(balance=Sum(owed), overdue=Count("id", filter=Q(due_date__lt=today)))
    return Balance(
        open_balance=Decimal(row["balance"] or 0).quantize(Decimal("0.01")),
        overdue_invoices=row["overdue"] or 0,
    )


def caller_notes(*, organization: Organization, customer: Customer) -> list[CustomerNote]:
    """Notes the agent may use: complaints first (so one is never cut off by the limit), then
    the newest."""
    complaint_first = Case(When(kind=CustomerNote.Kind.COMPLAINT, then=Value(0)), default=Value(1))
    return list(
        CustomerNote.objects.filter(
            organization=organization, customer=customer, visible_to_agent=True
        ).order_by(complaint_first, "-created_at", "-id")[:MAX_NOTES]
    )


def caller_has_payment_method(*, organization: Organization, customer: Customer) -> bool:
    """We keep no card vault of our own: a customer counts as having a payment method on file
    when a gateway (anything but a manual entry) has taken a card or bank payment from them."""
    return (
        Payment.objects.filter(
            organization=organization,
            invoice__customer=customer,
            status=Payment.Status.SUCCEEDED,
            method__in=(Payment.Method.CARD, Payment.Method.ACH),
        )
        .exclude(provider="manual")
        .exists()
    )
