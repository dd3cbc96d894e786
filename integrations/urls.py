from django.urls import path

from integrations.views import stripe_webhook

app_name = "integrations"

urlpatterns = [
    path("webhooks/stripe/<slug:organization>/", stripe_webhook, name="stripe_webhook"),
]
