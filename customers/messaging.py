"""Outbound SMS: written in the caller's transaction, sent by an outbox handler after commit.

`sms_queue` is the one entry point (the phone agent texts booking confirmations and verification
codes with it). It never talks to Twilio: it stores an outbound `Message` and, when the message
can be sent, emits the outbox event `message.sms` in the same transaction. `sms_deliver`, the
handler of that topic, sends it after commit (embedded mode: right after the commit; with a
broker: at the next relay run). Delivery is at least once, so the handler sends only a message
that is still `queued` and has no provider id, and it decides on the row locked.

The states of an outbound SMS (`Message.Status`):

- `queued`: stored, waiting for the relay; also what Twilio answers for a message it accepted
  and has not handed to the carrier yet (its `sid` is then in `provider_message_id`).
- `sent`, `delivered`, `undelivered`, `failed`: Twilio's answer, then its status callbacks
  (`bookings.voice.services.sms_status_record`) move the message on.
- `failed` without a provider id: never sent, and `error` says why (a number we cannot parse,
  Twilio refused the request with a 4xx, the organisation has no Twilio credentials or number).
- `suppressed`: the number opted out of SMS; never sent.

Backends (`settings.SMS_BACKEND`): `twilio` posts to the Messages resource of the organisation's
own Twilio account (`TWILIO_API_BASE_URL`, a local fake in tests); `console` writes one INFO line
on the `dispatchnode.sms` logger and marks the message sent, for demos and development.

Why `dispatchnode.core.http.HttpClient` and not the `twilio` SDK's REST client: the outbox needs
one decision per failure, "retry later" (timeouts, dropped connections, 5xx, 429) or "record why
and stop" (any other 4xx), and `HttpClient` already makes it with its typed `ProviderError`
family, the same one the geocoders raise. The SDK raises `TwilioRestException` for every HTTP
status (we would re-derive "retryable" from `.status`), lets `requests.ConnectionError` and
`requests.Timeout` escape untyped, needs a `TwilioHttpClient` subclass to rewrite the host for a
fake, and logs each request over several INFO lines. One form-encoded POST is all we need. The
SDK stays the tool for webhook signatures (`RequestValidator`) in `bookings.voice`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import uuid
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from customers.models import Consent, Customer, Message
from customers.selectors import consent_allows
from customers.services import consent_set
from dispatchnode.accounts.models import Organization, PhoneNumber
from dispatchnode.core.errors import NotFound
from dispatchnode.core.http import (
    BODY_EXCERPT_CHARS,
    HttpClient,
    InvalidResponse,
    ProviderError,
)
from dispatchnode.core.models import OutboxEvent
from dispatchnode.core.outbox import outbox_emit, outbox_register
from dispatchnode.core.phones import InvalidPhoneNumber, phone_to_e164
from dispatchnode.core.retry import RetryableDeliveryError

logger = logging.getLogger(__name__)
sms_logger = logging.getLogger("dispatchnode.sms")

SMS_TOPIC = "message.sms"
TWILIO_API_VERSION = "2010-04-01"
# Twilio's error for a recipient who replied STOP to this sender.
TWILIO_UNSUBSCRIBED = 21610

# Twilio's message status → ours, for the send answer and the status callback alike: accepted
# but not yet handed to a carrier is queued.
TWILIO_STATUS = {
    "accepted": Message.Status.QUEUED,
    "scheduled": Message.Status.QUEUED,
    "queued": Message.Status.QUEUED,
    "sending": Message.Status.QUEUED,
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.DELIVERED,
    "undelivered": Message.Status.UNDELIVERED,
    "failed": Message.Status.FAILED,
}


# --- Service --------------------------------------------------------------------------------


@transaction.atomic
def sms_queue(
    *,
    organization: Organization,
    to: str,
    body: str,
    customer: Customer | None = None,
    job: models.Model | None = None,
    purpose: str = "",
) -> Message:
    """Store an outbound SMS and schedule its sending after the caller's transaction commits.

    `job` is a `bookings.Job` (bookings sits above customers, so it is not imported here).
    The message is always stored, so nothing is lost: `queued` with an outbox event when it can
    be sent; `failed` (with the reason in `error`) when `to` is not a phone number; `suppressed`
    when the number opted out of SMS. Neither of the last two emits an event.
    """
    if customer is not None and customer.organization_id != organization.pk:
        raise NotFound("No such customer.")
    if job is not None and job.organization_id != organization.pk:
        raise NotFound("No such job.")
    message = Message(
        organization=organization,
        customer=customer,
        job=job,
        channel=Message.Channel.SMS,
        direction=Message.Direction.OUTBOUND,
        from_address=_sender_number(organization=organization),
        body=body,
        purpose=purpose,
        status=Message.Status.QUEUED,
    )
    try:
        message.to_address = phone_to_e164(to, region=organization.country or "US")
    except InvalidPhoneNumber as exc:
        message.to_address = (to or "").strip()[:254] or "(none)"
        message.status = Message.Status.FAILED
        message.error = f"Not sent: {exc.message}"
    else:
        if _opted_out(organization=organization, e164=message.to_address):
            message.status = Message.Status.SUPPRESSED
            message.error = f"Not sent: {message.to_address} has opted out of text messages."
    message.full_clean()
    message.save()
    if message.status == Message.Status.QUEUED:
        outbox_emit(
            organization=organization,
            topic=SMS_TOPIC,
            payload={"message": message.pk},
            aggregate=message,
        )
    return message


def _sender_number(*, organization: Organization) -> str:
    """The organisation's Twilio number: its first active one."""
    return (
        PhoneNumber.objects.filter(organization=organization, is_active=True)
        .order_by("id")
        .values_list("e164", flat=True)
        .first()
        or ""
    )


def _opted_out(*, organization: Organization, e164: str) -> bool:
    return not consent_allows(organization=organization, channel=Consent.Channel.SMS, address=e164)


# --- Outbox handler -------------------------------------------------------------------------


@outbox_register(SMS_TOPIC, key="sms.send")
def sms_deliver(event: OutboxEvent) -> None:
    """Send the message of one `message.sms` event, at most once at Twilio.

    Runs with no transaction open. Delivery is at least once (a worker can die anywhere), so:
    1. a short transaction claims the message: `queued` becomes `sending`;
    2. Twilio is called with no transaction or lock held;
    3. a short transaction records its answer (`sent`, `failed` with the reason …).
    A message found already `sending` was handed to Twilio by an attempt that did not live to
    record the answer: Twilio's message list is asked first and a message it already has (same
    sender, recipient and body, created since the claim) is adopted, not sent again.
    A retryable failure raises `RetryableDeliveryError` and the outbox tries again later.
    """
    claim = _sms_claim(event)
    if claim is None:
        return
    message, resend = claim
    if settings.SMS_BACKEND == "console":
        _send_console(message)
    else:
        _send_twilio(message, reconcile=resend)


def _sms_claim(event: OutboxEvent) -> tuple[Message, bool] | None:
    """Lock the event's message and mark it `sending`; (message, was it sending already)."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .select_related("organization")
            .filter(
                organization_id=event.organization_id,
                pk=event.payload.get("message"),
                channel=Message.Channel.SMS,
                direction=Message.Direction.OUTBOUND,
            )
            .first()
        )
        if message is None:
            logger.warning(
                "outbox event %s (org %s): SMS %s no longer exists; nothing to send",
                event.pk,
                event.organization_id,
                event.payload.get("message"),
            )
            return None
        if message.provider_message_id or message.status not in (
            Message.Status.QUEUED,
            Message.Status.SENDING,
        ):
            return None  # already sent (or settled) by an earlier delivery of this event
        resend = message.status == Message.Status.SENDING
        if not resend:
            message.status = Message.Status.SENDING
            message.sent_at = timezone.now()  # when it was first handed over; reconcile window
            message.save(update_fields=["status", "sent_at", "updated_at"])
    return message, resend


# --- Backends -------------------------------------------------------------------------------


def _send_console(message: Message) -> None:
    sms_logger.info(
        "SMS to %s from %s (org %s, message %s): %r",
        message.to_address,
        message.from_address or "-",
        message.organization_id,
        message.pk,
        message.body,
    )
    _record_sent(message, provider_id=f"console-{uuid.uuid4().hex}", status=Message.Status.SENT)


class _TwilioHttpClient(HttpClient):
    """`HttpClient` that keeps the body of every refusal: Twilio explains a 401 as well
    (error 20003), and the base client keeps the body of other 4xx answers only."""

    def _status_error(self, response: httpx.Response) -> ProviderError | None:
        error = super()._status_error(response)
        if error is not None and not getattr(error, "body", ""):
            error.body = response.text[:BODY_EXCERPT_CHARS]
        return error


def _send_twilio(message: Message, *, reconcile: bool = False) -> None:
    organization = message.organization
    account_sid = organization.twilio_account_sid
    auth_token = organization.twilio_auth_token
    if not account_sid or not auth_token:
        _record_failed(message, "Twilio is not configured for this organisation.")
        return
    if not message.from_address:
        _record_failed(message, "The organisation has no active Twilio number to send from.")
        return
    credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
    headers = {"Authorization": f"Basic {credentials}"}
    path = f"/{TWILIO_API_VERSION}/Accounts/{account_sid}/Messages.json"
    with _TwilioHttpClient(
        provider="twilio",
        label="Twilio",
        base_url=settings.TWILIO_API_BASE_URL,
        timeout=float(settings.TWILIO_TIMEOUT),
    ) as client:
        try:
            if reconcile:
                found = _twilio_find_sent(client, message=message, path=path, headers=headers)
                if found is not None:
                    sid, status = _read_created(found)
                    _record_sent(message, provider_id=sid, status=status, answer=found)
                    return
            form = {"To": message.to_address, "From": message.from_address, "Body": message.body}
            if settings.PUBLIC_BASE_URL:
                form["StatusCallback"] = f"{settings.PUBLIC_BASE_URL}/twilio/sms/status"
            answer = client.post_json(path, data=form, headers=headers)
        except ProviderError as error:
            _handle_refusal(message, error)
            return
    sid, status = _read_created(answer)
    _record_sent(message, provider_id=sid, status=status, answer=answer)


def _twilio_find_sent(
    client: HttpClient, *, message: Message, path: str, headers: dict
) -> dict | None:
    """The message Twilio already holds for this one, if an earlier attempt got it there.

    Twilio's Messages list, filtered by To and From, newest first: a match has the same body
    and was created no earlier than a minute before our first hand-over.
    """
    answer = client.get_json(
        path,
        params={"To": message.to_address, "From": message.from_address, "PageSize": 50},
        headers=headers,
    )
    since = (message.sent_at or message.created_at) - dt.timedelta(minutes=1)
    for item in (answer or {}).get("messages") or []:
        if not isinstance(item, dict) or item.get("body") != message.body:
            continue
        try:
            created = parsedate_to_datetime(str(item.get("date_created") or ""))
        except (TypeError, ValueError):
            continue
        if created >= since.replace(microsecond=0):
            return item
    return None


def _handle_refusal(message: Message, error: ProviderError) -> None:
    garbled_success = isinstance(error, InvalidResponse) and (
        error.status is None or 200 <= error.status < 300
    )
    if error.retryable or garbled_success:
        retry = RetryableDeliveryError(
            f"SMS {message.pk} not sent yet: {error.message}", retry_after=error.retry_after
        )
        if error.status is not None and not garbled_success:
            # Twilio answered with an error of its own (5xx, 429): it did not take the message.
            _record_retry(message, status=Message.Status.QUEUED, reason=error.message)
        else:
            # No answer, or one from something in between (a proxy's page): Twilio may have
            # taken it. It stays `sending`, and the next attempt asks Twilio before sending.
            _record_retry(message, status=Message.Status.SENDING, reason=error.message)
        raise retry from error
    if error.status is None or not 400 <= error.status < 500:
        # Our configuration (a bad TWILIO_API_BASE_URL, a redirect): dead-letter the event with
        # the reason; it can be replayed once the setting is fixed.
        raise error
    code, explanation = _twilio_error(error)
    _record_failed(message, explanation)
    if code == TWILIO_UNSUBSCRIBED:
        consent_set(
            organization=message.organization,
            status=Consent.Status.OPTED_OUT,
            channel=Consent.Channel.SMS,
            address=message.to_address,
            source=Consent.Source.PROVIDER_ERROR,
            note=f"Twilio error {code} on message {message.pk}.",
        )


def _twilio_error(error: ProviderError) -> tuple[int | None, str]:
    """Twilio's error code and a sentence naming it, from the legacy `{code, message, more_info,
    status}` body or the newer RFC 9457 one (`detail`, `title`)."""
    try:
        payload = json.loads(getattr(error, "body", "") or "null")
    except ValueError:
        payload = None
    code = payload.get("code") if isinstance(payload, dict) else None
    if not isinstance(code, int):
        return None, error.message  # not Twilio's JSON: HttpClient's sentence names the status
    text = payload.get("message") or payload.get("detail") or payload.get("title") or ""
    explanation = f"Twilio refused the message (HTTP {error.status}, error {code}): {text}"
    if error.status in (401, 403):
        explanation += " (check the organisation's Twilio account SID and auth token)"
    return code, explanation


def _read_created(answer: Any) -> tuple[str, str]:
    sid = answer.get("sid") if isinstance(answer, dict) else None
    if not isinstance(sid, str) or not sid:
        error = InvalidResponse(
            "Twilio accepted the request but its answer has no message sid.", provider="twilio"
        )
        raise RetryableDeliveryError(error.message) from error
    status = TWILIO_STATUS.get(str(answer.get("status") or "").lower(), Message.Status.QUEUED)
    return sid, status


def _record_sent(
    message: Message, *, provider_id: str, status: str, answer: dict | None = None
) -> None:
    message.provider_message_id = provider_id
    message.status = status
    message.sent_at = timezone.now()
    message.error = ""
    if status in (Message.Status.FAILED, Message.Status.UNDELIVERED) and answer:
        message.error = f"Twilio error {answer.get('error_code')}: {answer.get('error_message')}"
    message.full_clean()
    message.save(update_fields=["provider_message_id", "status", "sent_at", "error", "updated_at"])


def _record_retry(message: Message, *, status: str, reason: str) -> None:
    """Keep why this attempt did not send it, on the message the office sees."""
    message.status = status
    message.error = f"Not sent yet, will retry: {reason}"
    if status == Message.Status.QUEUED:
        message.sent_at = None
    message.save(update_fields=["status", "error", "sent_at", "updated_at"])


def _record_failed(message: Message, reason: str) -> None:
    message.status = Message.Status.FAILED
    message.error = reason
    message.full_clean()
    message.save(update_fields=["status", "error", "updated_at"])
