"""Twilio webhooks. Each view finds the organisation by our number on the request, checks the
signature with that organisation's auth token (403, nothing stored, when it fails), then calls
one service and renders its TwiML. No third-party call happens here: the caller is waiting."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bookings.voice import services, twiml
from bookings.voice.security import signature_valid, webhook_organization
from customers.services import sms_keyword_reply
from dispatchnode.core.scoping import tenant_scope, tenant_unscoped

logger = logging.getLogger(__name__)
TWIML_TYPE = "text/xml; charset=utf-8"


def _twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type=TWIML_TYPE)


def twilio_webhook(*, unknown_number: Callable[[], str], callback: bool = False):
    """Resolve the organisation and check the signature before the view runs.

    `callback` marks status and recording callbacks, whose organisation may be found by `From`
    or `AccountSid` too (see `webhook_organization`).
    A request for a number no organisation answers on gets `unknown_number()` with status 200
    (Twilio would otherwise speak an application error to the caller) and nothing is stored.
    """

    def decorate(view):
        @csrf_exempt
        @require_POST
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            with tenant_unscoped("find the organisation by the Twilio number it answers on"):
                organization = webhook_organization(params=request.POST, callback=callback)
            if organization is None:
                logger.info("twilio webhook for an unknown number", extra={"path": request.path})
                return _twiml(unknown_number())
            if not signature_valid(organization=organization, request=request):
                logger.warning(
                    "twilio webhook with a bad signature",
                    extra={"organization_id": organization.pk, "path": request.path},
                )
                return HttpResponseForbidden("Invalid Twilio signature.")
            request.organization = organization
            with tenant_scope(organization):
                return view(request, organization, *args, **kwargs)

        return wrapper

    return decorate


def _confidence(raw: str) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if 0.0 <= value <= 1.0 else None


def _turn_number(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@twilio_webhook(unknown_number=twiml.not_in_service)
def voice_incoming(request: HttpRequest, organization) -> HttpResponse:
    data = request.POST
    return _twiml(
        services.voice_call_answer(
            organization=organization,
            call_sid=data.get("CallSid", ""),
            account_sid=data.get("AccountSid", ""),
            from_number=data.get("From", ""),
            to_number=data.get("To", ""),
            stir_verstat=data.get("StirVerstat", ""),
            direction=data.get("Direction", ""),
            status=data.get("CallStatus", ""),
        )
    )


@twilio_webhook(unknown_number=twiml.not_in_service)
def voice_turn(request: HttpRequest, organization, call_sid: str) -> HttpResponse:
    data = request.POST
    return _twiml(
        services.voice_turn_receive(
            organization=organization,
            call_sid=call_sid,
            turn=_turn_number(request.GET.get("turn")),
            speech=data.get("SpeechResult", ""),
            digits=data.get("Digits", ""),
            confidence=_confidence(data.get("Confidence", "")),
        )
    )


@twilio_webhook(unknown_number=twiml.empty_voice, callback=True)
def voice_status(request: HttpRequest, organization) -> HttpResponse:
    data = request.POST
    services.call_status_record(
        organization=organization,
        call_sid=data.get("CallSid", ""),
        status=data.get("CallStatus", ""),
        duration=data.get("CallDuration", "") or data.get("Duration", ""),
        from_number=data.get("From", ""),
        to_number=data.get("To", ""),
        account_sid=data.get("AccountSid", ""),
        direction=data.get("Direction", ""),
    )
    return _twiml(twiml.empty_voice())


@twilio_webhook(unknown_number=twiml.empty_voice, callback=True)
def voice_recording(request: HttpRequest, organization) -> HttpResponse:
    data = request.POST
    services.call_recording_record(
        organization=organization,
        call_sid=data.get("CallSid", ""),
        recording_url=data.get("RecordingUrl", ""),
        duration=data.get("RecordingDuration", ""),
        recording_status=data.get("RecordingStatus", ""),
    )
    return _twiml(twiml.empty_voice())


@twilio_webhook(unknown_number=twiml.empty_messaging)
def sms_incoming(request: HttpRequest, organization) -> HttpResponse:
    data = request.POST
    services.sms_inbound_record(
        organization=organization,
        message_sid=data.get("MessageSid", "") or data.get("SmsSid", ""),
        from_number=data.get("From", ""),
        to_number=data.get("To", ""),
        body=data.get("Body", ""),
    )
    # HELP/INFO, STOP and START get the answer carriers require, the others no reply.
    reply = sms_keyword_reply(organization=organization, body=data.get("Body", ""))
    return _twiml(twiml.messaging_reply(reply))


@twilio_webhook(unknown_number=twiml.empty_messaging, callback=True)
def sms_status(request: HttpRequest, organization) -> HttpResponse:
    data = request.POST
    services.sms_status_record(
        organization=organization,
        message_sid=data.get("MessageSid", "") or data.get("SmsSid", ""),
        status=data.get("MessageStatus", "") or data.get("SmsStatus", ""),
        error_code=data.get("ErrorCode", ""),
    )
    return _twiml(twiml.empty_messaging())
