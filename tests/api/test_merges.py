"""Customer merges, undo and the duplicate review queue through /api/v1/."""

from __future__ import annotations

import pytest

from customers.merge import customer_merge
from customers.models import ContactPoint, Customer, CustomerMerge, CustomerNote, DuplicateReview
from customers.reviews import duplicate_review_open
from dispatchnode.core.models import OutboxEvent
from tests import factories


@pytest.fixture
def bill(org):
    customer = factories.CustomerFactory(organization=org, first_name="Bill", last_name="Jenkins")
    factories.ContactPointFactory(customer=customer, value="+15125550178")
    return customer


@pytest.fixture
def william(org, bill):
    return factories.CustomerFactory(organization=org, first_name="William", last_name="Jenkins")


def _state():
    return (
        list(Customer.objects.order_by("pk").values("pk", "merged_into_id")),
        list(ContactPoint.objects.order_by("pk").values("pk", "customer_id")),
        CustomerMerge.objects.count(),
        OutboxEvent.objects.count(),
    )


def test_merging_hides_the_duplicate_from_the_list_and_keeps_its_detail(api, william, bill):
    # when
    response = api.post(f"/api/v1/customers/{william.pk}/merge/", {"duplicate": bill.pk})

    # then
    assert response.status_code == 201, response.content
    body = response.json()
    merge = CustomerMerge.objects.get()
    assert body["id"] == merge.pk
    assert (body["survivor"], body["duplicate"], body["source"]) == (william.pk, bill.pk, "manual")
    assert (body["moved"], body["kept"], body["undone_at"]) == (
        {"customers.contactpoint": 1},
        {},
        None,
    )
    listing = api.get("/api/v1/customers/").json()["results"]
    assert [row["id"] for row in listing] == [william.pk]
    assert listing[0]["phones"][0]["value"] == "+15125550178"
    by_phone = api.get("/api/v1/customers/", {"phone": "512-555-0178"}).json()["results"]
    assert [row["id"] for row in by_phone] == [william.pk]
    detail = api.get(f"/api/v1/customers/{bill.pk}/")
    assert detail.status_code == 200
    assert detail.json()["merged_into"] == william.pk


@pytest.mark.parametrize("case", ["foreign", "missing", "foreign_survivor"])
def test_a_foreign_or_missing_customer_is_a_404_and_nothing_changes(
    api, other_org, william, bill, case
):
    # given
    foreign = factories.CustomerFactory(organization=other_org)
    survivor, duplicate = {
        "foreign": (william.pk, foreign.pk),
        "missing": (william.pk, foreign.pk + 1000),
        "foreign_survivor": (foreign.pk, bill.pk),
    }[case]
    before = _state()

    # when
    response = api.post(f"/api/v1/customers/{survivor}/merge/", {"duplicate": duplicate})

    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert _state() == before


def test_the_same_customer_or_one_already_merged_is_a_409(api, org, william, bill):
    # given
    third = factories.CustomerFactory(organization=org)
    customer_merge(survivor=third, duplicate=bill)
    before = _state()

    # when
    same = api.post(f"/api/v1/customers/{william.pk}/merge/", {"duplicate": william.pk})
    merged = api.post(f"/api/v1/customers/{william.pk}/merge/", {"duplicate": bill.pk})
    into_merged = api.post(f"/api/v1/customers/{bill.pk}/merge/", {"duplicate": william.pk})

    # then
    assert (same.status_code, same.json()) == (
        409,
        {"detail": "A customer cannot be merged into itself.", "code": "merge_same_customer"},
    )
    assert (merged.status_code, merged.json()["code"]) == (409, "merge_already_merged")
    assert (into_merged.status_code, into_merged.json()["code"]) == (409, "merge_survivor_merged")
    assert _state() == before


def test_merging_needs_the_customers_write_scope(api_client_for, org, william, bill):
    # given
    reader = api_client_for(org, scopes=["customers:read"])
    writer = api_client_for(org, scopes=["customers:write"])
    before = _state()

    # when
    refused = reader.post(f"/api/v1/customers/{william.pk}/merge/", {"duplicate": bill.pk})

    # then
    assert refused.status_code == 403
    assert _state() == before
    allowed = writer.post(f"/api/v1/customers/{william.pk}/merge/", {"duplicate": bill.pk})
    assert allowed.status_code == 201


def test_a_bad_body_is_a_400(api, william):
    response = api.post(f"/api/v1/customers/{william.pk}/merge/", {"duplicate": "bill"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["duplicate"]


def test_undo_through_the_api_and_undo_twice_is_a_409(api, william, bill):
    # given
    note = factories.CustomerNoteFactory(customer=bill)
    merge = customer_merge(survivor=william, duplicate=bill)

    # when
    undone = api.post(f"/api/v1/customer-merges/{merge.pk}/undo/")
    again = api.post(f"/api/v1/customer-merges/{merge.pk}/undo/")

    # then
    assert undone.status_code == 200
    assert undone.json()["undone_at"] is not None
    assert undone.json()["missing_on_undo"] == {}
    assert CustomerNote.objects.get(pk=note.pk).customer_id == bill.pk
    assert (again.status_code, again.json()["code"]) == (409, "merge_already_undone")
    listing = api.get("/api/v1/customers/").json()["results"]
    assert {row["id"] for row in listing} == {william.pk, bill.pk}


def test_merges_are_listed_and_filtered(api, org, william, bill):
    # given
    third, fourth = (factories.CustomerFactory(organization=org) for _ in range(2))
    first = customer_merge(survivor=william, duplicate=bill)
    second = customer_merge(survivor=third, duplicate=fourth)

    # when
    everything = api.get("/api/v1/customer-merges/").json()["results"]
    williams = api.get("/api/v1/customer-merges/", {"survivor": william.pk}).json()["results"]

    # then
    assert [row["id"] for row in everything] == [second.pk, first.pk]
    assert [row["id"] for row in williams] == [first.pk]


def test_undoing_another_organisations_merge_is_a_404(api, other_org):
    # given
    merge = customer_merge(
        survivor=factories.CustomerFactory(organization=other_org),
        duplicate=factories.CustomerFactory(organization=other_org),
    )

    # when
    response = api.post(f"/api/v1/customer-merges/{merge.pk}/undo/")

    # then
    assert response.status_code == 404
    merge.refresh_from_db()
    assert merge.undone_at is None


# --- The review queue -----------------------------------------------------------------------


@pytest.fixture
def review(org, william, bill):
    factories.ContactPointFactory(
        customer=william, kind=ContactPoint.Kind.EMAIL, value="bill@example.com"
    )
    factories.ServiceLocationFactory(customer=william, street="123 OAK ST", postal_code="78702")
    return duplicate_review_open(
        organization=org,
        customer_a=william,
        customer_b=bill,
        probability=0.91,
        evidence={"probability": 0.91, "fields": {}, "blocks": ["phone"]},
        source=DuplicateReview.Source.INTAKE,
    )


def test_the_open_queue_renders_both_customers_briefly(api, review, bill, william):
    # when
    response = api.get("/api/v1/duplicate-reviews/", {"status": "open"})

    # then
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["id"] == review.pk
    assert (row["status"], row["probability"], row["source"]) == ("open", "0.910", "intake")
    assert row["customer_a"] == {
        "id": bill.pk,
        "display_name": "Bill Jenkins",
        "phones": ["+15125550178"],
        "emails": [],
        "primary_address": None,
        "merged_into": None,
    }
    assert row["customer_b"]["emails"] == ["bill@example.com"]
    assert row["customer_b"]["primary_address"].startswith("123 OAK ST")
    assert row["evidence"] == {"probability": 0.91, "fields": {}, "blocks": ["phone"]}
    assert api.get("/api/v1/duplicate-reviews/", {"status": "dismissed"}).json()["results"] == []


def test_merge_from_the_queue_with_a_chosen_survivor(api, review, bill, william):
    # when
    response = api.post(f"/api/v1/duplicate-reviews/{review.pk}/merge/", {"survivor": william.pk})
    again = api.post(f"/api/v1/duplicate-reviews/{review.pk}/merge/")

    # then
    assert response.status_code == 201
    assert (response.json()["survivor"], response.json()["source"]) == (william.pk, "review")
    detail = api.get(f"/api/v1/duplicate-reviews/{review.pk}/").json()
    assert (detail["status"], detail["merge"]) == ("merged", response.json()["id"])
    assert detail["customer_a"]["merged_into"] == william.pk
    assert (again.status_code, again.json()["code"]) == (409, "review_decided")


def test_a_survivor_outside_the_pair_is_refused(api, org, review):
    stranger = factories.CustomerFactory(organization=org)

    response = api.post(f"/api/v1/duplicate-reviews/{review.pk}/merge/", {"survivor": stranger.pk})

    assert (response.status_code, response.json()["code"]) == (400, "review_survivor_not_in_pair")
    assert CustomerMerge.objects.count() == 0


def test_dismiss_from_the_queue(api, review):
    # when
    response = api.post(f"/api/v1/duplicate-reviews/{review.pk}/dismiss/")
    again = api.post(f"/api/v1/duplicate-reviews/{review.pk}/dismiss/")

    # then
    assert response.status_code == 200
    assert response.json()["status"] == "dismissed"
    assert response.json()["decided_at"] is not None
    assert again.status_code == 409
    assert CustomerMerge.objects.count() == 0


def test_deciding_another_organisations_review_is_a_404(api, api_client_for, other_org):
    # given
    a, b = (factories.CustomerFactory(organization=other_org) for _ in range(2))
    foreign = duplicate_review_open(
        organization=other_org,
        customer_a=a,
        customer_b=b,
        probability=0.9,
        evidence={},
        source=DuplicateReview.Source.API,
    )

    # when
    merge = api.post(f"/api/v1/duplicate-reviews/{foreign.pk}/merge/")
    dismiss = api.post(f"/api/v1/duplicate-reviews/{foreign.pk}/dismiss/")

    # then
    assert (merge.status_code, dismiss.status_code) == (404, 404)
    foreign.refresh_from_db()
    assert foreign.status == "open"
