"""Reads for invoices, payments and the price book.

Every selector takes the organisation explicitly and loads what its callers render, so a list
costs the same number of queries for one row as for five hundred.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from dispatchnode.accounts.models import Organization
from invoicing.models import Invoice, InvoiceLine, Payment, PriceBookItem


def invoice_list(*, organization: Organization) -> QuerySet[Invoice]:
    """Invoices with their lines loaded in position order."""
    return Invoice.objects.filter(organization=organization).prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id"))
    )


def payment_list(*, organization: Organization) -> QuerySet[Payment]:
    return Payment.objects.filter(organization=organization)


def price_book_item_list(*, organization: Organization) -> QuerySet[PriceBookItem]:
    return PriceBookItem.objects.filter(organization=organization)
