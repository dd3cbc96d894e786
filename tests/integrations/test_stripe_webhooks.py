"""The Stripe webhook, fed by the fake's own signed events: pay, replay, forgery, tenancy,
partial payments, refunds (also before the payment), disputes."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.urls import reverse

from bookings.models import Job
from integrations.models import WebhookEvent
from invoicing.models import CreditNote, Invoice, Payment, PaymentRequest
from invoicing.services_payments import invoice_checkout
from tests.fakes.stripe import DEFAULT_WEBHOOK_SECRET
from tests.integrations.conftest import make_invoice

pytestmark = pytest.mark.django_db


def figures(invoice: Invoice) -> tuple[str, str, str, str]:
    invoice.refresh_from_db()
    return (invoice.status, str(invoice.amount_paid), str(invoice.credited), str(invoice.balance))


def url_for(organization) -> str:
    return reverse("integrations:stripe_webhook", args=[organization.slug])


def post(client, fake, event, organization, **sign):
    body, header = fake.signed(event, **sign)
    return client.post(
        url_for(organization),
        data=body,
        content_type="application/json; charset=utf-8",
        HTTP_STRIPE_SIGNATURE=header,
    )


def by_type(events, kind):
    return next(e for e in events if e["type"] == kind)


@pytest.fixture
def paid_events(invoice, stripe_fake):
    request = invoice_checkout(
        invoice=invoice, success_url="https://x/ok", cancel_url="https://x/n"
    )
    return request, stripe_fake.complete_session(request.provider_id)


def test_the_public_flow_pays_the_invoice_and_closes_the_job(
    live_server, invoice, stripe_fake, paid_events
):
    request, events = paid_events
    # when Stripe delivers every event of the payment to the running app
    answers = [
        stripe_fake.deliver(e, live_server.url + url_for(invoice.organization)) for e in events
    ]
    # then each was answered 200 and the invoice is paid, its job closed, the link completed
    assert [status for status, _ in answers] == [200, 200, 200]
    assert figures(invoice) == ("paid", "108.25", "0.00", "0.00")
    assert Job.objects.get(pk=invoice.job_id).status == Job.Status.CLOSED
    request.refresh_from_db()
    assert request.status == PaymentRequest.Status.COMPLETED
    # and the two payment events recorded ONE payment, by the payment intent id
    (payment,) = Payment.objects.filter(invoice=invoice)
    assert payment.provider == "stripe"
    assert (
        payment.provider_payment_id == stripe_fake.sessions[request.provider_id]["payment_intent"]
    )
    assert WebhookEvent.objects.filter(status="processed").count() == 3


def test_the_same_event_twice_changes_nothing(client, invoice, stripe_fake, paid_events):
    _, events = paid_events
    completed = by_type(events, "checkout.session.completed")
    assert post(client, stripe_fake, completed, invoice.organization).status_code == 200
    again = post(client, stripe_fake, completed, invoice.organization)
    assert again.status_code == 200
    assert again.json() == {"detail": "already processed"}
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert WebhookEvent.objects.get().attempts == 1
    assert figures(invoice) == ("paid", "108.25", "0.00", "0.00")


@pytest.mark.parametrize(
    "sign",
    [
        {"secret": "whsec_forged"},
        {"timestamp": int(time.time()) - 301},
    ],
    ids=["wrong-secret", "stale-timestamp"],
)
def test_a_bad_signature_is_a_400_and_nothing_is_stored(
    client, invoice, stripe_fake, paid_events, sign
):
    _, events = paid_events
    answer = post(
        client,
        stripe_fake,
        by_type(events, "payment_intent.succeeded"),
        invoice.organization,
        **sign,
    )
    assert answer.status_code == 400
    assert answer.json()["detail"]
    assert not WebhookEvent.objects.exists()
    assert not Payment.objects.exists()


def test_a_forged_body_and_a_missing_header_are_refused(client, invoice, stripe_fake, paid_events):
    _, events = paid_events
    body, header = stripe_fake.signed(by_type(events, "payment_intent.succeeded"))
    forged = body.replace(b'"amount_received": 10825', b'"amount_received": 99999')
    for data, headers in ((forged, {"HTTP_STRIPE_SIGNATURE": header}), (body, {})):
        answer = client.post(
            url_for(invoice.organization), data=data, content_type="application/json", **headers
        )
        assert answer.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert not Payment.objects.exists()


def test_another_orgs_slug_or_an_unknown_one_is_refused(
    client, invoice, stripe_fake, paid_events, other_org
):
    # given the other organisation has a webhook secret of its own
    other_org.stripe_webhook_secret = "whsec_other"
    other_org.save()
    _, events = paid_events
    event = by_type(events, "payment_intent.succeeded")
    # signed with our secret but posted to the other slug: its secret does not match
    assert post(client, stripe_fake, event, other_org).status_code == 400
    body, header = stripe_fake.signed(event)
    unknown = client.post(
        "/integrations/webhooks/stripe/no-such-org/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert unknown.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert not Payment.objects.exists()


def test_another_orgs_invoice_in_metadata_is_a_400_and_no_payment(
    client, stripe_org, other_org, stripe_fake
):
    # given a session made for the other organisation's invoice, signed with OUR secret
    theirs = make_invoice(other_org)
    other_org.stripe_secret_key = stripe_fake.api_key
    other_org.save()
    request = invoice_checkout(invoice=theirs, success_url="https://x/ok", cancel_url="https://x/n")
    events = stripe_fake.complete_session(request.provider_id)
    # when it comes in on our endpoint
    answer = post(client, stripe_fake, by_type(events, "payment_intent.succeeded"), stripe_org)
    # then it is refused with the reason, stored as failed, and nothing is paid anywhere
    assert answer.status_code == 400
    assert "another organisation" in answer.json()["detail"]
    stored = WebhookEvent.objects.get()
    assert stored.status == WebhookEvent.Status.FAILED
    assert stored.organization_id == stripe_org.pk
    assert not Payment.objects.exists()
    assert figures(theirs)[0] == "sent"


def test_a_partial_payment_leaves_the_rest_open(client, invoice, stripe_fake):
    request = invoice_checkout(
        invoice=invoice, success_url="https://x/ok", cancel_url="https://x/n"
    )
    events = stripe_fake.complete_session(request.provider_id, amount=5000)
    for event in events:
        assert post(client, stripe_fake, event, invoice.organization).status_code == 200
    assert figures(invoice) == ("partially_paid", "50.00", "0.00", "58.25")


def test_a_refund_comes_with_a_credit_note(client, invoice, stripe_fake, paid_events):
    request, events = paid_events
    for event in events:
        post(client, stripe_fake, event, invoice.organization)
    intent = stripe_fake.sessions[request.provider_id]["payment_intent"]
    # when Stripe refunds 25.00 (charge.refunded, then refund.created: the same refund)
    for event in stripe_fake.refund(intent, amount=2500):
        assert post(client, stripe_fake, event, invoice.organization).status_code == 200
    # then one credit note of 25.00 carries the refund id and the invoice stays settled
    (note,) = CreditNote.objects.filter(invoice=invoice)
    assert note.amount == Decimal("25.00")
    assert note.provider_refund_id in stripe_fake.refunds
    assert figures(invoice) == ("paid", "83.25", "25.00", "0.00")


def test_a_refund_before_the_payment_is_deferred_then_applied(
    client, invoice, stripe_fake, paid_events
):
    request, events = paid_events
    intent = stripe_fake.sessions[request.provider_id]["payment_intent"]
    refunded = by_type(stripe_fake.refund(intent, amount=2500), "charge.refunded")
    # when the refund arrives first
    early = post(client, stripe_fake, refunded, invoice.organization)
    # then it is a 409, kept as deferred, and nothing changed
    assert early.status_code == 409
    assert WebhookEvent.objects.get(event_id=refunded["id"]).status == "deferred"
    assert figures(invoice) == ("sent", "0.00", "0.00", "108.25")
    # when the payment comes, then Stripe redelivers the refund (same id)
    post(client, stripe_fake, by_type(events, "checkout.session.completed"), invoice.organization)
    assert post(client, stripe_fake, refunded, invoice.organization).status_code == 200
    stored = WebhookEvent.objects.get(event_id=refunded["id"])
    assert (stored.status, stored.attempts) == ("processed", 2)
    assert figures(invoice) == ("paid", "83.25", "25.00", "0.00")


def test_a_dispute_reopens_the_balance_and_a_won_one_restores_it(
    client, invoice, stripe_fake, paid_events
):
    request, events = paid_events
    post(client, stripe_fake, by_type(events, "checkout.session.completed"), invoice.organization)
    intent = stripe_fake.sessions[request.provider_id]["payment_intent"]
    for event in stripe_fake.dispute(intent):
        assert post(client, stripe_fake, event, invoice.organization).status_code == 200
    assert figures(invoice) == ("sent", "0.00", "0.00", "108.25")
    (dispute_id,) = stripe_fake.disputes
    for event in stripe_fake.dispute_close(dispute_id, won=True):
        assert post(client, stripe_fake, event, invoice.organization).status_code == 200
    assert figures(invoice) == ("paid", "108.25", "0.00", "0.00")
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


def test_unknown_event_types_are_stored_and_ignored(client, invoice, stripe_fake, paid_events):
    _, events = paid_events
    charge = by_type(events, "charge.succeeded")
    assert post(client, stripe_fake, charge, invoice.organization).status_code == 200
    assert WebhookEvent.objects.get().status == "processed"
    assert not Payment.objects.exists()
    assert invoice.organization.stripe_webhook_secret == DEFAULT_WEBHOOK_SECRET
