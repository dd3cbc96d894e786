"""Verify a Stripe webhook and apply its event (all database, no outbound call).

`event_apply` returns nothing on success and raises:
- `Deferred` when the event refers to a payment we have not recorded yet (out of order: a
  refund or dispute before the payment event); Stripe redelivers it and it is tried again;
- an `ApplicationError` (NotFound, Conflict ...) when it can never apply (another
  organisation's invoice, no invoice at all).
"""

from __future__ import annotations

import json

import stripe
from django.conf import settings

from dispatchnode.core.errors import ApplicationError
from integrations.providers.stripe import mappers
from invoicing.models import Payment
from invoicing.services_payments import (
    payment_dispute_close,
    payment_dispute_open,
    payment_refund,
    payment_request_completed,
)

PROVIDER = "stripe"
PAID_TYPES = {"checkout.session.completed", "payment_intent.succeeded"}
REFUND_TYPES = {"charge.refunded", "refund.created", "refund.updated"}
DISPUTE_TYPES = {"charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed"}
HANDLED = PAID_TYPES | REFUND_TYPES | DISPUTE_TYPES


class SignatureInvalid(Exception):
    pass


class Deferred(Exception):
    pass


def event_verified(*, body: bytes, header: str, secret: str) -> dict:
    """The event of a request signed with `secret`, or SignatureInvalid with the reason."""
    if not secret:
        raise SignatureInvalid("Stripe webhooks are not set up for this organisation.")
    try:
        stripe.WebhookSignature.verify_header(
            body, header, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE
        )
    except stripe.SignatureVerificationError as error:
        raise SignatureInvalid(str(error).split(";")[0]) from None
    try:
        event = json.loads(body)
    except ValueError:
        raise SignatureInvalid("The body is not JSON.") from None
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise SignatureInvalid("The body is not a Stripe event.")
    if not isinstance((event.get("data") or {}).get("object"), dict):
        raise SignatureInvalid("The event has no data object.")
    return event


def _payment(organization, payment_intent: str) -> Payment:
    payment = (
        Payment.objects.filter(
            organization=organization, provider=PROVIDER, provider_payment_id=payment_intent
        )
        .select_related("invoice")
        .first()
    )
    if payment is None:
        raise Deferred(f"No payment {payment_intent or '(none)'} recorded yet.")
    return payment


def event_apply(*, organization, event: dict) -> None:
    kind = event["type"]
    if kind in PAID_TYPES:
        paid = mappers.paid_from(event)
        if paid is None:
            return  # an unpaid (asynchronous) session: payment_intent.succeeded follows
        if paid.organization_id is not None and paid.organization_id != organization.pk:
            raise ApplicationError(
                "The payment is for another organisation's invoice.", code="invoice_not_found"
            )
        if not paid.payment_intent:
            raise ApplicationError("The event names no payment intent.", code="no_payment")
        payment_request_completed(
            organization=organization,
            provider=PROVIDER,
            provider_id=paid.session_id,
            invoice_id=paid.invoice_id,
            amount=paid.amount,
            currency=paid.currency,
            provider_payment_id=paid.payment_intent,
            received_at=paid.received_at,
        )
    elif kind in REFUND_TYPES:
        for refund in mappers.refunds_from(event):
            payment = _payment(organization, refund.payment_intent)
            payment_refund(
                payment=payment,
                amount=refund.amount,
                reason=f"Stripe refund ({refund.reason})",
                provider_refund_id=refund.refund_id,
            )
    elif kind in DISPUTE_TYPES:
        dispute = mappers.dispute_from(event)
        payment = _payment(organization, dispute.payment_intent)
        if dispute.status in ("won", "warning_closed"):
            payment_dispute_close(payment=payment, won=True)
        elif dispute.status == "lost":
            payment_dispute_close(payment=payment, won=False)
        elif kind == "charge.dispute.created":
            payment_dispute_open(payment=payment, amount=dispute.amount)
