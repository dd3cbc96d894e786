"""The Stripe gateway through the real SDK against the local fake: pay links, refunds,
idempotent retries and a provider that is down."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest

from integrations.providers.stripe.gateway import stripe_gateway
from invoicing.gateways import GatewayError, gateway_for
from invoicing.models import PaymentRequest
from invoicing.services_payments import invoice_checkout

pytestmark = pytest.mark.django_db


def test_the_gateway_is_registered_and_available_with_a_key(stripe_org, other_org):
    assert gateway_for(organization=stripe_org) is stripe_gateway
    assert gateway_for(organization=other_org) is None


def test_a_checkout_link_carries_our_invoice_id(invoice, stripe_fake):
    # when the public page asks for a pay link
    request = invoice_checkout(
        invoice=invoice, success_url="https://x.test/ok", cancel_url="https://x.test/no"
    )
    # then one Checkout Session was made with the balance in cents and our ids in metadata
    (form,) = stripe_fake.forms("/v1/checkout/sessions")
    assert form["mode"] == "payment"
    assert form["line_items"][0]["price_data"]["unit_amount"] == "10825"
    assert form["line_items"][0]["price_data"]["currency"] == "usd"
    assert form["metadata"]["invoice_id"] == str(invoice.pk)
    assert form["payment_intent_data"]["metadata"]["invoice_id"] == str(invoice.pk)
    assert form["success_url"] == "https://x.test/ok"
    assert stripe_fake.requests[-1].headers["authorization"] == f"Bearer {stripe_fake.api_key}"
    session = stripe_fake.sessions[request.provider_id]
    assert request.url == session["url"]
    assert request.amount == Decimal("108.25")
    assert request.status == PaymentRequest.Status.OPEN
    assert request.expires_at is not None


def test_a_retry_with_the_same_key_is_the_same_session(invoice, stripe_fake):
    # given a link made once with a key
    args = {
        "invoice": invoice,
        "amount": Decimal("108.25"),
        "success_url": "https://x.test/ok",
        "cancel_url": "https://x.test/no",
        "idempotency_key": "invoice:1:checkout:1",
    }
    first = stripe_gateway.checkout_create(**args)
    # when the same call is retried
    second = stripe_gateway.checkout_create(**args)
    # then Stripe replayed the first answer: one session
    assert second.provider_id == first.provider_id
    assert len(stripe_fake.sessions) == 1
    # and the same key with other parameters is refused, not retryable
    with pytest.raises(GatewayError) as refused:
        stripe_gateway.checkout_create(**{**args, "amount": Decimal("50.00")})
    assert refused.value.retryable is False
    assert len(stripe_fake.sessions) == 1


def test_stripe_down_is_a_retryable_gateway_error_and_nothing_is_written(invoice, stripe_fake):
    # given Stripe answers 500 to every try
    stripe_fake.fail("server_error")
    # when a pay link is asked for
    with pytest.raises(GatewayError) as failed:
        invoice_checkout(invoice=invoice, success_url="https://x/ok", cancel_url="https://x/no")
    # then it is retryable, says so, and no request row exists
    assert failed.value.retryable is True
    assert "Stripe failed to create a pay link (HTTP 500)" in failed.value.message
    assert len(stripe_fake.requests) == 2  # the SDK retried once (STRIPE_MAX_NETWORK_RETRIES)
    assert not PaymentRequest.objects.exists()


def test_a_closed_port_is_a_retryable_gateway_error(invoice, stripe_fake, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"
    with pytest.raises(GatewayError) as failed:
        invoice_checkout(invoice=invoice, success_url="https://x/ok", cancel_url="https://x/no")
    assert failed.value.retryable is True
    assert "Stripe could not be reached to create a pay link" in failed.value.message
    assert not PaymentRequest.objects.exists()


def test_a_wrong_key_is_not_retryable(invoice, stripe_fake):
    invoice.organization.stripe_secret_key = "sk_test_wrong"
    invoice.organization.save()
    with pytest.raises(GatewayError) as failed:
        invoice_checkout(invoice=invoice, success_url="https://x/ok", cancel_url="https://x/no")
    assert failed.value.retryable is False
    assert "secret key" in failed.value.message


def test_the_fakes_http_controls_complete_a_session_and_list_requests(invoice, stripe_fake):
    import json
    import urllib.request

    link = stripe_gateway.checkout_create(
        invoice=invoice,
        amount=Decimal("108.25"),
        success_url="https://x.test/ok",
        cancel_url="https://x.test/no",
        idempotency_key="k-1",
    )
    control = urllib.request.Request(  # noqa: S310 (the local fake)
        f"{stripe_fake.url}/_fake/sessions/{link.provider_id}/complete",
        data=b"amount=5000",
        method="POST",
    )
    done = urllib.request.urlopen(control)  # noqa: S310
    kinds = [event["type"] for event in json.loads(done.read())["data"]]
    assert kinds == ["charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"]
    assert stripe_fake.sessions[link.provider_id]["amount_total"] == 5000
    seen = json.loads(urllib.request.urlopen(f"{stripe_fake.url}/_fake/requests").read())  # noqa: S310
    assert seen[0]["path"] == "/v1/checkout/sessions"
    assert seen[0]["form"]["metadata"]["invoice_id"] == str(invoice.pk)
