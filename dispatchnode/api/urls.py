"""`/api/v1/`: each app contributes a router; the root lists them; schema and docs are here."""

from importlib import import_module

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from dispatchnode.api.views import ApiRootView

app_name = "api"

# Each module defines `router` (a SimpleRouter) and `urlpatterns = router.urls`.
API_URLCONFS = ("customers.urls", "bookings.urls", "invoicing.urls")

urlpatterns = [
    path(
        "",
        ApiRootView.as_view(routers=tuple(import_module(module).router for module in API_URLCONFS)),
        name="root",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    *(path("", include(module)) for module in API_URLCONFS),
]
