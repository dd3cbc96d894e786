"""The customer's invoice page: no login, the token in the URL is the key.

`/i/<token>/` shows the lines, totals, balance and history of payments, printable as is (the
"PDF"); its Pay button (`POST /i/<token>/pay/`) asks the organisation's gateway for a pay link
and redirects there. A token that opens nothing (unknown, rotated) is one bare 404.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST, require_safe

from dispatchnode.core.errors import ApplicationError
from dispatchnode.core.scoping import tenant_scope, tenant_unscoped
from invoicing import selectors
from invoicing.gateways import GatewayError
from invoicing.services_payments import invoice_checkout
from invoicing.services_sending import invoice_public_url


def _not_found() -> HttpResponse:
    return HttpResponseNotFound("Not found.", content_type="text/plain; charset=utf-8")


@require_safe
def invoice_public(request: HttpRequest, token: str) -> HttpResponse:
    with tenant_unscoped("find the invoice whose public token this is"):
        invoice = selectors.invoice_by_token(token=token)
    if invoice is None:
        return _not_found()
    request.organization = invoice.organization
    with tenant_scope(invoice.organization):
        page = selectors.invoice_public_page(invoice=invoice)
    response = render(
        request,
        "public/invoice.html",
        {
            "page": page,
            "invoice": invoice,
            "organization": invoice.organization,
            "paid_return": request.GET.get("paid") == "1",
            "cancelled": request.GET.get("cancelled") == "1",
            "pay_error": request.GET.get("error", "")[:200],
        },
    )
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_POST
def invoice_pay(request: HttpRequest, token: str) -> HttpResponse:
    with tenant_unscoped("find the invoice whose public token this is"):
        invoice = selectors.invoice_by_token(token=token)
    if invoice is None:
        return _not_found()
    request.organization = invoice.organization
    url = invoice_public_url(invoice)
    with tenant_scope(invoice.organization):
        try:
            pay = invoice_checkout(
                invoice=invoice, success_url=f"{url}?paid=1", cancel_url=f"{url}?cancelled=1"
            )
        except GatewayError as error:
            message = "The payment page is not answering; please try again in a minute."
            if not error.retryable:
                message = "Online payment is unavailable; please call us to pay."
            return redirect(f"{url}?{urlencode({'error': message})}")
        except ApplicationError as error:
            return redirect(f"{url}?{urlencode({'error': error.message})}")
    return redirect(pay.url)
