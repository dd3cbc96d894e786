"""Every list endpoint costs a constant number of queries, whatever the number of rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.resources import MAKERS, api_routes

LIST_ROUTES = [route for route in api_routes() if "list" in route.actions]


@pytest.mark.parametrize("route", LIST_ROUTES, ids=lambda route: route.basename)
def test_a_list_of_thirty_costs_no_more_queries_than_a_list_of_one(
    route, org, api_client_for, django_assert_max_num_queries
):
    # given: one complete object (with its nested rows) and a warmed-up token
    make = MAKERS[route.model]
    make(org)
    client = api_client_for(org, scopes=["*:read"])
    assert client.get(route.list_url).status_code == 200
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(route.list_url).json()["results"]) == 1

    # when: thirty of them
    for _ in range(29):
        make(org)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(route.list_url)

    # then
    assert len(response.json()["results"]) == 30
    assert len(one.captured_queries) <= 4
