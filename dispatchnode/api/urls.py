"""`/api/v1/`: each app contributes its routes; schema and docs are served here."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include("customers.urls")),
    path("", include("bookings.urls")),
    path("", include("invoicing.urls")),
]
