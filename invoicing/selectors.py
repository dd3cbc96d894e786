"""Reads for invoices, payments and the price book.

Every selector takes the organisation explicitly and loads what its callers render, so a list
costs the same number of queries for one row as for five hundred.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Prefetch, Q, QuerySet, Sum

from bookings.selectors_callers import Balance
from customers.models import Customer
from dispatchnode.accounts.models import Organization
from invoicing.models import Invoice, InvoiceLine, Payment, PriceBookItem

OPEN_INVOICE_STATUSES = (Invoice.Status.SENT, Invoice.Status.PARTIALLY_PAID)


def invoice_list(*, organization: Organization) -> QuerySet[Invoice]:
    """Invoices with their lines loaded in position order."""
    return Invoice.objects.filter(organization=organization).prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id"))
    )


def payment_list(*, organization: Organization) -> QuerySet[Payment]:
    return Payment.objects.filter(organization=organization)


def price_book_item_list(*, organization: Organization) -> QuerySet[PriceBookItem]:
    return PriceBookItem.objects.filter(organization=organization)


# --- The phone agent's view of a caller's account (`bookings.selectors_callers.CallerAccount`)


def customer_balance(*, organization: Organization, customer: Customer, today: dt.date) -> Balance:
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


def customer_has_payment_method(*, organization: Organization, customer: Customer) -> bool:
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


class CallerAccountReader:
    """`CallerAccount` for the phone agent, registered by `invoicing.apps`."""

    def balance(self, *, organization: Organization, customer: Customer, today: dt.date) -> Balance:
        return customer_balance(organization=organization, customer=customer, today=today)

    def has_payment_method(self, *, organization: Organization, customer: Customer) -> bool:
        return customer_has_payment_method(organization=organization, customer=customer)
