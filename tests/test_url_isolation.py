"""The isolation meta-test over EVERY URL pattern (API, admin, Twilio, calendar, health, the
redirect, schema and docs): each pattern found by `get_resolver()` must appear in `CHECKS`,
one line per pattern, saying how its tenant isolation is checked. A new view cannot land
unchecked: an unknown pattern fails `test_every_url_pattern_is_in_the_table`.

Kinds
- "api-object": takes an object id; as org A's token, org B's id and a missing id give the
  same status and body for every method the pattern routes (`test_api_object_patterns`).
- "api-list" / "api-collection": lists through the tenant viewset (test_tenant_isolation.py);
  collection actions take no id.
- "admin-object" (change/delete/history/redirect): as org A's staff, org B's id behaves like a
  missing one (`test_admin_object_patterns`); other admin pages list through TenantAdmin
  (tests/admin/test_admin_tenancy.py).
- "webhook": signed per tenant, the organisation comes from our number (tests/voice).
- "token": the calendar token is the secret; unknown and other tokens are one bare 404.
- "public": holds no tenant data; "platform": not tenant rows (logins).
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.api.resources import MAKERS, api_routes

API = "api/v1/"

# One line per non-admin pattern: route string → kind.
CHECKS: dict[str, str] = {
    "": "public",  # redirect to the user's own pages (or the login)
    "accounts/login/": "platform",
    "accounts/logout/": "platform",
    "accounts/password_reset/": "platform",
    "accounts/password_reset/done/": "platform",
    "accounts/reset/<uidb64>/<token>/": "platform",
    "accounts/reset/done/": "platform",
    # HTML pages: every one is wrapped in office_view or technician_view
    # (tests/web/test_access.py); "web-object" pages take an id and their own tests show that
    # another organisation's id is a 404 like a missing one.
    "dashboard/": "web-page",
    "dashboard/board/": "web-page",
    "dashboard/board/poll/": "web-page",
    "dashboard/board/move/": "web-object",  # tests/web/test_board.py: foreign ids are 404s
    # office pages (tests/web/test_calls.py, test_customers_pages.py, test_duplicates_page.py,
    # test_jobs_page.py)
    "dashboard/calls/": "web-page",
    "dashboard/calls/<int:pk>/": "web-object",
    "dashboard/callbacks/": "web-page",
    "dashboard/callbacks/<int:pk>/claim/": "web-object",
    "dashboard/callbacks/<int:pk>/close/": "web-object",
    "dashboard/customers/": "web-page",
    "dashboard/customers/<int:pk>/": "web-object",
    "dashboard/merges/<int:pk>/undo/": "web-object",
    "dashboard/duplicates/": "web-page",
    "dashboard/duplicates/<int:pk>/merge/": "web-object",
    "dashboard/duplicates/<int:pk>/dismiss/": "web-object",
    "dashboard/jobs/<int:pk>/": "web-object",
    # tests/web/test_invoices_page.py: another organisation's invoice is a 404 for each
    "dashboard/invoices/": "web-page",
    "dashboard/invoices/<int:pk>/": "web-object",
    "dashboard/invoices/<int:pk>/payment/": "web-object",
    "dashboard/invoices/<int:pk>/send/": "web-object",
    "dashboard/invoices/<int:pk>/credit/": "web-object",
    "dashboard/invoices/<int:pk>/void/": "web-object",
    "dashboard/invoices/<int:pk>/rotate-link/": "web-object",
    "dashboard/invoices/<int:pk>/payments/<int:payment_pk>/refund/": "web-object",
    "dashboard/followups/": "web-page",
    "dashboard/followups/rules/<int:pk>/": "web-object",  # tests/web/test_followups_page.py
    "dashboard/reports/": "web-page",  # tests/web/test_reports_page.py: org B never counted
    "tech/": "web-page",
    "tech/day/list/": "web-page",
    "tech/visits/<int:pk>/": "web-object",  # tests/web/test_tech.py
    "tech/visits/<int:pk>/en-route/": "web-object",
    "tech/visits/<int:pk>/start/": "web-object",
    "tech/visits/<int:pk>/complete/": "web-object",
    "tech/sw.js": "public",  # the service worker's code; no tenant data
    "tech/manifest.webmanifest": "public",
    "healthz": "public",
    # the customer's invoice page: the token is the key; unknown and rotated tokens are one
    # bare 404 (tests/invoicing/test_public_page.py)
    "i/<str:token>/": "token",
    "i/<str:token>/pay/": "token",
    API: "public",  # the resource index
    f"{API}schema/": "public",
    f"{API}docs/": "public",
    r"^calendar/(?P<token>[A-Za-z0-9_-]{1,64})\.ics$": "token",
    "twilio/voice/incoming": "webhook",
    "twilio/voice/status": "webhook",
    "twilio/voice/recording": "webhook",
    "twilio/voice/turn/<str:call_sid>": "webhook",
    "twilio/sms/incoming": "webhook",
    "twilio/sms/status": "webhook",
    # tests/integrations/test_stripe_webhooks.py: signed with the slug's own secret
    "integrations/webhooks/stripe/<slug:organization>/": "webhook",
    f"{API}^customers/$": "api-list",
    f"{API}^customers/lookup/$": "api-collection",
    f"{API}^customers/match/$": "api-collection",
    f"{API}^customers/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^customers/(?P<pk>[^/.]+)/merge/$": "api-object",
    f"{API}^locations/$": "api-list",
    f"{API}^locations/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^equipment/$": "api-list",
    f"{API}^equipment/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^customer-notes/$": "api-list",
    f"{API}^customer-notes/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^messages/$": "api-list",
    f"{API}^messages/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^followups/$": "api-list",
    f"{API}^followups/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^followup-rules/$": "api-list",
    f"{API}^followup-rules/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^followup-rules/(?P<pk>[^/.]+)/edit/$": "api-object",
    f"{API}^customer-merges/$": "api-list",
    f"{API}^customer-merges/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^customer-merges/(?P<pk>[^/.]+)/undo/$": "api-object",
    f"{API}^duplicate-reviews/$": "api-list",
    f"{API}^duplicate-reviews/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^duplicate-reviews/(?P<pk>[^/.]+)/dismiss/$": "api-object",
    f"{API}^duplicate-reviews/(?P<pk>[^/.]+)/merge/$": "api-object",
    f"{API}^technicians/$": "api-list",
    f"{API}^technicians/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^technicians/(?P<pk>[^/.]+)/availability/$": "api-object",
    f"{API}^service-types/$": "api-list",
    f"{API}^service-types/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^skills/$": "api-list",
    f"{API}^skills/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^dedupe-runs/$": "api-list",
    f"{API}^dedupe-runs/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^jobs/$": "api-list",
    f"{API}^jobs/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^jobs/(?P<pk>[^/.]+)/book/$": "api-object",
    f"{API}^jobs/(?P<pk>[^/.]+)/complete/$": "api-object",
    f"{API}^jobs/(?P<pk>[^/.]+)/slots/$": "api-object",
    f"{API}^appointments/$": "api-list",
    f"{API}^appointments/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^appointments/(?P<pk>[^/.]+)/cancel/$": "api-object",
    f"{API}^appointments/(?P<pk>[^/.]+)/reschedule/$": "api-object",
    f"{API}^calls/$": "api-list",
    f"{API}^calls/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^invoices/$": "api-list",
    f"{API}^invoices/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^invoices/(?P<pk>[^/.]+)/payments/$": "api-object",
    f"{API}^invoices/(?P<pk>[^/.]+)/send/$": "api-object",
    f"{API}^invoices/(?P<pk>[^/.]+)/void/$": "api-object",
    f"{API}^invoices/(?P<pk>[^/.]+)/credit-notes/$": "api-object",
    f"{API}^invoices/(?P<pk>[^/.]+)/rotate-link/$": "api-object",
    f"{API}^payments/$": "api-list",
    f"{API}^payments/(?P<pk>[^/.]+)/$": "api-object",
    f"{API}^payments/(?P<pk>[^/.]+)/refund/$": "api-object",
    f"{API}^price-book/$": "api-list",
    f"{API}^price-book/(?P<pk>[^/.]+)/$": "api-object",
    # the reports: collection actions, org B's rows never counted (tests/api/test_reports.py)
    f"{API}^reports/customer-lifetime-value/$": "api-collection",
    f"{API}^reports/receivables/$": "api-collection",
    f"{API}^reports/repeat-rate/$": "api-collection",
    f"{API}^reports/retention/$": "api-collection",
    f"{API}^reports/revenue-by-source/$": "api-collection",
}

# The admin: site-level pages by name, and per registered model the pages Django generates.
ADMIN_SITE_PAGES = {
    "index": "public",
    "login": "public",
    "logout": "public",
    "password_change": "public",
    "password_change_done": "public",
    "autocomplete": "admin-list",  # ModelAdmin.get_search_results → get_queryset (TenantAdmin)
    "jsi18n": "public",
    "view_on_site": "admin-object",
    "app_list": "admin-list",
    None: "public",  # the catch-all final view
}
ADMIN_MODEL_PAGES = {
    "changelist": "admin-list",
    "add": "admin-list",
    "history": "admin-object",
    "delete": "admin-object",
    "change": "admin-object",
    None: "admin-object",  # <path:object_id>/ redirect to change
}


def url_patterns() -> list[tuple[str, URLPattern]]:
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            else:
                found.append((route, pattern))

    walk(get_resolver().url_patterns, "")
    return found


PATTERNS = url_patterns()


# Extra admin pages a ModelAdmin adds itself (one line each).
ADMIN_EXTRA_PAGES = {
    "auth_user_password_change": "platform",  # logins are not tenant rows (UserAdmin rules)
}


def _admin_kind(route: str, pattern: URLPattern) -> str | None:
    name = pattern.name
    if name in ADMIN_EXTRA_PAGES:
        return ADMIN_EXTRA_PAGES[name]
    if name in ADMIN_SITE_PAGES and not route.count("/") > 2:
        return ADMIN_SITE_PAGES[name]
    for model in admin.site._registry:
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        if route.startswith(prefix):
            suffix = (
                None
                if name is None
                else name.removeprefix(f"{model._meta.app_label}_{model._meta.model_name}_")
            )
            return ADMIN_MODEL_PAGES.get(suffix)
    return ADMIN_SITE_PAGES.get(name)


def kind_of(route: str, pattern: URLPattern) -> str | None:
    if route.startswith("admin/"):
        return _admin_kind(route, pattern)
    return CHECKS.get(route)


def test_the_walk_finds_every_part_of_the_site():
    prefixes = {route.split("/")[0] for route, _ in PATTERNS}
    assert {"admin", "api", "twilio", "healthz", "", r"^calendar"} <= prefixes
    assert len(PATTERNS) >= 270


@pytest.mark.parametrize(("route", "pattern"), PATTERNS, ids=[r for r, _ in PATTERNS])
def test_every_url_pattern_is_in_the_table(route, pattern):
    assert kind_of(route, pattern) is not None, (
        f"URL pattern {route!r} ({pattern.name}) is not in tests/test_url_isolation.py CHECKS: "
        "add one line saying how its tenant isolation is checked."
    )


def test_the_table_has_no_stale_lines():
    routes = {route for route, _ in PATTERNS}
    assert set(CHECKS) - routes == set()


# --- API patterns that take an object id: every routed method --------------------------

ROUTES_BY_BASENAME = {route.basename: route for route in api_routes()}


def _api_object_cases():
    cases = []
    for route, pattern in PATTERNS:
        if CHECKS.get(route) != "api-object":
            continue
        basename = pattern.callback.initkwargs["basename"]
        for method in sorted(pattern.callback.actions):
            cases.append(pytest.param(pattern.name, basename, method, id=f"{method} {route}"))
    return cases


@pytest.mark.parametrize(("name", "basename", "method"), _api_object_cases())
def test_api_object_patterns(name, basename, method, org, other_org, api_client_for):
    # given: an object of org B, a missing id, and org A's write token
    model = ROUTES_BY_BASENAME[basename].model
    foreign = MAKERS[model](other_org)
    missing = model._base_manager.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    client = api_client_for(org, scopes=["*:write"])
    call = getattr(client, method)

    # when
    foreign_response = call(reverse(f"api:{name}", args=[foreign.pk]), {}, format="json")
    missing_response = call(reverse(f"api:{name}", args=[missing]), {}, format="json")

    # then: indistinguishable, and a 404
    assert foreign_response.status_code == missing_response.status_code == 404
    assert foreign_response.json().keys() == missing_response.json().keys()
    assert foreign_response.json()["code"] == missing_response.json()["code"]


# --- admin object pages of every tenant model with a maker ------------------------------


def _admin_object_cases():
    cases = []
    for model in MAKERS:
        if model in admin.site._registry:
            for page in ("change", "delete", "history"):
                cases.append(pytest.param(model, page, id=f"{model._meta.label} {page}"))
    return cases


@pytest.mark.parametrize(("model", "page"), _admin_object_cases())
def test_admin_object_patterns(model, page, org, other_org, client):
    # given: a staff dispatcher of org A
    from tests import factories

    user = factories.UserFactory(is_staff=True)
    factories.MembershipFactory(organization=org, user=user)
    client.force_login(user)
    foreign = MAKERS[model](other_org)
    missing = model._base_manager.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}"

    # when: GET, and POST where the page writes
    results = []
    for method in ("get", "post") if page != "history" else ("get",):
        foreign_response = getattr(client, method)(reverse(name, args=[foreign.pk]))
        missing_response = getattr(client, method)(reverse(name, args=[missing]))
        results.append((method, foreign_response, missing_response))

    # then: org B's object behaves exactly like a missing one (a redirect to the index)
    for method, foreign_response, missing_response in results:
        assert foreign_response.status_code == missing_response.status_code, method
        assert foreign_response.status_code in (302, 403, 404), method
        assert foreign_response.get("Location") == missing_response.get("Location"), method
    assert model._base_manager.filter(pk=foreign.pk).exists()
