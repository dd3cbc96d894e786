"""The tenant-isolation meta-test (STYLE #13): every viewset registered under /api/v1/, found
through the URL resolver, hides another organisation's objects exactly like missing ones.

A new endpoint is covered the moment it is routed; if its model has no maker in
`tests.api.resources.MAKERS`, its test fails instead of being skipped.
"""

from __future__ import annotations

import pytest
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from dispatchnode.api.views import ApiRootView
from dispatchnode.api.viewsets import TenantScopedMixin
from tests.api.resources import MAKERS, api_routes, api_views, object_routes

ROUTES = api_routes()
OBJECT_ROUTES = object_routes()
NOT_FOUND = {"detail": "Not found.", "code": "not_found"}
# Views under /api/v1/ that hold no tenant data: the resource index, the schema and its docs.
UNSCOPED_VIEWS = {ApiRootView, SpectacularAPIView, SpectacularSwaggerView}


def test_the_resolver_finds_every_router_registration():
    # when
    basenames = {route.basename for route in ROUTES}

    # then: a broken walk would make the meta-test below vacuous
    assert len(ROUTES) >= 14
    assert {route.basename for route in ROUTES} - {r.basename for r in OBJECT_ROUTES} == {"report"}
    assert {"customer", "job", "appointment", "call", "invoice"} <= basenames


@pytest.mark.parametrize(
    ("route", "view"), [pytest.param(route, callback, id=route) for route, callback in api_views()]
)
def test_every_api_view_is_tenant_scoped_or_holds_no_tenant_data(route, view):
    # given
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)

    # then
    assert cls is not None, f"{route} is not a class-based view"
    assert issubclass(cls, TenantScopedMixin) or cls in UNSCOPED_VIEWS, (
        f"{route} ({cls.__name__}) is not built on the tenant-scoped viewset base"
    )


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda route: route.basename)
def test_another_tenants_object_is_a_404_like_a_missing_one(route, org, other_org, api_client_for):
    # given: an object of the endpoint's model in organisation B
    make = MAKERS.get(route.model)
    if make is None:
        pytest.fail(
            f"No maker for {route.model.__name__} (endpoint {route.basename!r}): add one to "
            "tests/api/resources.py MAKERS so its tenant isolation is tested."
        )
    foreign = make(other_org)
    missing_pk = route.model._base_manager.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    client = api_client_for(org, scopes=["*:read"])

    # when: organisation A looks for it
    listing = client.get(route.list_url) if "list" in route.actions else None
    foreign_detail = client.get(route.detail_url(foreign.pk))
    missing_detail = client.get(route.detail_url(missing_pk))

    # then
    if listing is not None:
        assert listing.status_code == 200
        assert listing.json()["results"] == []
    assert foreign_detail.status_code == 404
    assert missing_detail.status_code == 404
    assert foreign_detail.json() == missing_detail.json() == NOT_FOUND


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda route: route.basename)
def test_an_organisation_sees_its_own_object(route, org, other_org, api_client_for):
    # given: one object each in A and B (so this test can fail when scoping is wrong)
    make = MAKERS.get(route.model)
    if make is None:
        pytest.fail(f"No maker for {route.model.__name__} in tests/api/resources.py MAKERS.")
    make(other_org)
    own = make(org)
    client = api_client_for(org, scopes=["*:read"])

    # when
    listing = client.get(route.list_url) if "list" in route.actions else None
    detail = client.get(route.detail_url(own.pk))

    # then
    if listing is not None:
        assert listing.status_code == 200
        assert [row["id"] for row in listing.json()["results"]] == [own.pk]
    assert detail.status_code == 200
    assert detail.json()["id"] == own.pk


GENERIC_WRITES = {"update", "partial_update", "destroy"}


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.basename)
def test_no_viewset_exposes_generic_update_or_delete(route):
    # then: writes are explicit actions calling one service, never ModelViewSet's generic ones
    assert not (route.actions & GENERIC_WRITES), f"{route.basename} routes {route.actions}"
    assert route.viewset.queryset.query.where.children == [], (
        f"{route.basename}.queryset was built inside a tenant scope (import-time filter)"
    )
