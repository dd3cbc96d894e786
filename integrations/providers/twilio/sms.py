"""Twilio's Messages REST resource: send one SMS, or find one an earlier attempt sent.

Called by `integrations.messaging.sms_deliver` with a claimed message (no transaction open);
the outcome is recorded through `customers.messaging`. Posts to the organisation's own Twilio
account at `TWILIO_API_BASE_URL` (a local fake in tests).

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
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings

from customers.messaging import (
    TWILIO_STATUS,
    sms_record_failed,
    sms_record_retry,
    sms_record_sent,
)
from customers.models import Consent, Message
from customers.services import consent_set
from dispatchnode.core.http import (
    BODY_EXCERPT_CHARS,
    HttpClient,
    InvalidResponse,
    ProviderError,
)
from dispatchnode.core.retry import RetryableDeliveryError

TWILIO_API_VERSION = "2010-04-01"
# Twilio's error for a recipient who replied STOP to this sender.
TWILIO_UNSUBSCRIBED = 21610


class TwilioHttpClient(HttpClient):
    """`HttpClient` that keeps the body of every refusal: Twilio explains a 401 as well
    (error 20003), and the base client keeps the body of other 4xx answers only."""

    def _status_error(self, response: httpx.Response) -> ProviderError | None:
        error = super()._status_error(response)
        if error is not None and not getattr(error, "body", ""):
            error.body = response.text[:BODY_EXCERPT_CHARS]
        return error


def sms_send(message: Message, *, reconcile: bool = False) -> None:
    organization = message.organization
    account_sid = organization.twilio_account_sid
    auth_token = organization.twilio_auth_token
    if not account_sid or not auth_token:
        sms_record_failed(message, "Twilio is not configured for this organisation.")
        return
    if not message.from_address:
        sms_record_failed(message, "The organisation has no active Twilio number to send from.")
        return
    credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
    headers = {"Authorization": f"Basic {credentials}"}
    path = f"/{TWILIO_API_VERSION}/Accounts/{account_sid}/Messages.json"
    with TwilioHttpClient(
        provider="twilio",
        label="Twilio",
        base_url=settings.TWILIO_API_BASE_URL,
        timeout=float(settings.TWILIO_TIMEOUT),
    ) as client:
        try:
            if reconcile:
                found = _find_sent(client, message=message, path=path, headers=headers)
                if found is not None:
                    sid, status = _read_created(found)
                    sms_record_sent(message, provider_id=sid, status=status, answer=found)
                    return
            form = {"To": message.to_address, "From": message.from_address, "Body": message.body}
            if settings.PUBLIC_BASE_URL:
                form["StatusCallback"] = f"{settings.PUBLIC_BASE_URL}/twilio/sms/status"
            answer = client.post_json(path, data=form, headers=headers)
        except ProviderError as error:
            _handle_refusal(message, error)
            return
    sid, status = _read_created(answer)
    sms_record_sent(message, provider_id=sid, status=status, answer=answer)


def _find_sent(client: HttpClient, *, message: Message, path: str, headers: dict) -> dict | None:
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
            sms_record_retry(message, status=Message.Status.QUEUED, reason=error.message)
        else:
            # No answer, or one from something in between (a proxy's page): Twilio may have
            # taken it. It stays `sending`, and the next attempt asks Twilio before sending.
            sms_record_retry(message, status=Message.Status.SENDING, reason=error.message)
        raise retry from error
    if error.status is None or not 400 <= error.status < 500:
        # Our configuration (a bad TWILIO_API_BASE_URL, a redirect): dead-letter the event with
        # the reason; it can be replayed once the setting is fixed.
        raise error
    code, explanation = _error_explained(error)
    sms_record_failed(message, explanation)
    if code == TWILIO_UNSUBSCRIBED:
        consent_set(
            organization=message.organization,
            status=Consent.Status.OPTED_OUT,
            channel=Consent.Channel.SMS,
            address=message.to_address,
            source=Consent.Source.PROVIDER_ERROR,
            note=f"Twilio error {code} on message {message.pk}.",
        )


def _error_explained(error: ProviderError) -> tuple[int | None, str]:
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
