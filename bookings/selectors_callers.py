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
from typing import Protocol

from django.db.models import (
    Case,
    F,
    OuterRef,
    Prefetch,
    Subquery,
    Value,
    When,
)

from bookings.models import Appointment, Job
from bookings.rules import APPOINTMENT_OPEN_STATUSES, JOB_DONE_STATUSES
from customers import selectors as customer_selectors
from customers.models import Customer, CustomerNote, Equipment, ServiceLocation
from dispatchnode.accounts.models import Organization

# How much history the agent is given: enough to talk about, bounded so the query cost is fixed.
MAX_CANDIDATES = 20
MAX_LOCATIONS = 10
MAX_VISITS = 3
MAX_UPCOMING = 5
MAX_NOTES = 20


@dataclass(frozen=True)
class Balance:
    open_balance: Decimal
    overdue_invoices: int


class CallerAccount(Protocol):
    """The caller's invoices and payments. Invoicing sits above bookings (an invoice is for a
    job), so bookings never imports it: `invoicing.apps` registers its reader at start-up."""

    def balance(
        self, *, organization: Organization, customer: Customer, today: dt.date
    ) -> Balance: ...

    def has_payment_method(self, *, organization: Organization, customer: Customer) -> bool: ...


_account: CallerAccount | None = None


def caller_account_register(account: CallerAccount) -> CallerAccount:
    """Make `account` the reader of `caller_balance` and `caller_has_payment_method`."""
    global _account
    _account = account
    return account


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
    (`today` in the organisation's timezone): read by the registered `CallerAccount`."""
    if _account is None:  # no invoicing installed: there are no invoices to owe on
        return Balance(open_balance=Decimal("0.00"), overdue_invoices=0)
    return _account.balance(organization=organization, customer=customer, today=today)


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
    """Whether a payment method is on file for the customer: read by the registered
    `CallerAccount`."""
    if _account is None:
        return False
    return _account.has_payment_method(organization=organization, customer=customer)
