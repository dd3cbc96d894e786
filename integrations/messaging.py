"""Sending outbound SMS: the outbox handler of `message.sms` and the backends it picks.

The domain side (storing, claiming, recording what happened) is `customers.messaging`; this
layer calls the provider. `integrations.apps` imports this module in every process (web,
worker, beat), which registers the handler under its stable key `sms.send`.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings

from customers.messaging import SMS_TOPIC, sms_claim, sms_record_sent
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
