from rest_framework.routers import SimpleRouter

from customers import apis, apis_dedupe, apis_followups, apis_merges

router = SimpleRouter()
router.register("customers", apis.CustomerViewSet, basename="customer")
router.register("locations", apis.LocationViewSet, basename="location")
router.register("equipment", apis.EquipmentViewSet, basename="equipment")
router.register("customer-notes", apis.CustomerNoteViewSet, basename="customer-note")
router.register("messages", apis.MessageViewSet, basename="message")
router.register("customer-merges", apis_merges.CustomerMergeViewSet, basename="customer-merge")
router.register(
    "duplicate-reviews", apis_merges.DuplicateReviewViewSet, basename="duplicate-review"
)
router.register("dedupe-runs", apis_dedupe.DedupeRunViewSet, basename="dedupe-run")
router.register("followups", apis_followups.FollowUpViewSet, basename="followup")
router.register("followup-rules", apis_followups.FollowUpRuleViewSet, basename="followup-rule")

urlpatterns = router.urls
