"""Query parameters of the customer resources."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from customers import selectors
from customers.models import (
    Customer,
    CustomerMerge,
    CustomerNote,
    DuplicateReview,
    FollowUp,
    FollowUpRule,
)
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


class CustomerMergeFilter(TenantFilterSet):
    survivor = IdFilter(field_name="survivor_id")
    duplicate = IdFilter(field_name="duplicate_id")
    source = django_filters.ChoiceFilter(choices=CustomerMerge.Source.choices)
    undone = django_filters.BooleanFilter(
        field_name="undone_at", lookup_expr="isnull", exclude=True, help_text="Undone or not."
    )


class DuplicateReviewFilter(TenantFilterSet):
    status = django_filters.ChoiceFilter(choices=DuplicateReview.Status.choices)
    source = django_filters.ChoiceFilter(choices=DuplicateReview.Source.choices)
    customer = IdFilter(method="filter_customer", help_text="Either customer of the pair.")

    def filter_customer(self, queryset, name, value):
        return queryset.filter(Q(customer_a_id=value) | Q(customer_b_id=value))


class FollowUpFilter(TenantFilterSet):
    customer = IdFilter(field_name="customer_id")
    job = IdFilter(field_name="job_id")
    rule = IdFilter(field_name="rule_id")
    status = django_filters.ChoiceFilter(choices=FollowUp.Status.choices)


class FollowUpRuleFilter(TenantFilterSet):
    trigger = django_filters.ChoiceFilter(choices=FollowUpRule.Trigger.choices)
    is_active = django_filters.BooleanFilter()
