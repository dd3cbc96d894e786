"""From "done" to a closed ledger on PostgreSQL + Redis with a real Celery worker:

a booked job is completed through the API → its invoice is created and sent (the worker relays
the outbox: the email reaches Django's email backend, the SMS reaches the Twilio fake) → the
customer taps Pay on the public page → the Stripe fake's Checkout Session is completed and its
correctly signed events are POSTed to the running app → the invoice is paid and the job closed.
The same events delivered again change nothing; a forged signature is a 400 and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.test import Client
from django.urls import reverse

from bookings.models import Appointment, Job
from customers.models import ContactPoint, Message
from integrations.models import WebhookEvent
from invoicing.models import Invoice, InvoiceEvent, Payment, PaymentRequest
from tests import factories
from tests.fakes.stripe import DEFAULT_KEY, DEFAULT_WEBHOOK_SECRET, FakeStripe
from tests.fakes.twilio_rest import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilioRest

WAIT_SECONDS = 30
PHONE = "+15125550142"
EMAIL = "ana.reyes@example.com"


def wait_for(check, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def fakes(settings) -> Iterator[tuple[FakeStripe, FakeTwilioRest]]:
    stripe, twilio = FakeStripe(), FakeTwilioRest()
    stripe.start()
    twilio.start()
    settings.STRIPE_API_BASE = stripe.url
    settings.STRIPE_TIMEOUT = (1.0, 2.0)
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_API_BASE_URL = twilio.url
    settings.TWILIO_TIMEOUT = 2
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield stripe, twilio
    stripe.stop()
    twilio.stop()


def _booked_job(org) -> Job:
    org.stripe_secret_key = DEFAULT_KEY
    org.stripe_webhook_secret = DEFAULT_WEBHOOK_SECRET
    org.twilio_account_sid = DEFAULT_ACCOUNT_SID
    org.twilio_auth_token = DEFAULT_AUTH_TOKEN
    org.save()
    factories.PhoneNumberFactory(organization=org, e164="+15125550100")
    ana = factories.CustomerFactory(organization=org, first_name="Ana", last_name="Reyes")
    factories.ContactPointFactory(customer=ana, value=PHONE)
    factories.ContactPointFactory(customer=ana, kind=ContactPoint.Kind.EMAIL, value=EMAIL)
    service = factories.ServiceTypeFactory(organization=org, name="AC repair")
    factories.PriceBookItemFactory(
        organization=org, service_type=service, name="AC repair", unit_price=Decimal("189.00")
    )
    job = factories.JobFactory(
        organization=org, customer=ana, service_type=service, status=Job.Status.SCHEDULED
    )
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    factories.AppointmentFactory(
        organization=org,
        job=job,
        status=Appointment.Status.SCHEDULED,
        start=start,
        end=start + dt.timedelta(hours=2),
    )
    return job


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_completion_to_paid_through_a_worker_and_signed_stripe_events(
    broker_for_tests, fakes, live_server, api_client_for
):
    stripe, twilio = fakes
    org = factories.OrganizationFactory()
    job = _booked_job(org)
    part = factories.PriceBookItemFactory(
        organization=org, name="Run capacitor", unit_price=Decimal("64.50")
    )

    with start_worker(
        broker_for_tests,
        perform_ping_check=False,
        queues=["outbox", "default"],
        shutdown_timeout=20,
    ):
        # when the office completes the booked job through the API
        answer = api_client_for(org).post(
            f"/api/v1/jobs/{job.pk}/complete/",
            {"notes": "Replaced the capacitor.", "lines": [{"item": part.pk, "quantity": 1}]},
            format="json",
        )
        assert answer.status_code == 200, answer.content
        invoice = Invoice.objects.get(pk=answer.json()["invoice"])
        assert (invoice.status, invoice.total) == ("sent", Decimal("274.41"))  # + 20.91 tax

        # then the worker sends the email (Django's backend) and the SMS (the Twilio fake)
        [email] = wait_for(lambda: list(mail.outbox), "the invoice email")
        sms = wait_for(lambda: list(twilio.messages), "the invoice SMS")
        public = f"{live_server.url}/i/{invoice.public_token}/".replace(live_server.url, "")
        assert public in email.body
        assert public in sms[0]["body"]
        assert wait_for(
            lambda: (
                set(Message.objects.filter(purpose="invoice").values_list("channel", "status"))
                == {("email", "sent"), ("sms", "queued")}
            ),
            "both messages recorded",
        )

        # when the customer opens the link and taps Pay
        browser = Client()
        assert browser.get(f"/i/{invoice.public_token}/").status_code == 200
        pay = browser.post(f"/i/{invoice.public_token}/pay/")
        request = PaymentRequest.objects.get(invoice=invoice)
        assert pay.status_code == 302
        assert pay["Location"] == request.url
        form = stripe.forms("/v1/checkout/sessions")[-1]
        assert form["metadata"]["invoice_id"] == str(invoice.pk)

        # and Stripe completes the session and POSTs its signed events to the running app
        events = stripe.complete_session(request.provider_id)
        webhook = live_server.url + reverse("integrations:stripe_webhook", args=[org.slug])
        answers = [stripe.deliver(event, webhook) for event in events]

    # then the invoice is paid, the job closed, one payment recorded
    assert [status for status, _ in answers] == [200] * len(events)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == ("paid", Decimal("0.00"))
    assert Job.objects.get(pk=job.pk).status == Job.Status.CLOSED
    assert Payment.objects.filter(invoice=invoice).count() == 1
    history = InvoiceEvent.objects.filter(invoice=invoice).count()
    stored = WebhookEvent.objects.count()

    # when the same events arrive again
    again = [stripe.deliver(event, webhook) for event in events]

    # then nothing changes
    assert [body for _, body in again] == [{"detail": "already processed"}] * len(events)
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert InvoiceEvent.objects.filter(invoice=invoice).count() == history
    assert WebhookEvent.objects.count() == stored

    # when a forged event (a payment of the whole invoice, signed with another secret) arrives
    forged = dict(events[0], id="evt_forged_1")
    status, body = stripe.deliver(forged, webhook, secret="whsec_forged")

    # then it is refused and nothing is stored or changed
    assert status == 400
    assert "signature" in body["detail"].lower()
    assert WebhookEvent.objects.count() == stored
    assert Payment.objects.filter(invoice=invoice).count() == 1
