"""Query parameters of the customer resources."""

from __future__ import annotations

import django_filters

from customers import selectors
from customers.models import Customer, CustomerNote
from dispatchnode.api.filters import IdFilter, TenantFilterSet
from dispatchnode.core.phones import InvalidPhoneNumber, phone_to_e164


class CustomerFilter(TenantFilterSet):
    phone = django_filters.CharFilter(
        method="filter_phone",
        help_text=(
            "Any written form ((512) 555-0142, 512.555.0142, +1 512 555 0142), read in the "
            "organisation's country; matches any of the customer's phones."
        ),
    )
    email = django_filters.CharFilter(
        method="filter_email", help_text="Exact address, compared trimmed and lower-cased."
    )
    search = django_filters.CharFilter(
        method="filter_search",
        help_text="Words in the name, company, phones, emails or addresses (street, city, ZIP).",
    )

    class Meta:
        model = Customer
        fields = ["phone", "email", "search"]

    def filter_phone(self, queryset, name, value):
        try:
            e164 = phone_to_e164(value, region=self.organization.country)
        except InvalidPhoneNumber as exc:
            raise self.invalid(name, exc.message) from exc
        return selectors.customers_with_phone(queryset, e164=e164)

    def filter_email(self, queryset, name, value):
        return selectors.customers_with_email(queryset, email=value)

    def filter_search(self, queryset, name, value):
        return selectors.customers_search(queryset, text=value, region=self.organization.country)


class LocationFilter(TenantFilterSet):
    customer = IdFilter(field_name="customer_id")


class EquipmentFilter(TenantFilterSet):
    location = IdFilter(field_name="location_id")
    customer = IdFilter(field_name="location__customer_id")


class CustomerNoteFilter(TenantFilterSet):
    customer = IdFilter(field_name="customer_id")
    kind = django_filters.ChoiceFilter(choices=CustomerNote.Kind.choices)


class MessageFilter(TenantFilterSet):
    customer = IdFilter(field_name="customer_id")
