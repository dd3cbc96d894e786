"""Reads for the office dashboard's customer pages: search, the customer 360 and the duplicate
review queue (whose side-by-side cards and evidence rows the admin's review page shows too).
Each loads what its page renders in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q

from customers.models import (
    ContactPoint,
    Customer,
    CustomerMerge,
    CustomerNote,
    DuplicateReview,
    Equipment,
    FollowUp,
    Message,
    ServiceLocation,
)
from customers.selectors import (
    customer_list,
    customers_by_phone_text,
    customers_search,
    duplicate_review_customers_load,
    duplicate_review_list,
)
from dispatchnode.accounts.models import Organization

SEARCH_LIMIT = 50
TIMELINE_LIMIT = 50


@dataclass(frozen=True)
class CustomerCard:
    """One side of a duplicate review: what a person compares."""

    customer: Customer
    phones: list[str]
    emails: list[str]
    addresses: list[str]
    job_count: int


@dataclass(frozen=True)
class EvidenceRow:
    field: str
    a: str
    b: str
    score: float | None
    how: str


def evidence_rows(evidence: dict) -> list[EvidenceRow]:
    """The matcher's per-field evidence as table rows, by field name (PostgreSQL's jsonb does
    not keep the matcher's key order); tolerant of parts it did not send."""
    fields = evidence.get("fields") if isinstance(evidence, dict) else None
    rows = []
    for name, item in sorted((fields or {}).items()):
        item = item if isinstance(item, dict) else {}
        score = item.get("score")
        rows.append(
            EvidenceRow(
                field=name.replace("_", " "),
                a=str(item.get("a") or ""),
                b=str(item.get("b") or ""),
                score=score if isinstance(score, int | float) else None,
                how=str(item.get("how") or ""),
            )
        )
    return rows


def customer_card(customer: Customer, *, job_count: int) -> CustomerCard:
    """The card of a customer loaded by `duplicate_review_customers_load` (ordered contacts and
    locations)."""
    contacts = customer.ordered_contacts
    return CustomerCard(
        customer=customer,
        phones=[c.value for c in contacts if c.kind == ContactPoint.Kind.PHONE],
        emails=[c.value for c in contacts if c.kind == ContactPoint.Kind.EMAIL],
        addresses=[location.one_line for location in customer.ordered_locations],
        job_count=job_count,
    )


def customer_search_results(*, organization: Organization, text: str) -> list[Customer]:
    """Customers matching `text` (a phone number in any written form, a name or an address;
    see `customers_search`), with phones, emails and primary location loaded.

    A whole phone number is looked up by its E.164 form first (an index lookup, however large
    the base); only when nobody has it does the free-text search look for its digits."""
    text = (text or "").strip()
    if not text:
        return []
    customers = customer_list(organization=organization)
    region = organization.country or "US"
    queryset = customers_by_phone_text(customers, text=text, region=region)
    if queryset is None or not queryset.exists():
        queryset = customers_search(customers, text=text, region=region)
    queryset = queryset.prefetch_related(
        Prefetch(
            "locations",
            queryset=ServiceLocation.objects.order_by("-is_primary", "id"),
            to_attr="ordered_locations",
        )
    )
    return list(queryset.order_by("last_name", "first_name", "id")[:SEARCH_LIMIT])


def customer_profile(*, organization: Organization, pk: int) -> Customer | None:
    """One customer (merged-away ones too, so old links still open) with contacts, locations
    with their equipment, and notes loaded."""
    return (
        customer_list(organization=organization, include_merged=True)
        .filter(pk=pk)
        .select_related("merged_into")
        .prefetch_related(
            Prefetch(
                "locations",
                queryset=ServiceLocation.objects.order_by("-is_primary", "id").prefetch_related(
                    Prefetch("equipment", queryset=Equipment.objects.order_by("id"))
                ),
                to_attr="ordered_locations",
            ),
            Prefetch(
                "notes",
                queryset=CustomerNote.objects.select_related("author").order_by("-created_at"),
                to_attr="ordered_notes",
            ),
        )
        .first()
    )


def customer_messages(*, organization: Organization, customer: Customer) -> list[Message]:
    """The customer's latest messages, newest first."""
    return list(
        Message.objects.filter(organization=organization, customer=customer).order_by(
            "-created_at", "-id"
        )[:TIMELINE_LIMIT]
    )


def customer_followups(*, organization: Organization, customer: Customer) -> list[FollowUp]:
    """The customer's latest follow-ups (scheduled first by time, then sent), one query."""
    return list(
        FollowUp.objects.filter(organization=organization, customer=customer)
        .select_related("rule")
        .order_by("-scheduled_for", "-id")[:TIMELINE_LIMIT]
    )


def customer_merges(*, organization: Organization, customer: Customer) -> list[CustomerMerge]:
    """Merges this customer took part in (as survivor or duplicate), newest first."""
    return list(
        CustomerMerge.objects.filter(organization=organization)
        .filter(Q(survivor=customer) | Q(duplicate=customer))
        .select_related("survivor", "duplicate", "performed_by", "undone_by")
        .order_by("-created_at", "-id")
    )


def customer_merge_get(*, organization: Organization, pk: int) -> CustomerMerge | None:
    return (
        CustomerMerge.objects.filter(organization=organization, pk=pk)
        .select_related("survivor", "duplicate")
        .first()
    )


def open_duplicate_reviews(*, organization: Organization, limit: int = 50) -> list[DuplicateReview]:
    """Open reviews, most likely first, both customers' contacts and locations loaded."""
    reviews = list(
        duplicate_review_list(organization=organization)
        .filter(status=DuplicateReview.Status.OPEN)
        .order_by("-probability", "id")[:limit]
    )
    duplicate_review_customers_load(reviews)
    return reviews


def open_duplicate_review_count(*, organization: Organization) -> int:
    return DuplicateReview.objects.filter(
        organization=organization, status=DuplicateReview.Status.OPEN
    ).count()


def duplicate_review_get(*, organization: Organization, pk: int) -> DuplicateReview | None:
    return duplicate_review_list(organization=organization).filter(pk=pk).first()
