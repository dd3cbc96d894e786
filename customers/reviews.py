"""The duplicate review queue: one row per likely duplicate pair, decided once, remembered.

Intake and batch dedupe open reviews; a person dismisses a pair here or merges it
(`customers.merge.duplicate_review_merge`). Below both intake and merge, so either may use it.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer, DuplicateReview
from dispatchnode.accounts.models import Organization, User
from dispatchnode.core.errors import Conflict, NotFound


def probability_decimal(value: float | Decimal | None) -> Decimal | None:
    """A match probability as stored: three decimal places."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.001"))


@transaction.atomic
def duplicate_review_open(
    *,
    organization: Organization,
    customer_a: Customer,
    customer_b: Customer,
    probability: float | Decimal,
    evidence: dict,
    source: str,
) -> DuplicateReview | None:
    """Queue a likely duplicate pair for a person, in either order.

    Idempotent: an open row of the pair gets the new probability and evidence. A pair already
    decided (dismissed or merged) is never reopened: None. Refuses the same customer twice, a
    customer merged away (Conflict) and another organisation's customer (NotFound).
    """
    for customer in (customer_a, customer_b):
        if customer.organization_id != organization.pk:
            raise NotFound("Customer not found.")
    if customer_a.pk == customer_b.pk:
        raise Conflict("A customer cannot be a duplicate of itself.", code="review_same_customer")
    merged_into = dict(  # from the database: the caller's objects may predate a merge
        Customer.objects.filter(pk__in=[customer_a.pk, customer_b.pk]).values_list(
            "pk", "merged_into_id"
        )
    )
    for pk, survivor_id in sorted(merged_into.items()):
        if survivor_id is not None:
            raise Conflict(
                f"Customer #{pk} is merged into #{survivor_id}.", code="review_customer_merged"
            )
    low, high = sorted((customer_a, customer_b), key=lambda c: c.pk)
    pair = {"organization": organization, "customer_a": low, "customer_b": high}
    values = {"probability": probability_decimal(probability), "evidence": evidence or {}}
    review = DuplicateReview.objects.select_for_update().filter(**pair).first()
    if review is None:
        try:
            with transaction.atomic():  # a concurrent opener of the same pair may win the insert
                review = DuplicateReview(**pair, **values, source=source)
                review.full_clean()
                review.save()
                return review
        except IntegrityError:
            review = DuplicateReview.objects.select_for_update().get(**pair)
    if review.status != DuplicateReview.Status.OPEN:
        return None
    review.probability, review.evidence = values["probability"], values["evidence"]
    review.full_clean()
    review.save(update_fields=["probability", "evidence", "updated_at"])
    return review


def duplicate_review_lock_open(review: DuplicateReview) -> DuplicateReview:
    review = DuplicateReview.objects.select_for_update().get(pk=review.pk)
    if review.status != DuplicateReview.Status.OPEN:
        raise Conflict(
            f"This pair has already been decided ({review.get_status_display().lower()}).",
            code="review_decided",
        )
    return review


@transaction.atomic
def duplicate_review_dismiss(
    *, review: DuplicateReview, actor: User | None = None
) -> DuplicateReview:
    """ "Not the same person": remembered, so batch dedupe never queues the pair again."""
    review = duplicate_review_lock_open(review)
    review.status = DuplicateReview.Status.DISMISSED
    review.decided_by = actor
    review.decided_at = timezone.now()
    review.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return review


def duplicate_pair_decided(*, organization: Organization, a_id: int, b_id: int) -> bool:
    """Whether a person already decided this pair (dismissed or merged): batch dedupe skips it."""
    low, high = sorted((a_id, b_id))
    return (
        DuplicateReview.objects.filter(
            organization=organization, customer_a_id=low, customer_b_id=high
        )
        .exclude(status=DuplicateReview.Status.OPEN)
        .exists()
    )
