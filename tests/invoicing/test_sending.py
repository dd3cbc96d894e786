"""Completion sends the invoice: an HTML+text email through Django's email backend and an SMS
through the messaging outbox, both on the customer's timeline with their delivery status; the
public page shows it to the customer without a login."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail

from bookings.models import Job
from customers.models import Consent, ContactPoint, Message
from dispatchnode.core.tasks import outbox_relay
from invoicing.models import Invoice
from invoicing.services import job_complete
from invoicing.services_payments import payment_record
from invoicing.services_sending import invoice_link_rotate, invoice_send
from tests import factories
from tests.fakes.twilio_rest import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilioRest

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 9, 19, 0, tzinfo=dt.UTC)
PHONE = "+15125550142"
EMAIL = "ana.lopez@example.com"


@pytest.fixture
def twilio() -> Iterator[FakeTwilioRest]:
    server = FakeTwilioRest()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def sending_settings(settings, twilio):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_API_BASE_URL = twilio.url
    settings.TWILIO_TIMEOUT = 2
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the relay runs when the test says so
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_BASE_URL = "https://pay.example.com"
    return settings


@pytest.fixture
def customer(org):
    org.twilio_account_sid = DEFAULT_ACCOUNT_SID
    org.twilio_auth_token = DEFAULT_AUTH_TOKEN
    org.invoice_terms_days = 10
    org.save()
    factories.PhoneNumberFactory(organization=org, e164="+15125550100")
    ana = factories.CustomerFactory(organization=org, first_name="Ana", last_name="Lopez")
    factories.ContactPointFactory(customer=ana, value=PHONE)
    factories.ContactPointFactory(customer=ana, kind=ContactPoint.Kind.EMAIL, value=EMAIL)
    return ana


@pytest.fixture
def completed(org, customer):
    item = factories.PriceBookItemFactory(
        organization=org, name="AC tune-up", unit_price=Decimal("100.00")
    )
    job = factories.JobFactory(organization=org, customer=customer, status="in_progress")
    return job_complete(job=job, lines=[(item, 1)], now=NOW)


def test_completion_sends_the_invoice_by_email_and_sms_after_commit(completed, twilio):
    invoice = Invoice.objects.get(pk=completed.invoice.pk)
    assert (invoice.status, str(invoice.due_date)) == ("sent", "2026-03-19")  # 10 days' terms
    queued = Message.objects.filter(purpose="invoice").order_by("channel")
    assert [(m.channel, m.status) for m in queued] == [("email", "queued"), ("sms", "queued")]
    assert mail.outbox == []
    assert twilio.messages == []

    # when the outbox relays
    outbox_relay.apply()

    # then the email went through Django's backend, with its HTML part and the page link
    url = f"https://pay.example.com/i/{invoice.public_token}/"
    [email] = mail.outbox
    assert email.to == [EMAIL]
    assert email.subject == f"Invoice {invoice.number} from {invoice.organization.name}"
    assert url in email.body
    assert "Balance   $108.25 (due March 19, 2026)" in email.body
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert f'href="{url}"' in html
    assert "View and pay $108.25" in html
    # and the SMS went through Twilio with the link
    [sms] = twilio.messages
    assert sms["to"] == PHONE
    assert url in sms["body"]
    # and both are on the customer's timeline as sent
    assert sorted(Message.objects.filter(purpose="invoice").values_list("channel", "status")) == [
        ("email", "sent"),
        ("sms", "queued"),  # Twilio answers queued; its status callback moves it on
    ]
    email_row = Message.objects.get(channel="email", purpose="invoice")
    assert email_row.provider_message_id == email.extra_headers["Message-ID"]


def test_an_opted_out_email_is_kept_as_suppressed_and_not_sent(org, customer):
    factories.ConsentFactory(organization=org, channel=Consent.Channel.EMAIL, address=EMAIL)
    item = factories.PriceBookItemFactory(organization=org, unit_price=Decimal("10.00"))
    job = factories.JobFactory(organization=org, customer=customer, status="in_progress")

    job_complete(job=job, lines=[(item, 1)], now=NOW)
    outbox_relay.apply()

    email_row = Message.objects.get(channel="email", purpose="invoice")
    assert email_row.status == Message.Status.SUPPRESSED
    assert "opted out of email" in email_row.error
    assert mail.outbox == []


def test_an_invoice_is_sent_once_automatically_and_again_only_on_request(completed):
    invoice = completed.invoice
    assert invoice_send(invoice=invoice, only_if_unsent=True) == []

    resent = invoice_send(invoice=invoice, channels=["email"])

    assert [m.channel for m in resent] == ["email"]
    assert Message.objects.filter(purpose="invoice", channel="email").count() == 2


def test_nothing_billed_stays_a_draft(org, customer):
    job = factories.JobFactory(organization=org, customer=customer, status="in_progress")

    job = job_complete(job=job, now=NOW)

    assert Invoice.objects.get(pk=job.invoice.pk).status == Invoice.Status.DRAFT
    assert Message.objects.filter(purpose="invoice").count() == 0
    assert Job.objects.get(pk=job.pk).status == Job.Status.COMPLETED


# --- the public page ------------------------------------------------------------------------


def test_the_public_page_shows_lines_totals_and_balance_without_a_login(client, completed):
    invoice = completed.invoice
    payment_record(invoice=invoice, amount="8.25", currency="USD", method="cash")

    page = client.get(f"/i/{invoice.public_token}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Invoice " + invoice.number in html
    assert "AC tune-up" in html
    assert 'data-balance="100.00"' in html
    assert "Partially paid" in html
    assert "Print or save as PDF" in html
    assert page["Cache-Control"].startswith("no-cache") or "no-store" in page["Cache-Control"]
    assert page["X-Robots-Tag"] == "noindex"
    # no Stripe keys: no Pay button, the office's number instead
    assert "pay-button" not in html


def test_unknown_draft_and_rotated_tokens_are_one_bare_404(client, org, completed):
    invoice = completed.invoice
    old = invoice.public_token
    draft = factories.InvoiceFactory(organization=org, status=Invoice.Status.DRAFT)

    invoice = invoice_link_rotate(invoice=invoice)

    answers = {
        token: (r.status_code, r.content)
        for token in ("nope", old, draft.public_token, "x" * 200)
        for r in [client.get(f"/i/{token}/")]
    }
    assert set(answers.values()) == {(404, b"Not found.")}
    assert client.get(f"/i/{invoice.public_token}/").status_code == 200


def test_paying_without_an_online_gateway_explains_how_to_pay(client, completed):
    invoice = completed.invoice

    answer = client.post(f"/i/{invoice.public_token}/pay/")

    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["error"] == [
        "Online payment is not set up for this company; please call the office to pay."
    ]
    assert client.get(f"/i/{invoice.public_token}/pay/").status_code == 405
