from django.contrib import admin
from django.urls import include, path, re_path

from bookings.views import calendar_feed
from dispatchnode.core.views import healthz

admin.site.site_header = "DispatchNode"
admin.site.site_title = "DispatchNode"
admin.site.index_title = "Operations"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("dispatchnode.api.urls")),
    path("twilio/", include("bookings.voice.urls")),
    path("i/", include("invoicing.urls_public")),
    path("", include("dispatchnode.web.urls")),
    re_path(r"^calendar/(?P<token>[A-Za-z0-9_-]{1,64})\.ics$", calendar_feed, name="calendar_feed"),
]
