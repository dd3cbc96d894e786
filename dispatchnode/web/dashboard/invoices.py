"""Invoices for the office: the list (by status, overdue, search) and one invoice with its
payments, credit notes, messages and history, where staff record a payment by hand, send it
again, credit, refund, void or replace its public link. Every write calls one service."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from dispatchnode.core.errors import ApplicationError
from dispatchnode.web.access import office_view
from dispatchnode.web.days import local_today
from invoicing import selectors_office as office
from invoicing import services_payments, services_sending
from invoicing.models import Invoice, Payment

STATUS_FILTERS = [("", "All"), ("overdue", "Overdue"), *Invoice.Status.choices]


@require_safe
@office_view
def invoice_list(request):
    org = request.organization
    status = request.GET.get("status", "")
    search = request.GET.get("q", "")[:100]
    invoices = list(
        office.office_invoices(
            organization=org, status=status, search=search, today=local_today(org)
        )
    )
    return render(
        request,
        "dashboard/invoices.html",
        {
            "nav": "invoices",
            "invoices": invoices,
            "status": status,
            "q": search,
            "filters": STATUS_FILTERS,
            "today": local_today(org),
        },
    )


def _invoice_or_404(request, pk: int) -> Invoice:
    invoice = office.office_invoice_get(organization=request.organization, pk=pk)
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


@require_safe
@office_view
def invoice_detail(request, pk: int):
    org = request.organization
    invoice = _invoice_or_404(request, pk)
    return render(
        request,
        "dashboard/invoice.html",
        {
            "nav": "invoices",
            "invoice": invoice,
            "public_url": services_sending.invoice_public_url(invoice),
            "sent_messages": office.invoice_messages(organization=org, invoice=invoice),
            "methods": [(m, Payment.Method(m).label) for m in services_payments.MANUAL_METHODS],
            "today": local_today(org),
        },
    )


def _run(request, pk: int, done: str, write) -> object:
    invoice = _invoice_or_404(request, pk)
    try:
        write(invoice)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("dashboard:invoice", pk=invoice.pk)


@require_POST
@office_view
def invoice_payment(request, pk: int):
    def write(invoice):
        services_payments.payment_record(
            invoice=invoice,
            amount=request.POST.get("amount", ""),
            currency=invoice.currency,
            method=request.POST.get("method", ""),
            reference=request.POST.get("reference", ""),
            actor=request.user,
        )

    return _run(request, pk, "Payment recorded.", write)


@require_POST
@office_view
def invoice_send(request, pk: int):
    def write(invoice):
        services_sending.invoice_send(invoice=invoice, actor=request.user)

    return _run(request, pk, "Invoice sent to the customer.", write)


@require_POST
@office_view
def invoice_credit(request, pk: int):
    def write(invoice):
        services_payments.credit_note_issue(
            invoice=invoice,
            amount=request.POST.get("amount", ""),
            reason=request.POST.get("reason", ""),
            actor=request.user,
        )

    return _run(request, pk, "Credit note issued.", write)


@require_POST
@office_view
def invoice_void(request, pk: int):
    def write(invoice):
        services_sending.invoice_void(
            invoice=invoice, reason=request.POST.get("reason", ""), actor=request.user
        )

    return _run(request, pk, "Invoice voided.", write)


@require_POST
@office_view
def invoice_rotate_link(request, pk: int):
    def write(invoice):
        services_sending.invoice_link_rotate(invoice=invoice, actor=request.user)

    return _run(request, pk, "The old link no longer works; the new one is below.", write)


@require_POST
@office_view
def payment_refund(request, pk: int, payment_pk: int):
    def write(invoice):
        payment = next((p for p in invoice.payments.all() if p.pk == payment_pk), None)
        if payment is None:
            raise Http404("No such payment.")
        services_payments.refund_issue(
            payment=payment,
            amount=request.POST.get("amount", ""),
            reason=request.POST.get("reason", "") or "Refund",
            actor=request.user,
        )

    return _run(request, pk, "Refund recorded with a credit note.", write)
