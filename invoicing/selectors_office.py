"""Reads for the office dashboard: a customer's invoices, a job's invoices, and the value of
the work booked on a day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery, Sum

from bookings.models import Job
from bookings.selectors import local_day_bounds
from customers.models import Customer, Message
from dispatchnode.accounts.models import Organization
from invoicing.models import CreditNote, Invoice, InvoiceEvent, InvoiceLine, Payment, PriceBookItem

OFFICE_PAGE_SIZE = 100


def customer_invoices(*, organization: Organization, customer: Customer) -> QuerySet[Invoice]:
    """The customer's invoices, newest first, with the job they bill."""
    return (
        Invoice.objects.filter(organization=organization, customer=customer)
        .select_related("job")
        .order_by("-created_at", "-id")
    )


def job_invoices(*, organization: Organization, job: Job) -> QuerySet[Invoice]:
    """The job's invoices (usually one), newest first, with their lines in order."""
    return (
        Invoice.objects.filter(organization=organization, job=job)
        .prefetch_related("lines")
        .order_by("-created_at", "-id")
    )


def booked_value_on_local_day(*, organization: Organization, day: dt.date) -> Decimal:
    """The value of the work booked on `day` (organisation's timezone): for each job created
    that day and not cancelled, the price-book price of its service type (the lowest active
    price if several items name it; nothing for a job without one). One aggregate query."""
    start, end = local_day_bounds(day, tz=organization.tzinfo)
    price = (
        PriceBookItem.objects.filter(
            organization=organization,
            service_type_id=OuterRef("service_type_id"),
            is_active=True,
        )
        .order_by("unit_price")
        .values("unit_price")[:1]
    )
    total = (
        Job.objects.filter(organization=organization, created_at__gte=start, created_at__lt=end)
        .exclude(status=Job.Status.CANCELLED)
        .annotate(price=Subquery(price))
        .aggregate(total=Sum("price"))["total"]
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))


def office_invoices(
    *, organization: Organization, status: str = "", search: str = "", today: dt.date
) -> QuerySet[Invoice]:
    """The invoices page: newest first, filtered by status (or "overdue": sent or partially
    paid and past due on `today`) and by number or customer name."""
    invoices = Invoice.objects.filter(organization=organization).select_related("customer", "job")
    if status == "overdue":
        invoices = invoices.filter(
            status__in=(Invoice.Status.SENT, Invoice.Status.PARTIALLY_PAID), due_date__lt=today
        )
    elif status in Invoice.Status.values:
        invoices = invoices.filter(status=status)
    search = search.strip()
    if search:
        invoices = invoices.filter(
            Q(number__icontains=search)
            | Q(customer__last_name__icontains=search)
            | Q(customer__first_name__icontains=search)
            | Q(customer__company_name__icontains=search)
        )
    return invoices.order_by("-created_at", "-id")[:OFFICE_PAGE_SIZE]


def office_invoice_get(*, organization: Organization, pk: int) -> Invoice | None:
    """One invoice with everything its page shows, in a fixed number of queries."""
    return (
        Invoice.objects.filter(organization=organization, pk=pk)
        .select_related("customer", "job", "job__service_type")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id")),
            Prefetch("payments", queryset=Payment.objects.order_by("received_at", "id")),
            Prefetch("credit_notes", queryset=CreditNote.objects.order_by("created_at", "id")),
            Prefetch(
                "events",
                queryset=InvoiceEvent.objects.select_related("actor").order_by("created_at", "id"),
            ),
        )
        .first()
    )


def invoice_messages(*, organization: Organization, invoice: Invoice) -> list[Message]:
    """The invoice's emails and texts to the customer, with their delivery status."""
    messages = Message.objects.filter(
        organization=organization, customer_id=invoice.customer_id, purpose="invoice"
    )
    if invoice.job_id:
        messages = messages.filter(job_id=invoice.job_id)
    return list(messages.order_by("-created_at", "-id")[:20])
