from rest_framework.routers import SimpleRouter

from invoicing import apis

router = SimpleRouter()
router.register("invoices", apis.InvoiceViewSet, basename="invoice")
router.register("payments", apis.PaymentViewSet, basename="payment")
router.register("price-book", apis.PriceBookItemViewSet, basename="price-book-item")

urlpatterns = router.urls
