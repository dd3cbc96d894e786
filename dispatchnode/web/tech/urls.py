"""`/tech/…`."""

from django.urls import path

from dispatchnode.web.tech import views

app_name = "tech"
urlpatterns = [
    path("", views.day, name="day"),
]
