"""Query parameters of the invoicing resources."""

from __future__ import annotations

import django_filters

from bookings.models import CATEGORY_CHOICES
from dispatchnode.api.filters import IdFilter, TenantFilterSet
from invoicing.models import Invoice, PriceBookItem


class InvoiceFilter(TenantFilterSet):
    job = IdFilter(field_name="job_id")
    customer = IdFilter(field_name="customer_id")
    status = django_filters.ChoiceFilter(choices=Invoice.Status.choices)


class PaymentFilter(TenantFilterSet):
    invoice = IdFilter(field_name="invoice_id")


class PriceBookItemFilter(TenantFilterSet):
    category = django_filters.ChoiceFilter(choices=CATEGORY_CHOICES)
    kind = django_filters.ChoiceFilter(choices=PriceBookItem.Kind.choices)
