"""Outbound SMS: written in the caller's transaction, sent by an outbox handler after commit.

`sms_queue` is the one entry point (the phone agent texts booking confirmations and verification
codes with it). It never talks to Twilio: it stores an outbound `Message` and, when the message
can be sent, emits the outbox event `message.sms` in the same transaction. The handler of that
topic, `integrations.messaging.sms_deliver`, sends it after commit (embedded mode: right after the
commit; with a broker: at the next relay run) through the configured backend. Delivery is at
least once, so the handler sends only a message that is still `queued` and has no provider id,
and it decides on the row locked (`sms_claim`); the backends record the outcome with
`sms_record_sent`, `sms_record_retry` and `sms_record_failed`.

The states of an outbound SMS (`Message.Status`):

- `queued`: stored, waiting for the relay; also what Twilio answers for a message it accepted
  and has not handed to the carrier yet (its `sid` is then in `provider_message_id`).
- `sent`, `delivered`, `undelivered`, `failed`: Twilio's answer, then its status callbacks
  (`bookings.voice.services.sms_status_record`) move the message on.
- `failed` without a provider id: never sent, and `error` says why (a number we cannot parse,
  Twilio refused the request with a 4xx, the organisation has no Twilio credentials or number).
- `suppressed`: the number opted out of SMS; never sent.

Backends (`settings.SMS_BACKEND`): `twilio` (`integrations.providers.twilio.sms`) posts to the
Messages resource of the organisation's own Twilio account; `console` writes one INFO line on
the `dispatchnode.sms` logger and marks the message sent, for demos and development.
`TWILIO_STATUS` stays here, below both: the status callbacks in `bookings.voice` read it too.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone

from customers.models import Consent, Customer, Message
from customers.selectors import consent_allows
from dispatchnode.accounts.models import Organization, PhoneNumber
from dispatchnode.core.errors import NotFound
from dispatchnode.core.models import OutboxEvent
from dispatchnode.core.outbox import outbox_emit
from dispatchnode.core.phones import InvalidPhoneNumber, phone_to_e164

logger = logging.getLogger(__name__)

SMS_TOPIC = "message.sms"
EMAIL_TOPIC = "message.email"
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


@transaction.atomic
def email_queue(
    *,
    organization: Organization,
    to: str,
    subject: str,
    body: str,
    html: str = "",
    customer: Customer | None = None,
    job: models.Model | None = None,
    purpose: str = "",
) -> Message:
    """Store an outbound email (text `body`, optional `html` alternative) and schedule its
    sending after the caller's transaction commits, through Django's email backend
    (`integrations.messaging.email_deliver`).

    Like `sms_queue` the message is always stored: `failed` when `to` is not an email address,
    `suppressed` when the address opted out of email; neither emits an event.
    """
    if customer is not None and customer.organization_id != organization.pk:
        raise NotFound("No such customer.")
    if job is not None and job.organization_id != organization.pk:
        raise NotFound("No such job.")
    address = (to or "").strip().lower()
    message = Message(
        organization=organization,
        customer=customer,
        job=job,
        channel=Message.Channel.EMAIL,
        direction=Message.Direction.OUTBOUND,
        to_address=address[:254] or "(none)",
        from_address=organization.email or settings.DEFAULT_FROM_EMAIL,
        subject=subject[:300],
        body=body,
        html=html,
        purpose=purpose,
        status=Message.Status.QUEUED,
    )
    try:
        validate_email(address)
    except ValidationError:
        message.status = Message.Status.FAILED
        message.error = f"Not sent: {to!r} is not an email address."
    else:
        if not consent_allows(
            organization=organization, channel=Consent.Channel.EMAIL, address=address
        ):
            message.status = Message.Status.SUPPRESSED
            message.error = f"Not sent: {address} has opted out of email."
    message.save()
    if message.status == Message.Status.QUEUED:
        outbox_emit(
            organization=organization,
            topic=EMAIL_TOPIC,
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


# --- For the sending backends (`integrations.messaging`) -----------------------------------


def sms_claim(event: OutboxEvent) -> tuple[Message, bool] | None:
    """Lock the event's message and mark it `sending`; (message, was it sending already)."""
    return message_claim(event, channel=Message.Channel.SMS)


def message_claim(event: OutboxEvent, *, channel: str) -> tuple[Message, bool] | None:
    """Lock the event's outbound message on `channel` and mark it `sending`; (message, was it
    sending already). None when it is gone or was settled by an earlier delivery."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .select_related("organization")
            .filter(
                organization_id=event.organization_id,
                pk=event.payload.get("message"),
                channel=channel,
                direction=Message.Direction.OUTBOUND,
            )
            .first()
        )
        if message is None:
            logger.warning(
                "outbox event %s (org %s): message %s no longer exists; nothing to send",
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


def sms_record_sent(
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


def sms_record_retry(message: Message, *, status: str, reason: str) -> None:
    """Keep why this attempt did not send it, on the message the office sees."""
    message.status = status
    message.error = f"Not sent yet, will retry: {reason}"
    if status == Message.Status.QUEUED:
        message.sent_at = None
    message.save(update_fields=["status", "error", "sent_at", "updated_at"])


def sms_record_failed(message: Message, reason: str) -> None:
    message.status = Message.Status.FAILED
    message.error = reason
    message.full_clean()
    message.save(update_fields=["status", "error", "updated_at"])
