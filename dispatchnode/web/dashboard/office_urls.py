from django.urls import path

from dispatchnode.web.dashboard import today

urlpatterns = [
    path("", today.today, name="home"),
]
