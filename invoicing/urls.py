from rest_framework.routers import SimpleRouter

from invoicing import apis, apis_reports

router = SimpleRouter()
router.register("invoices", apis.InvoiceViewSet, basename="invoice")
router.register("payments", apis.PaymentViewSet, basename="payment")
router.register("price-book", apis.PriceBookItemViewSet, basename="price-book-item")
router.register("reports", apis_reports.ReportViewSet, basename="report")

urlpatterns = router.urls
