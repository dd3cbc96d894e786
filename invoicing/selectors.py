"""Reads for invoices, payments and the price book.

Every selector takes the organisation explicitly and loads what its callers render, so a list
costs the same number of queries for one row as for five hundred.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Prefetch, Q, QuerySet, Sum

from bookings.models import Job
from bookings.selectors_callers import Balance
from customers.models import Customer
from dispatchnode.accounts.models import Organization
from invoicing.gateways import gateway_for
from invoicing.models import CreditNote, Invoice, InvoiceLine, Payment, PriceBookItem

OPEN_INVOICE_STATUSES = (Invoice.Status.SENT, Invoice.Status.PARTIALLY_PAID)
TOKEN_MAX_LENGTH = 64


def invoice_by_token(*, token: str) -> Invoice | None:
    """The invoice a public token opens (any organisation: the token is the key), or None.
    A draft is not public yet; a void invoice still shows, as void."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return (
        Invoice._base_manager.filter(public_token=token, organization__is_active=True)
        .exclude(status=Invoice.Status.DRAFT)
        .select_related("organization", "customer")
        .first()
    )


@dataclass(frozen=True)
class PublicInvoicePage:
    lines: list[InvoiceLine]
    payments: list[Payment]
    credit_notes: list[CreditNote]
    location: str
    job_number: str
    service: str
    can_pay_online: bool


def invoice_public_page(*, invoice: Invoice) -> PublicInvoicePage:
    """What the customer's page shows, in a fixed number of queries."""
    job = (
        Job.objects.filter(pk=invoice.job_id).select_related("location", "service_type").first()
        if invoice.job_id
        else None
    )
    return PublicInvoicePage(
        lines=list(invoice.lines.order_by("position", "id")),
        payments=list(
            invoice.payments.filter(
                status__in=(Payment.Status.SUCCEEDED, Payment.Status.REFUNDED)
            ).order_by("received_at", "id")
        ),
        credit_notes=list(invoice.credit_notes.order_by("created_at", "id")),
        location=str(job.location) if job is not None and job.location_id else "",
        job_number=job.number if job is not None else "",
        service=job.service_type.name if job is not None and job.service_type_id else "",
        can_pay_online=invoice.balance > 0
        and invoice.status != Invoice.Status.VOID
        and gateway_for(organization=invoice.organization) is not None,
    )


def invoice_list(*, organization: Organization) -> QuerySet[Invoice]:
    """Invoices with their lines loaded in position order."""
    return Invoice.objects.filter(organization=organization).prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id")),
        Prefetch("credit_notes", queryset=CreditNote.objects.order_by("created_at", "id")),
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
        F("total") - F("credited") - F("amount_paid"),
        output_field=DecimalField(max_digits=12, decimal_places=2),
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
