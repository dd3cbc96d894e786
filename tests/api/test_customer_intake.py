"""POST /api/v1/customers/ (intake through the matcher) and POST /api/v1/customers/match/."""

from __future__ import annotations

import pytest

from customers.models import Customer, DuplicateReview

pytestmark = pytest.mark.django_db

WILLIAM = {
    "first_name": "William",
    "last_name": "Jenkins",
    "phone": "(512) 555-0101",
    "email": "wjenkins@gmail.com",
    "address": "123 Oak Street, Austin, TX 78702",
}


def test_a_new_customer_is_created_clean(api, org):
    response = api.post("/api/v1/customers/", WILLIAM, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["decision"] == "created"
    assert body["match"] is None
    assert body["review"] is None
    customer = body["customer"]
    assert customer["display_name"] == "William Jenkins"
    assert customer["source"] == "api"
    assert [p["value"] for p in customer["phones"]] == ["+15125550101"]
    location = Customer.objects.get(pk=customer["id"]).locations.get()
    assert location.street == "123 OAK ST"


def test_the_same_person_again_is_attached_with_200_and_the_evidence(api, org):
    first = api.post("/api/v1/customers/", WILLIAM, format="json").json()
    response = api.post(
        "/api/v1/customers/",
        {
            "first_name": "Bill",
            "last_name": "Jenkins",
            "phone": "737-555-0199",
            "address": "123 Oak St, Austin TX 78702",
            "source": "ai_call",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "attached"
    assert body["customer"]["id"] == first["customer"]["id"]
    assert {p["value"] for p in body["customer"]["phones"]} == {"+15125550101", "+17375550199"}
    assert body["match"]["probability"] >= 0.95
    assert body["match"]["evidence"]["fields"]["first_name"]["how"] == "nickname"


def test_an_unsure_pair_is_created_and_queued(api, org):
    api.post("/api/v1/customers/", WILLIAM, format="json")
    response = api.post(
        "/api/v1/customers/",
        {"first_name": "W.", "last_name": "Jenkins", "address": "123 Oak St, Austin TX 78702"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["decision"] == "review"
    review = DuplicateReview.objects.get(pk=body["review"])
    assert review.status == "open"
    listed = api.get("/api/v1/duplicate-reviews/?status=open").json()["results"]
    assert [r["id"] for r in listed] == [review.pk]


@pytest.mark.parametrize(
    ("payload", "code", "words"),
    [
        ({"first_name": "", "phone": "512-555-0101"}, "invalid_customer", "needs a first name"),
        ({"first_name": "Ann", "phone": "555-1234"}, "invalid_phone", "area code"),
        ({"first_name": "Ann", "source": "carrier pigeon"}, None, "valid choice"),
    ],
)
def test_bad_input_is_a_400_that_says_why_and_stores_nothing(api, org, payload, code, words):
    response = api.post("/api/v1/customers/", payload, format="json")
    assert response.status_code == 400
    assert words in str(response.json())
    if code:
        assert response.json()["code"] == code
    assert not Customer.objects.filter(organization=org).exists()


def test_a_read_only_token_cannot_create(org, api_client_for):
    reader = api_client_for(org, scopes=["customers:read"])
    assert reader.post("/api/v1/customers/", WILLIAM, format="json").status_code == 403
    assert reader.post("/api/v1/customers/match/", WILLIAM, format="json").status_code == 200


def test_match_lists_candidates_with_evidence_and_writes_nothing(api, org):
    api.post("/api/v1/customers/", WILLIAM, format="json")
    api.post(
        "/api/v1/customers/",
        {
            "first_name": "Mary",
            "last_name": "Jenkins",
            "phone": "512-555-0101",
            "address": "123 Oak Street, Austin, TX 78702",
        },
        format="json",
    )
    before = Customer.objects.count()
    response = api.post(
        "/api/v1/customers/match/",
        {"first_name": "Bill", "last_name": "Jenkins", "phone": "512.555.0101"},
        format="json",
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["customer"]["first_name"] == "William"
    assert results[0]["probability"] >= 0.95
    assert results[0]["evidence"]["fields"]["phone"]["how"] == "shared"
    assert all(r["customer"]["first_name"] != "Mary" for r in results), "spouse is not a match"
    assert Customer.objects.count() == before


def test_matching_through_the_api_never_crosses_organisations(api, org, other_org, api_client_for):
    api.post("/api/v1/customers/", WILLIAM, format="json")
    other = api_client_for(other_org)
    response = other.post("/api/v1/customers/match/", WILLIAM, format="json")
    assert response.json()["results"] == []
    created = other.post("/api/v1/customers/", WILLIAM, format="json")
    assert created.status_code == 201
    assert created.json()["decision"] == "created"
