"""`/tech/…`: the technician app. `sw.js` and `manifest.webmanifest` are public (the browser
fetches them itself); every other page is a `technician_view`."""

from django.urls import path

from dispatchnode.web.tech import views

app_name = "tech"
urlpatterns = [
    path("", views.day, name="day"),
    path("day/list/", views.day_fragment, name="day-list"),
    path("visits/<int:pk>/", views.visit, name="visit"),
    path("visits/<int:pk>/en-route/", views.en_route, name="en-route"),
    path("visits/<int:pk>/start/", views.start, name="start"),
    path("visits/<int:pk>/complete/", views.complete, name="complete"),
    path("sw.js", views.service_worker, name="sw"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
