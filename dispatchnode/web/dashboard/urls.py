"""`/dashboard/…`: one list per area, each in its own module."""

from dispatchnode.web.dashboard import board_urls, office_urls

app_name = "dashboard"
urlpatterns = [*office_urls.urlpatterns, *board_urls.urlpatterns]
