"""The office dashboard (`/dashboard/`): owners and dispatchers."""

from django.urls import path

from dispatchnode.web.dashboard import (
    calls,
    customers,
    followups,
    invoices,
    jobs,
    reports,
    today,
)

urlpatterns = [
    path("", today.today, name="home"),
    path("calls/", calls.call_list, name="calls"),
    path("calls/<int:pk>/", calls.call_detail, name="call"),
    path("callbacks/", calls.callback_list, name="callbacks"),
    path("callbacks/<int:pk>/claim/", calls.callback_claim, name="callback-claim"),
    path("callbacks/<int:pk>/close/", calls.callback_close, name="callback-close"),
    path("customers/", customers.customer_search, name="customers"),
    path("customers/<int:pk>/", customers.customer_detail, name="customer"),
    path("merges/<int:pk>/undo/", customers.merge_undo, name="merge-undo"),
    path("duplicates/", customers.duplicate_list, name="duplicates"),
    path("duplicates/<int:pk>/merge/", customers.duplicate_merge, name="duplicate-merge"),
    path("duplicates/<int:pk>/dismiss/", customers.duplicate_dismiss, name="duplicate-dismiss"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job"),
    path("invoices/", invoices.invoice_list, name="invoices"),
    path("invoices/<int:pk>/", invoices.invoice_detail, name="invoice"),
    path("invoices/<int:pk>/payment/", invoices.invoice_payment, name="invoice-payment"),
    path("invoices/<int:pk>/send/", invoices.invoice_send, name="invoice-send"),
    path("invoices/<int:pk>/credit/", invoices.invoice_credit, name="invoice-credit"),
    path("invoices/<int:pk>/void/", invoices.invoice_void, name="invoice-void"),
    path("invoices/<int:pk>/rotate-link/", invoices.invoice_rotate_link, name="invoice-rotate"),
    path(
        "invoices/<int:pk>/payments/<int:payment_pk>/refund/",
        invoices.payment_refund,
        name="payment-refund",
    ),
    path("reports/", reports.report_page, name="reports"),
    path("followups/", followups.followup_page, name="followups"),
    path("followups/rules/<int:pk>/", followups.followup_rule_edit, name="followup-rule"),
]
