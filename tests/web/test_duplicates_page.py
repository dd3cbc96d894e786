"""The duplicate review queue: both customers side by side, the evidence, merge or dismiss."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import Customer, CustomerMerge, DuplicateReview
from tests import factories

pytestmark = pytest.mark.django_db


def _review(org, *, probability="0.870", a_name=("Bill", "Smith"), b_name=("William", "Smith")):
    a = factories.CustomerFactory(organization=org, first_name=a_name[0], last_name=a_name[1])
    b = factories.CustomerFactory(organization=org, first_name=b_name[0], last_name=b_name[1])
    factories.ContactPointFactory(customer=a, value="+15125550142")
    factories.ContactPointFactory(customer=b, value="+15125550142")
    factories.ServiceLocationFactory(customer=a, street="12 OAK ST")
    factories.JobFactory(organization=org, customer=b)
    return factories.DuplicateReviewFactory(
        organization=org, customer_a=a, customer_b=b, probability=Decimal(probability)
    )


def test_open_pairs_side_by_side_with_the_evidence_most_likely_first(org, office_client):
    likely = _review(
        org, probability="0.950", a_name=("Bill", "Smith"), b_name=("William", "Smith")
    )
    unsure = _review(org, probability="0.610", a_name=("Jo", "Lee"), b_name=("Joe", "Lee"))
    dismissed = _review(org, a_name=("Old", "Pair"), b_name=("Older", "Pair"))
    DuplicateReview.objects.filter(pk=dismissed.pk).update(status=DuplicateReview.Status.DISMISSED)

    html = office_client.get("/dashboard/duplicates/").content.decode()

    assert html.index(f'id="review-{likely.pk}"') < html.index(f'id="review-{unsure.pk}"')
    assert "Old Pair" not in html
    assert "2 pairs to review" in html
    for text in (
        "Bill Smith",
        "William Smith",
        "(512) 555-0142",
        "12 OAK ST",
        "95% likely",
        "nickname",
        "BILL",
        "WILLIAM",
        "0.95",
    ):
        assert text in html, text


def test_empty_queue_says_where_pairs_come_from(office_client):
    assert (
        b"No possible duplicates to review" in office_client.get("/dashboard/duplicates/").content
    )


def test_merge_in_one_click_keeps_the_chosen_customer(org, office_client, dispatcher):
    review = _review(org)
    response = office_client.post(
        f"/dashboard/duplicates/{review.pk}/merge/", {"keep": "b"}, follow=True
    )
    assert b"Merged #" in response.content
    review.refresh_from_db()
    assert review.status == DuplicateReview.Status.MERGED
    merge = CustomerMerge.objects.get()
    assert merge.survivor_id == review.customer_b_id
    assert merge.performed_by == dispatcher
    assert Customer.objects.get(pk=review.customer_a_id).merged_into_id == review.customer_b_id
    assert f'id="review-{review.pk}"' not in response.content.decode()


def test_merge_keeps_the_older_by_default(org, office_client):
    review = _review(org)
    office_client.post(f"/dashboard/duplicates/{review.pk}/merge/")
    assert CustomerMerge.objects.get().survivor_id == review.customer_a_id


def test_dismiss_in_one_click_is_remembered(org, office_client, dispatcher):
    review = _review(org)
    response = office_client.post(f"/dashboard/duplicates/{review.pk}/dismiss/", follow=True)
    assert b"will not come back" in response.content
    review.refresh_from_db()
    assert review.status == DuplicateReview.Status.DISMISSED
    assert review.decided_by == dispatcher
    assert not CustomerMerge.objects.exists()


def test_a_decided_pair_says_so_when_decided_again(org, office_client):
    review = _review(org)
    office_client.post(f"/dashboard/duplicates/{review.pk}/dismiss/")
    again = office_client.post(f"/dashboard/duplicates/{review.pk}/merge/", follow=True)
    assert b"Not merged: This pair has already been decided (not the same person)." in again.content
    assert not CustomerMerge.objects.exists()


def test_another_organisations_review_is_a_404_like_a_missing_one(other_org, office_client):
    theirs = _review(other_org)
    for action in ("merge", "dismiss"):
        other = office_client.post(f"/dashboard/duplicates/{theirs.pk}/{action}/")
        missing = office_client.post(f"/dashboard/duplicates/999999/{action}/")
        assert other.status_code == missing.status_code == 404
        assert other.content == missing.content
    theirs.refresh_from_db()
    assert theirs.status == DuplicateReview.Status.OPEN
    assert "Bill Smith" not in office_client.get("/dashboard/duplicates/").content.decode()


def test_a_technician_is_refused_the_queue(org, tech_client):
    review = _review(org)
    assert tech_client.get("/dashboard/duplicates/").status_code == 403
    assert tech_client.post(f"/dashboard/duplicates/{review.pk}/dismiss/").status_code == 403
    review.refresh_from_db()
    assert review.status == DuplicateReview.Status.OPEN


@pytest.mark.parametrize("rows", [3, 30])
def test_the_queue_costs_the_same_queries_for_3_or_30_pairs(
    org, office_client, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        _review(org)
    office_client.get("/dashboard/duplicates/")
    with django_assert_max_num_queries(11):
        assert office_client.get("/dashboard/duplicates/").status_code == 200
