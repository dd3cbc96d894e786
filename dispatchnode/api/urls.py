"""`/api/v1/`: each app contributes a router; the root lists them; schema and docs are here."""

from importlib import import_module

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from dispatchnode.api.views import ApiRootView
from dispatchnode.core.scoping import unscoped_view

app_name = "api"
SCHEMA_READS = "the schema introspects every model's filters; it reads no tenant rows"

# Each module defines `router` (a SimpleRouter) and `urlpatterns = router.urls`.
API_URLCONFS = ("customers.urls", "bookings.urls", "invoicing.urls")
# Routes an app serves under another app's resource, included first: `customers/lookup/` (the
# caller context, built by bookings) would otherwise be taken for a customer id.
NESTED_URLCONFS = ("bookings.urls_callers",)

urlpatterns = [
    path(
        "",
        ApiRootView.as_view(routers=tuple(import_module(module).router for module in API_URLCONFS)),
        name="root",
    ),
    path("schema/", unscoped_view(SpectacularAPIView.as_view(), SCHEMA_READS), name="schema"),
    path(
        "docs/",
        unscoped_view(SpectacularSwaggerView.as_view(url_name="api:schema"), SCHEMA_READS),
        name="docs",
    ),
    *(path("", include(module)) for module in NESTED_URLCONFS + API_URLCONFS),
]
