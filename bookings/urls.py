from rest_framework.routers import SimpleRouter

from bookings import apis

router = SimpleRouter()
router.register("technicians", apis.TechnicianViewSet, basename="technician")
router.register("service-types", apis.ServiceTypeViewSet, basename="service-type")
router.register("skills", apis.SkillViewSet, basename="skill")
router.register("jobs", apis.JobViewSet, basename="job")
router.register("appointments", apis.AppointmentViewSet, basename="appointment")
router.register("calls", apis.CallViewSet, basename="call")

urlpatterns = router.urls
