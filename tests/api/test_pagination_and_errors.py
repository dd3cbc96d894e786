"""Cursor pagination, the API root and the one error envelope."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from bookings.models import Skill
from tests import factories


@pytest.fixture
def reader(org, api_client_for):
    return api_client_for(org, scopes=["*:read"])


def test_page_size_gives_a_next_link_that_returns_the_rest(org, reader):
    # given
    customers = [factories.CustomerFactory(organization=org) for _ in range(5)]
    newest_first = sorted((c.pk for c in customers), reverse=True)

    # when
    pages = [reader.get("/api/v1/customers/", {"page_size": 2}).json()]
    while pages[-1]["next"]:
        pages.append(reader.get(pages[-1]["next"]).json())

    # then
    assert [[row["id"] for row in page["results"]] for page in pages] == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:5],
    ]
    assert pages[0]["previous"] is None
    assert pages[0]["next"].startswith("http://testserver/api/v1/customers/?cursor=")
    assert "page_size=2" in pages[0]["next"]
    assert pages[-1]["next"] is None


def test_page_size_is_capped_at_500(org, reader):
    # given
    Skill.objects.bulk_create(
        Skill(organization=org, code=f"s{i}", name=f"Skill {i}") for i in range(501)
    )

    # when
    body = reader.get("/api/v1/skills/", {"page_size": 1000}).json()

    # then
    assert len(body["results"]) == 500
    assert body["next"] is not None
    assert len(reader.get(body["next"]).json()["results"]) == 1


def test_the_default_page_is_fifty_rows(org, reader):
    # given
    Skill.objects.bulk_create(
        Skill(organization=org, code=f"s{i}", name=f"Skill {i}") for i in range(51)
    )

    # when
    body = reader.get("/api/v1/skills/").json()

    # then
    assert len(body["results"]) == 50
    assert body["next"] is not None


def test_a_bad_cursor_is_a_404_envelope(reader):
    # when
    response = reader.get("/api/v1/customers/", {"cursor": "not-a-cursor"})

    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor", "code": "not_found"}


@pytest.mark.parametrize("pk", ["0", "999999999", "abc", "99999999999999999999999"])
def test_a_missing_object_is_the_404_envelope(db, reader, pk):
    # when
    response = reader.get(f"/api/v1/jobs/{pk}/")

    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_the_400_envelope_lists_every_bad_parameter(reader):
    # when
    response = reader.get("/api/v1/appointments/", {"technician": "x", "date": "soon"})

    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "errors": {"technician": ["Enter a whole number."], "date": ["Enter a valid date."]},
    }


def test_the_api_root_lists_every_resource(db):
    # when
    response = APIClient().get("/api/v1/")

    # then
    assert response.status_code == 200
    assert response.json() == {
        name: f"http://testserver/api/v1/{name}/"
        for name in (
            "customers",
            "locations",
            "equipment",
            "customer-notes",
            "messages",
            "customer-merges",
            "duplicate-reviews",
            "dedupe-runs",
            "followups",
            "followup-rules",
            "technicians",
            "service-types",
            "skills",
            "jobs",
            "appointments",
            "calls",
            "invoices",
            "payments",
            "price-book",
            "reports/revenue-by-source",
            "reports/customer-lifetime-value",
            "reports/repeat-rate",
            "reports/retention",
            "reports/receivables",
        )
    }


def test_a_huge_id_filter_matches_nothing_instead_of_failing(org, reader):
    # given
    factories.JobFactory(organization=org)
    biggest = 2**63 - 1

    # when
    response = reader.get("/api/v1/jobs/", {"customer": biggest})

    # then
    assert response.status_code == 200
    assert response.json()["results"] == []
