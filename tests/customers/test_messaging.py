"""Outbound SMS: queued with an outbox event in the caller's transaction, sent after commit by
the real HTTP client to a local fake of Twilio's REST API, once, with retryable and terminal
failures told apart."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from django.db import transaction
from django.utils import timezone

from customers.messaging import sms_queue
from customers.models import Consent, Message
from dispatchnode.accounts.models import PhoneNumber
from dispatchnode.core import outbox
from dispatchnode.core.errors import NotFound
from dispatchnode.core.models import OutboxDelivery, OutboxEvent
from dispatchnode.core.outbox import outbox_deliver
from dispatchnode.core.tasks import outbox_relay
from tests import factories
from tests.fakes.geocoders import Reply
from tests.fakes.twilio_rest import FakeTwilioRest
from tests.test_settings import run_manage

CUSTOMER_PHONE = "+15125550142"
PUBLIC = "https://dispatch.example.com"


@pytest.fixture
def twilio() -> Iterator[FakeTwilioRest]:
    server = FakeTwilioRest()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def sms_settings(settings, twilio):
    """The Twilio backend pointed at the fake; queue mode, so nothing is relayed on commit."""
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_API_BASE_URL = twilio.url
    settings.TWILIO_TIMEOUT = 2
    settings.PUBLIC_BASE_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    return settings


@pytest.fixture
def org(db, twilio):
    """An organisation whose Twilio account is the fake's, answering on one number."""
    organization = factories.OrganizationFactory(
        twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token
    )
    factories.PhoneNumberFactory(organization=organization, e164="+15125550100")
    return organization


def event_of(message: Message) -> OutboxDelivery:
    """The SMS sender's delivery of the message's outbox event."""
    return OutboxDelivery.objects.select_related("event").get(
        subscriber="sms.send",
        event__topic="message.sms",
        event__aggregate_type="customers.message",
        event__aggregate_id=str(message.pk),
    )


def deliver(message: Message) -> OutboxDelivery:
    """One delivery attempt of the message's outbox event, as the relay makes it."""
    delivery = event_of(message)
    outbox_deliver(delivery=delivery)
    delivery.refresh_from_db()
    message.refresh_from_db()
    return delivery


def make_due(delivery: OutboxDelivery) -> None:
    OutboxDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def form_of(request) -> dict[str, list[str]]:
    return parse_qs(request.body.decode(), keep_blank_values=True)


# --- sms_queue ------------------------------------------------------------------------------


def test_queue_stores_a_queued_message_and_its_event_in_the_callers_transaction(org):
    # given a customer, a job, and a second, earlier number of the organisation that is inactive
    factories.PhoneNumberFactory(organization=org, e164="+15125550101", is_active=False)
    factories.PhoneNumberFactory(organization=org, e164="+15125550102")
    customer = factories.CustomerFactory(organization=org)
    job = factories.JobFactory(organization=org, customer=customer)

    # when the agent queues a confirmation inside its own transaction, written nationally
    with transaction.atomic():
        message = sms_queue(
            organization=org,
            to="(512) 555-0142",
            body="Ana arrives tomorrow 2-4pm.",
            customer=customer,
            job=job,
            purpose="booking_confirmation",
        )
        events_inside = list(
            OutboxDelivery.objects.values_list("event__topic", "event__payload", "status")
        )

    # then the message is queued, to the number in E.164, from the first active number
    row = Message.objects.values(
        "organization_id",
        "customer_id",
        "job_id",
        "channel",
        "direction",
        "to_address",
        "from_address",
        "body",
        "status",
        "purpose",
        "provider_message_id",
        "error",
        "sent_at",
    ).get()
    assert row == {
        "organization_id": org.pk,
        "customer_id": customer.pk,
        "job_id": job.pk,
        "channel": "sms",
        "direction": "outbound",
        "to_address": CUSTOMER_PHONE,
        "from_address": "+15125550100",
        "body": "Ana arrives tomorrow 2-4pm.",
        "status": "queued",
        "purpose": "booking_confirmation",
        "provider_message_id": "",
        "error": "",
        "sent_at": None,
    }
    # and exactly one event was written in that same transaction, naming the message
    assert events_inside == [("message.sms", {"message": message.pk}, "pending")]
    event = event_of(message)
    assert (event.organization_id, event.attempts) == (org.pk, 0)


def test_queue_is_rolled_back_with_the_caller(org, twilio):
    # given a business transaction that queues an SMS and then fails
    def book_and_text():
        with transaction.atomic():
            sms_queue(organization=org, to=CUSTOMER_PHONE, body="Booked.")
            raise RuntimeError("slot taken")

    # when it runs
    with pytest.raises(RuntimeError, match="slot taken"):
        book_and_text()

    # then neither the message nor its event is left, and nothing was sent
    assert Message.objects.count() == 0
    assert OutboxEvent.objects.count() == 0
    assert twilio.requests == []


def test_embedded_mode_relays_after_commit_and_sends(
    org, twilio, settings, django_capture_on_commit_callbacks
):
    # given embedded mode (no broker)
    settings.CELERY_TASK_ALWAYS_EAGER = True

    # when an SMS is queued and the transaction commits
    with django_capture_on_commit_callbacks() as callbacks:
        message = sms_queue(organization=org, to=CUSTOMER_PHONE, body="Booked.")

    # then the only thing scheduled is a relay run, and nothing was sent before it
    assert callbacks == [outbox._kick]
    assert twilio.requests == []

    # when that relay runs (in-process here, whatever the broker)
    outbox_relay.apply()

    # then the SMS went out and the event is delivered
    message.refresh_from_db()
    assert [m["sid"] for m in twilio.messages] == [message.provider_message_id]
    assert event_of(message).status == OutboxDelivery.Status.DELIVERED


def test_unparseable_number_is_stored_as_failed_and_not_sent(org, twilio):
    # when the agent queues an SMS to something that is not a phone number
    message = sms_queue(organization=org, to=" 12 ", body="Your code is 482913.")

    # then the message is kept, failed, with the reason, and no event exists
    message.refresh_from_db()
    assert (message.status, message.to_address, message.error) == (
        Message.Status.FAILED,
        "12",
        "Not sent: ' 12 ' is not a complete phone number.",
    )
    assert OutboxEvent.objects.count() == 0
    assert twilio.requests == []


def test_opted_out_number_is_stored_as_suppressed_and_not_sent(org, twilio, other_org):
    # given the number opted out of SMS here, and another organisation's opt-out of another one
    customer = factories.CustomerFactory(organization=org)
    factories.ContactPointFactory(customer=customer, value=CUSTOMER_PHONE)
    factories.ConsentFactory(organization=org, address=CUSTOMER_PHONE)
    factories.ConsentFactory(organization=other_org, address="+15125550143")

    # when SMS are queued to both numbers
    suppressed = sms_queue(organization=org, to="512-555-0142", body="Booked.", customer=customer)
    queued = sms_queue(organization=org, to="+15125550143", body="Booked.")

    # then the opted-out one is kept as suppressed without an event; the other is queued
    suppressed.refresh_from_db()
    assert (suppressed.status, suppressed.to_address, suppressed.error) == (
        Message.Status.SUPPRESSED,
        CUSTOMER_PHONE,
        "Not sent: +15125550142 has opted out of text messages.",
    )
    assert queued.status == Message.Status.QUEUED
    assert list(OutboxEvent.objects.values_list("payload", flat=True)) == [{"message": queued.pk}]


def test_another_organisations_customer_is_refused(org, other_org):
    # given a customer of another organisation
    stranger = factories.CustomerFactory(organization=other_org)

    # when an SMS for them is queued in this organisation
    with pytest.raises(NotFound, match="No such customer"):
        sms_queue(organization=org, to=CUSTOMER_PHONE, body="Hi", customer=stranger)

    # then nothing was stored
    assert Message.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


# --- delivery through Twilio ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("twilio_status", "expected"),
    [("queued", Message.Status.QUEUED), ("accepted", Message.Status.QUEUED), ("sent", "sent")],
)
def test_delivery_posts_to_twilio_and_records_sid_status_and_time(
    org, twilio, twilio_status, expected
):
    # given a queued SMS, and Twilio answering with this status
    twilio.initial_status = twilio_status
    message = sms_queue(organization=org, to=CUSTOMER_PHONE, body="Ana arrives 2-4pm ✓")
    before = timezone.now()

    # when its event is delivered
    event = deliver(message)

    # then Twilio got one authenticated, form-encoded POST with the three fields
    [request] = twilio.requests
    assert (request.method, request.path) == (
        "POST",
        f"/2010-04-01/Accounts/{twilio.account_sid}/Messages.json",
    )
    credentials = base64.b64encode(f"{twilio.account_sid}:{twilio.auth_token}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {credentials}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form_of(request) == {
        "To": [CUSTOMER_PHONE],
        "From": ["+15125550100"],
        "Body": ["Ana arrives 2-4pm ✓"],
    }
    # and the message carries Twilio's sid, its status in our terms and the sending time
    [sent] = twilio.messages
    assert re.fullmatch(r"SM[0-9a-f]{32}", sent["sid"])
    assert (message.provider_message_id, message.status, message.error) == (
        sent["sid"],
        expected,
        "",
    )
    assert before <= message.sent_at <= timezone.now()
    assert (event.status, event.attempts, event.last_error) == ("delivered", 1, "")


@pytest.mark.parametrize(
    ("public_base_url", "expected"),
    [(PUBLIC, [f"{PUBLIC}/twilio/sms/status"]), ("", None)],
)
def test_status_callback_is_sent_only_with_a_public_base_url(
    org, twilio, settings, public_base_url, expected
):
    # given the public address of this deployment (or none)
    settings.PUBLIC_BASE_URL = public_base_url
    message = sms_queue(organization=org, to=CUSTOMER_PHONE, body="Booked.")

    # when the SMS is sent
    deliver(message)

    # then Twilio is told where to report delivery only when it can reach us
    [request] = twilio.requests
    assert form_of(request).get("StatusCallback") == expected


def test_delivering_the_same_event_twice_sends_one_sms(org, twilio):
    # given an SMS already sent by its event
    message = sms_queue(organization=org, to=CUSTOMER_PHONE, body="Booked.")
    deliver(message)
    first_sid = message.provider_message_id

    # when the same event is delivered again (at-least-once delivery)
    event = deliver(message)

    # then Twilio was called once and the message is unchanged
    assert len(twilio.requests) == 1
    assert len(twilio.messages) == 1
    assert message.provider_message_id == first_sid
    assert (event.status, event.attempts) == ("delivered", 2)


@pytest.mark.parametrize(
    ("trouble", "reason"),
    [
        ("unavailable", "Twilio is having trouble (HTTP 503); we will try again."),
        ("server_error", "Twilio is having trouble (HTTP 500); we will try again."),
        ("rate_limited", "Twilio is limiting how often we may ask. It asks us to wait 7 s."),
        ("slow", "Twilio did not answer within 0.3 s."),
        ("drop", "Twilio dropped the connection before answering."),
        ("html", "Twilio answered with something that is not JSON (text/html)."),
    ],
)
def test_transient_trouble_retries_and_never_sends_twice(org, twilio, settings, trouble, reason):
    # given a queued SMS and Twilio in trouble for one request
    settings.TWILIO_TIMEOUT = 0.3
    message = sms_queue(organization=org, to=CUSTOMER_PHONE, body="Booked.")
    if trouble == "drop":
        twilio.reply(Reply(drop=True))
    else:
        twilio.fail(trouble, times=1)

    # when its event is delivered
    event = deliver(message)

    # then the outbox will retry: the event is pending after one attempt, with the reason
    assert (event.status, event.attempts) == (OutboxDelivery.Status.PENDING, 1)
    assert event.last_error == f"RetryableDeliveryError: SMS {message.pk} not sent yet: {reason}"
    assert event.next_attempt_at > timezone.now()
    # and the message says why: queued again when Twilio answered with an error of its own,
    # still `sending` when Twilio may have taken it (no answer, or a page from a proxy)
    unsure = trouble in ("slow", "drop", "html")
    assert (message.status, message.provider_message_id, message.error) == (
        Message.Status.SENDING if unsure else Message.Status.QUEUED,
        "",
        f"Not sent yet, will retry: {reason}",
    )
    assert (message.sent_at is None) is not unsure

    # when Twilio is back and the retry is due
    make_due(event)
    event = deliver(message)

    # then the SMS is sent once and the event delivered on its second attempt: after a timeout
    # Twilio had taken the first try, and the retry found it in Twilio's list instead of
    # sending it again
    assert len(twilio.messages) == 1
    assert message.provider_message_id == twilio.messages[0]["sid"]
    assert (message.status, message.error) == (Message.Status.QUEUED, "")
    assert twilio.lists == (1 if unsure else 0)
    assert (event.status, event.attempts, event.last_error) == ("delivered", 2, "")


def test_refused_number_fails_the_message_with_twilios_code(org, twilio):
    # given an SMS to a number Twilio calls invalid (its magic test number for 21211)
    message = sms_queue(organization=org, to="+15005550001", body="Booked.")

    # when its event is delivered
    event = deliver(message)

    # then the message failed with Twilio's code and message, and there is nothing to retry
    assert (message.status, message.provider_message_id, message.error) == (
        Message.Status.FAILED,
        "",
        "Twilio refused the message (HTTP 400, error 21211): "
        "The 'To' number +15005550001 is not a valid phone number.",
    )
    assert (event.status, event.attempts, event.last_error) == ("delivered", 1, "")
    assert twilio.messages == []


def test_unsubscribed_recipient_fails_and_opts_the_number_out(org, twilio, other_org):
    # given a customer whose number replied STOP to our Twilio number (Twilio knows, we don't),
    # and the same number at another organisation
    blocked = "+15125550177"
    twilio.blocked.add(blocked)
    customer = factories.CustomerFactory(organization=org)
    contact = factories.ContactPointFactory(customer=customer, value=blocked)
    stranger = factories.ContactPointFactory(
        customer=factories.CustomerFactory(organization=other_org), value=blocked
    )
    message = sms_queue(organization=org, to=blocked, body="Booked.", customer=customer)

    # when its event is delivered
    event = deliver(message)

    # then the message failed with Twilio's 21610 and the number is opted out here only
    assert (message.status, message.error) == (
        Message.Status.FAILED,
        "Twilio refused the message (HTTP 400, error 21610): "
        "Attempt to send to unsubscribed recipient",
    )
    assert event.status == OutboxDelivery.Status.DELIVERED
    contact.refresh_from_db()
    stranger.refresh_from_db()
    assert (contact.sms_opt_out, stranger.sms_opt_out) == (True, False)
    assert list(
        Consent.objects.values_list("organization_id", "address", "status", "source", "note")
    ) == [
        (
            org.pk,
            blocked,
            "opted_out",
            "provider_error",
            f"Twilio error 21610 on message {message.pk}.",
        )
    ]

    # and the next SMS to it is suppressed at once
    again = sms_queue(organization=org, to=blocked, body="Reminder.")
    assert again.status == Message.Status.SUPPRESSED


def test_wrong_credentials_fail_the_message_with_twilios_code(org, twilio):
    # given an organisation whose auth token Twilio no longer accepts
    org.twilio_auth_token = "rotated-elsewhere"
    org.save()
    message = sms_queue(organization=org, to=CUSTOMER_PHONE, body="Booked.")

    # when its event is delivered
    event = deliver(message)

    # then the message failed with Twilio's 20003 and a hint; nothing is retried
    assert (message.status, message.error) == (
        Message.Status.FAILED,
        "Twilio refused the message (HTTP 401, error 20003): Authenticate "
        "(check the organisation's Twilio account SID and auth token)",
    )
    assert (event.status, event.attempts) == ("delivered", 1)
    assert twilio.messages == []


@pytest.mark.parametrize("missing", ["twilio_account_sid", "twilio_auth_token"])
def test_organisation_without_twilio_credentials_fails_without_a_call(org, twilio, missing):
    # given an organisation that never connected Twilio
    setattr(org, missing, "")
    org.save()
    message = sms_queue(organization=org, to=CUSTOMER_PHONE, body="Booked.")

    # when its event is delivered
    event = deliver(message)

    # then the message failed with the reason and Twilio was not called
    assert (message.status, message.error) == (
        Message.Status.FAILED,
        "Twilio is not configured for this organisation.",
    )
    assert event.status == OutboxDelivery.Status.DELIVERED
    assert twilio.requests == []


def test_organisation_without_an_active_number_fails_without_a_call(org, twilio):
    # given an organisation whose only Twilio number is switched off
    PhoneNumber.objects.filter(organization=org).update(is_active=False)
    message = sms_queue(organization=org, to=CUSTOMER_PHONE, body="Booked.")

    # when its event is delivered
    deliver(message)

    # then the message failed with the reason and Twilio was not called
    assert (message.from_address, message.status, message.error) == (
        "",
        Message.Status.FAILED,
        "The organisation has no active Twilio number to send from.",
    )
    assert twilio.requests == []


# --- console backend and settings -----------------------------------------------------------


def test_console_backend_logs_one_line_and_marks_the_message_sent(org, twilio, settings, caplog):
    # given the console backend
    settings.SMS_BACKEND = "console"
    caplog.set_level(logging.INFO, logger="dispatchnode.sms")
    message = sms_queue(organization=org, to=CUSTOMER_PHONE, body="Your code is 482913.")
    before = timezone.now()

    # when its event is delivered
    event = deliver(message)

    # then one INFO line says to whom and what, the message is sent, and Twilio was not called
    lines = [r for r in caplog.records if r.name == "dispatchnode.sms"]
    assert [(r.levelno, r.getMessage()) for r in lines] == [
        (
            logging.INFO,
            f"SMS to {CUSTOMER_PHONE} from +15125550100 (org {org.pk}, message {message.pk}): "
            "'Your code is 482913.'",
        )
    ]
    assert re.fullmatch(r"console-[0-9a-f]{32}", message.provider_message_id)
    assert message.status == Message.Status.SENT
    assert before <= message.sent_at <= timezone.now()
    assert event.status == OutboxDelivery.Status.DELIVERED
    assert twilio.requests == []


def test_an_unknown_sms_backend_fails_at_start_up(tmp_path):
    result = run_manage(
        "check", env={"DEBUG": "1", "SMS_BACKEND": "carrier-pigeon"}, tmp_path=tmp_path
    )

    assert result.returncode != 0
    assert "SMS_BACKEND must be twilio or console, got 'carrier-pigeon'" in result.stderr


def test_unsubscribed_number_that_is_no_customer_is_opted_out_all_the_same(org, twilio):
    # given a number Twilio knows replied STOP, belonging to no customer of ours
    blocked = "+15125550178"
    twilio.blocked.add(blocked)
    message = sms_queue(organization=org, to=blocked, body="Your quote is ready.")

    # when its event is delivered
    deliver(message)

    # then the consent record keeps the refusal and the next text is suppressed
    assert list(Consent.objects.values_list("organization_id", "address", "status")) == [
        (org.pk, blocked, "opted_out")
    ]
    assert sms_queue(organization=org, to=blocked, body="Reminder.").status == "suppressed"
