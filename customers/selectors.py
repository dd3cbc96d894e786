"""Reads for customers, their locations, equipment, notes and message timeline.

Every selector takes the organisation explicitly and loads what its callers render, so a list
costs the same number of queries for one row as for five hundred.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects

from customers.models import (
    Consent,
    ContactPoint,
    Customer,
    CustomerMerge,
    CustomerNote,
    DuplicateReview,
    Equipment,
    Message,
    ServiceLocation,
)
from dispatchnode.accounts.models import Organization
from dispatchnode.core.phones import InvalidPhoneNumber, phone_to_e164


def customer_list(
    *, organization: Organization, include_merged: bool = False
) -> QuerySet[Customer]:
    """Customers with their phones (`phone_contacts`) and emails (`email_contacts`) loaded,
    primary first.

    Customers merged into another are hidden unless `include_merged` (a detail page of a merged
    customer still opens, so old links keep working and show where it went).
    """
    contacts = ContactPoint.objects.order_by("-is_primary", "id")
    customers = Customer.objects.filter(organization=organization)
    if not include_merged:
        customers = customers.filter(merged_into__isnull=True)
    return customers.prefetch_related(
        Prefetch(
            "contacts",
            queryset=contacts.filter(kind=ContactPoint.Kind.PHONE),
            to_attr="phone_contacts",
        ),
        Prefetch(
            "contacts",
            queryset=contacts.filter(kind=ContactPoint.Kind.EMAIL),
            to_attr="email_contacts",
        ),
    )


def _has_contact(*, kind: str, **lookups) -> Exists:
    return Exists(
        ContactPoint.objects.filter(
            organization_id=OuterRef("organization_id"),
            customer_id=OuterRef("pk"),
            kind=kind,
            **lookups,
        )
    )


def customers_with_phone(queryset: QuerySet[Customer], *, e164: str) -> QuerySet[Customer]:
    """Customers with this number (E.164) among any of their phones; merged-away customers
    never answer a lookup (their survivor does)."""
    return queryset.filter(
        _has_contact(kind=ContactPoint.Kind.PHONE, value=e164), merged_into__isnull=True
    )


def customers_with_email(queryset: QuerySet[Customer], *, email: str) -> QuerySet[Customer]:
    """Customers with this address among their emails, compared trimmed and lower-cased;
    merged-away customers excluded."""
    return queryset.filter(
        _has_contact(kind=ContactPoint.Kind.EMAIL, value=email.strip().lower()),
        merged_into__isnull=True,
    )


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _looks_like_phone(text: str) -> bool:
    return len(_digits(text)) >= 4 and all(ch.isdigit() or ch in " +-().," for ch in text)


def _word_matches(word: str) -> Q:
    locations = ServiceLocation.objects.filter(customer_id=OuterRef("pk")).filter(
        Q(street__icontains=word)
        | Q(city__icontains=word)
        | Q(postal_code__icontains=word)
        | Q(raw_address__icontains=word)
    )
    matches = (
        Q(first_name__icontains=word)
        | Q(last_name__icontains=word)
        | Q(company_name__icontains=word)
        | Q(_has_contact(kind=ContactPoint.Kind.EMAIL, value__icontains=word))
        | Q(Exists(locations))
    )
    if len(_digits(word)) >= 3:
        matches |= Q(_has_contact(kind=ContactPoint.Kind.PHONE, value__contains=_digits(word)))
    return matches


def customers_search(
    queryset: QuerySet[Customer], *, text: str, region: str = "US"
) -> QuerySet[Customer]:
    """Free-text search over names, company, phones, emails and addresses.

    Each word must match somewhere (a first or last name, the company, an email, a street, a
    city, a postal code, or, with three digits or more, a phone number containing them), so
    "john smith" and "smith 78701" narrow as expected. A text that is a whole phone number in
    any written form also matches its E.164 form exactly. Merged-away customers are excluded.
    """
    queryset = queryset.filter(merged_into__isnull=True)
    words = text.split()
    if not words:
        return queryset
    matches = Q()
    for word in words:
        matches &= _word_matches(word)
    if _looks_like_phone(text):
        try:
            e164 = phone_to_e164(text, region=region)
        except InvalidPhoneNumber:
            pass
        else:
            matches |= Q(_has_contact(kind=ContactPoint.Kind.PHONE, value=e164))
    return queryset.filter(matches)


def customers_by_phone_text(
    queryset: QuerySet[Customer], *, text: str, region: str = "US"
) -> QuerySet[Customer] | None:
    """When `text` is a whole phone number in any written form, the customers with that number
    (one indexed lookup of its E.164 form); None when it is not a phone number."""
    if not _looks_like_phone(text):
        return None
    try:
        e164 = phone_to_e164(text, region=region)
    except InvalidPhoneNumber:
        return None
    return customers_with_phone(queryset, e164=e164)


def location_list(*, organization: Organization) -> QuerySet[ServiceLocation]:
    return ServiceLocation.objects.filter(organization=organization)


def equipment_list(*, organization: Organization) -> QuerySet[Equipment]:
    """Equipment with its location loaded (the output names the location's customer)."""
    return Equipment.objects.filter(organization=organization).select_related("location")


def customer_note_list(*, organization: Organization) -> QuerySet[CustomerNote]:
    return CustomerNote.objects.filter(organization=organization)


def message_list(*, organization: Organization) -> QuerySet[Message]:
    return Message.objects.filter(organization=organization)


def customer_merge_list(*, organization: Organization) -> QuerySet[CustomerMerge]:
    return CustomerMerge.objects.filter(organization=organization)


def duplicate_review_list(*, organization: Organization) -> QuerySet[DuplicateReview]:
    """The review queue, open pairs first, most likely first; both customers joined (their
    contacts and addresses come from `duplicate_review_customers_load` on the page)."""
    return DuplicateReview.objects.filter(organization=organization).select_related(
        "customer_a", "customer_b"
    )


def duplicate_review_customers_load(reviews: Iterable[DuplicateReview]) -> None:
    """Load both customers' contacts (`ordered_contacts`, primary first) and locations
    (`ordered_locations`, primary first) for a page of reviews: two queries for the whole page,
    however many reviews and whichever side a customer is on."""
    customers = [c for r in reviews for c in (r.customer_a, r.customer_b)]
    prefetch_related_objects(
        customers,
        Prefetch(
            "contacts",
            queryset=ContactPoint.objects.order_by("-is_primary", "id"),
            to_attr="ordered_contacts",
        ),
        Prefetch(
            "locations",
            queryset=ServiceLocation.objects.order_by("-is_primary", "id"),
            to_attr="ordered_locations",
        ),
    )


def consent_allows(*, organization: Organization, channel: str, address: str) -> bool:
    """Whether the organisation may message `address` (E.164 for SMS, an email in any case) on
    `channel`: yes unless its consent record says opted out."""
    if channel == Consent.Channel.EMAIL:
        address = (address or "").strip().lower()
    return not Consent.objects.filter(
        organization=organization,
        channel=channel,
        address=address,
        status=Consent.Status.OPTED_OUT,
    ).exists()
