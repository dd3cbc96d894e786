"""The duplicate review queue: one row per pair, decided once, remembered."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from customers.merge import customer_merge, customer_unmerge, duplicate_review_merge
from customers.models import CustomerMerge, CustomerNote, DuplicateReview
from customers.reviews import (
    duplicate_pair_decided,
    duplicate_review_dismiss,
    duplicate_review_open,
)
from dispatchnode.accounts.models import Membership
from dispatchnode.core.errors import ApplicationError, Conflict, NotFound
from tests import factories

EVIDENCE = {
    "probability": 0.91,
    "fields": {
        "first_name": {"score": 0.95, "a": "BILL", "b": "WILLIAM", "how": "nickname"},
        "phone": {"score": 1.0, "a": "+15125550177", "b": "+15125550177", "how": "exact"},
    },
    "blocks": ["phone", "address"],
}


@pytest.fixture
def older(org):
    return factories.CustomerFactory(organization=org, first_name="William", last_name="Jenkins")


@pytest.fixture
def newer(org, older):
    return factories.CustomerFactory(organization=org, first_name="Bill", last_name="Jenkins")


def _open(org, a, b, probability=0.91, evidence=EVIDENCE):
    return duplicate_review_open(
        organization=org,
        customer_a=a,
        customer_b=b,
        probability=probability,
        evidence=evidence,
        source=DuplicateReview.Source.BATCH,
    )


def test_a_pair_is_stored_in_id_order_whatever_order_it_comes_in(org, older, newer):
    # when
    review = _open(org, newer, older)

    # then
    assert (review.customer_a, review.customer_b) == (older, newer)
    assert (review.status, review.probability, review.evidence) == (
        "open",
        Decimal("0.910"),
        EVIDENCE,
    )


def test_opening_a_pair_again_updates_the_open_row(org, older, newer):
    # given
    first = _open(org, older, newer, probability=0.85)

    # when
    again = _open(org, newer, older, probability=0.88, evidence={"probability": 0.88})

    # then
    assert again.pk == first.pk
    assert DuplicateReview.objects.count() == 1
    stored = DuplicateReview.objects.get()
    assert (stored.probability, stored.evidence) == (Decimal("0.880"), {"probability": 0.88})


def test_a_dismissed_pair_is_never_reopened(org, older, newer):
    # given
    review = _open(org, older, newer)
    user = factories.UserFactory()

    # when
    dismissed = duplicate_review_dismiss(review=review, actor=user)
    reopened = _open(org, newer, older, probability=0.99)

    # then
    assert reopened is None
    stored = DuplicateReview.objects.get()
    assert (stored.status, stored.decided_by, stored.probability) == (
        "dismissed",
        user,
        Decimal("0.910"),
    )
    assert dismissed.decided_at is not None
    assert duplicate_pair_decided(organization=org, a_id=newer.pk, b_id=older.pk) is True
    with pytest.raises(Conflict):
        duplicate_review_dismiss(review=review)


def test_an_open_pair_is_not_decided(org, older, newer):
    _open(org, older, newer)

    assert duplicate_pair_decided(organization=org, a_id=older.pk, b_id=newer.pk) is False
    assert duplicate_pair_decided(organization=org, a_id=older.pk, b_id=newer.pk + 1) is False


def test_refused_pairs(org, other_org, older, newer):
    # given
    foreign = factories.CustomerFactory(organization=other_org)
    merged_away = factories.CustomerFactory(organization=org)
    customer_merge(survivor=older, duplicate=merged_away)

    # then
    with pytest.raises(Conflict):
        _open(org, older, older)
    with pytest.raises(Conflict):
        _open(org, newer, merged_away)
    with pytest.raises(NotFound):
        _open(org, older, foreign)
    assert DuplicateReview.objects.count() == 0


def test_merging_from_the_review_keeps_the_older_record_and_undo_reopens_it(org, older, newer):
    # given
    note = factories.CustomerNoteFactory(customer=newer)
    review = _open(org, newer, older)
    user = factories.UserFactory()

    # when
    merge = duplicate_review_merge(review=review, actor=user)

    # then
    review.refresh_from_db()
    assert (merge.survivor, merge.duplicate, merge.source) == (older, newer, "review")
    assert (merge.probability, merge.evidence, merge.performed_by) == (
        Decimal("0.910"),
        EVIDENCE,
        user,
    )
    assert (review.status, review.merge, review.decided_by) == ("merged", merge, user)
    assert CustomerNote.objects.get(pk=note.pk).customer == older
    assert duplicate_pair_decided(organization=org, a_id=older.pk, b_id=newer.pk) is True
    with pytest.raises(Conflict):
        duplicate_review_merge(review=review)

    # when
    customer_unmerge(merge=merge)

    # then the pair is back in the queue, undecided
    review.refresh_from_db()
    assert (review.status, review.merge, review.decided_by, review.decided_at) == (
        "open",
        None,
        None,
        None,
    )
    assert CustomerNote.objects.get(pk=note.pk).customer == newer


def test_merging_from_the_review_may_keep_the_newer_record(org, older, newer):
    review = _open(org, older, newer)
    stranger = factories.CustomerFactory(organization=org)

    with pytest.raises(ApplicationError) as refused:
        duplicate_review_merge(review=review, survivor=stranger)
    merge = duplicate_review_merge(review=review, survivor=newer)

    assert refused.value.code == "review_survivor_not_in_pair"
    assert (merge.survivor, merge.duplicate) == (newer, older)


def test_a_manual_merge_of_a_queued_pair_decides_its_review(org, older, newer):
    review = _open(org, older, newer)
    other = _open(org, older, factories.CustomerFactory(organization=org))

    merge = customer_merge(survivor=newer, duplicate=older)

    review.refresh_from_db()
    other.refresh_from_db()
    assert (review.status, review.merge) == ("merged", merge)
    assert other.status == "open"


def test_the_queue_lists_open_pairs_first_most_likely_first(org):
    # given
    c = [factories.CustomerFactory(organization=org) for _ in range(6)]
    low = _open(org, c[0], c[1], probability=0.81)
    decided = _open(org, c[2], c[3], probability=0.99)
    high = _open(org, c[4], c[5], probability=0.93)
    duplicate_review_dismiss(review=decided)

    # then
    assert list(DuplicateReview.objects.all()) == [high, low, decided]


# --- The admin ------------------------------------------------------------------------------


@pytest.fixture
def dispatcher_client(org):
    user = factories.UserFactory(is_staff=True)
    factories.MembershipFactory(organization=org, user=user, role=Membership.Role.DISPATCHER)
    client = Client()
    client.force_login(user)
    return client


def test_the_review_page_shows_both_customers_and_the_evidence(
    org, older, newer, dispatcher_client
):
    # given
    factories.ContactPointFactory(customer=older, value="+15125550177")
    factories.ContactPointFactory(customer=newer, value="+15125550188")
    factories.ServiceLocationFactory(customer=newer, street="123 OAK ST", city="AUSTIN")
    factories.JobFactory(organization=org, customer=newer)
    review = _open(org, older, newer)

    # when
    page = dispatcher_client.get(
        reverse("admin:customers_duplicatereview_change", args=[review.pk])
    )

    # then
    assert page.status_code == 200
    cards = page.context["cards"]
    assert [card.customer for card in cards] == [older, newer]
    assert [card.phones for card in cards] == [["+15125550177"], ["+15125550188"]]
    assert [card.job_count for card in cards] == [0, 1]
    assert [
        (row.field, row.a, row.b, row.score, row.how) for row in page.context["evidence_rows"]
    ] == [
        ("first name", "BILL", "WILLIAM", 0.95, "nickname"),
        ("phone", "+15125550177", "+15125550177", 1.0, "exact"),
    ]
    html = page.content.decode()
    assert "123 OAK ST" in html
    assert "WILLIAM" in html
    assert "Not the same person" in html


def test_admin_actions_merge_keeping_the_older_and_dismiss(org, dispatcher_client):
    # given two open pairs
    c = [factories.CustomerFactory(organization=org) for _ in range(4)]
    to_merge = _open(org, c[1], c[0])
    to_dismiss = _open(org, c[2], c[3])
    changelist = reverse("admin:customers_duplicatereview_changelist")

    # when
    merged = dispatcher_client.post(
        changelist,
        {"action": "merge_keep_older", "_selected_action": [to_merge.pk]},
        follow=True,
    )
    dismissed = dispatcher_client.post(
        changelist,
        {"action": "not_the_same_person", "_selected_action": [to_dismiss.pk]},
        follow=True,
    )

    # then
    assert "Merged 1 pair(s)." in [str(m) for m in merged.context["messages"]]
    assert "Dismissed 1 pair(s)." in [str(m) for m in dismissed.context["messages"]]
    merge = CustomerMerge.objects.get()
    assert (merge.survivor, merge.duplicate) == (c[0], c[1])
    to_dismiss.refresh_from_db()
    assert to_dismiss.status == "dismissed"
