"""Routes the bookings app serves under the customers resource (see `bookings.apis_callers`).

Registered with the customers resource's basename, so the route keeps its name
(`api:customer-lookup`) and stays one of that resource's actions."""

from rest_framework.routers import SimpleRouter

from bookings import apis_callers

router = SimpleRouter()
router.register("customers", apis_callers.CallerLookupViewSet, basename="customer")

urlpatterns = router.urls
