"""Public pages of invoicing (no login): `/i/<token>/`."""

from django.urls import path

from invoicing import views

urlpatterns = [
    path("<str:token>/", views.invoice_public, name="invoice-public"),
    path("<str:token>/pay/", views.invoice_pay, name="invoice-pay"),
]
