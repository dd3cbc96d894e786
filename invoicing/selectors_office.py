"""Reads for the office dashboard: a customer's invoices and a job's invoices."""

from __future__ import annotations

from django.db.models import QuerySet

from bookings.models import Job
from customers.models import Customer
from dispatchnode.accounts.models import Organization
from invoicing.models import Invoice


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
