"""`invoicing.gateways.PaymentGateway` over Stripe Checkout and Refunds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from integrations.providers.stripe import mappers
from integrations.providers.stripe.client import stripe_call, stripe_client
from invoicing.gateways import CheckoutLink

CHECKOUT_LIFETIME = dt.timedelta(hours=23)  # Stripe allows at most 24 h


class StripeGateway:
    key = "stripe"

    def available(self, *, organization) -> bool:
        return bool(organization.stripe_secret_key)

    def checkout_create(
        self, *, invoice, amount: Decimal, success_url: str, cancel_url: str, idempotency_key: str
    ) -> CheckoutLink:
        params = mappers.checkout_params(
            invoice=invoice,
            amount=amount,
            success_url=success_url,
            cancel_url=cancel_url,
            expires_at=timezone.now() + CHECKOUT_LIFETIME,
        )
        client = stripe_client(organization=invoice.organization)
        session = stripe_call(
            "create a pay link",
            lambda: client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": idempotency_key}
            ),
        )
        return CheckoutLink(
            provider=self.key,
            provider_id=session.id,
            url=session.url,
            expires_at=mappers.when(session.expires_at),
        )

    def refund_create(self, *, payment, amount: Decimal, reason: str, idempotency_key: str) -> str:
        client = stripe_client(organization=payment.invoice.organization)
        params = {
            "payment_intent": payment.provider_payment_id,
            "amount": mappers.to_minor(amount, payment.currency),
            "reason": "requested_by_customer",
            "metadata": {"invoice_id": str(payment.invoice_id), "note": (reason or "")[:400]},
        }
        refund = stripe_call(
            "refund the payment",
            lambda: client.v1.refunds.create(
                params=params, options={"idempotency_key": idempotency_key}
            ),
        )
        return refund.id


stripe_gateway = StripeGateway()
