"""Sending outbound SMS: the outbox handler of `message.sms` and the backends it picks.

The domain side (storing, claiming, recording what happened) is `customers.messaging`; this
layer calls the provider. `integrations.apps` imports this module in every process (web,
worker, beat), which registers the handler under its stable key `sms.send`.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from customers.messaging import (
    EMAIL_TOPIC,
    SMS_TOPIC,
    message_claim,
    sms_claim,
    sms_record_failed,
    sms_record_sent,
)
from customers.models import Message
from dispatchnode.core.models import OutboxEvent
from dispatchnode.core.outbox import outbox_register
from integrations.providers.twilio import sms as twilio_sms

sms_logger = logging.getLogger("dispatchnode.sms")


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
    claim = sms_claim(event)
    if claim is None:
        return
    message, resend = claim
    if settings.SMS_BACKEND == "console":
        _send_console(message)
    else:
        twilio_sms.sms_send(message, reconcile=resend)


def _send_console(message: Message) -> None:
    sms_logger.info(
        "SMS to %s from %s (org %s, message %s): %r",
        message.to_address,
        message.from_address or "-",
        message.organization_id,
        message.pk,
        message.body,
    )
    sms_record_sent(message, provider_id=f"console-{uuid.uuid4().hex}", status=Message.Status.SENT)


@outbox_register(EMAIL_TOPIC, key="email.send")
def email_deliver(event: OutboxEvent) -> None:
    """Send the email of one `message.email` event through Django's email backend.

    Claimed like an SMS (queued → sending in a short transaction). The Message-ID header is
    derived from our message id, so a redelivery after a crash between the send and the
    record (the one case that can send twice) carries the same Message-ID and mail clients
    show it once. A backend error is retried by the outbox (its retry policy); a refused
    recipient is failed with the reason.
    """
    claim = message_claim(event, channel=Message.Channel.EMAIL)
    if claim is None:
        return
    message, _resend = claim
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "dispatchnode"
    message_id = f"<dn-{message.organization_id}-{message.pk}@{domain}>"
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=message.from_address or settings.DEFAULT_FROM_EMAIL,
        to=[message.to_address],
        headers={"Message-ID": message_id},
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    try:
        sent = email.send(fail_silently=False)
    except (ValueError, UnicodeError) as error:  # a malformed address or header: no retry
        sms_record_failed(message, f"Not sent: {error}")
        return
    if not sent:
        sms_record_failed(message, "Not sent: the email backend refused the message.")
        return
    sms_record_sent(message, provider_id=message_id[:100], status=Message.Status.SENT)
