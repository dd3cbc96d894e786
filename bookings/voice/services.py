"""Phone-call services behind the Twilio webhooks: answering a call, taking a turn, and the call
and SMS status callbacks.

The transport rules live here, not in the dialogue: every request is idempotent (Twilio retries a
webhook it did not get an answer to in time, and a retry must neither add a turn nor change what
the caller hears), every turn is recorded with its timing, and every read-back of customer data is
logged on the call with the reason it was allowed. The conversation itself is
`bookings.voice.dialogue`.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import secrets
import time
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bookings.models import CallSession, CallTurn
from bookings.services_callbacks import callback_open_for_call
from bookings.voice import twiml
from bookings.voice.brain import Brain
from bookings.voice.dialogue import Dialogue
from bookings.voice.wrapup import call_wrap_up
from customers.messaging import TWILIO_STATUS
from customers.models import Customer, Message
from customers.selectors import customers_with_phone
from customers.services import consent_sms_keyword_apply
from dispatchnode.accounts.models import Organization
from dispatchnode.core.phones import InvalidPhoneNumber, phone_to_e164

STIR_ATTESTED_A = "TN-Validation-Passed-A"
# Stored TwiML replies per call, for answering Twilio retries identically.
REPLIES_KEPT = 4
logger = logging.getLogger(__name__)
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


# --- answering a call ------------------------------------------------------------------------


def _call_session_get_or_create(
    *,
    organization: Organization,
    call_sid: str,
    account_sid: str = "",
    from_number: str = "",
    to_number: str = "",
    stir_verstat: str = "",
    direction: str = "",
) -> CallSession:
    """The call's record, created at most once per organisation and CallSid (the unique
    constraint settles a race between a request and its retry), locked for this transaction."""
    call, created = CallSession.objects.get_or_create(
        organization=organization,
        call_sid=call_sid,
        defaults={
            "account_sid": account_sid,
            "from_number": (from_number or "anonymous")[:32],
            "to_number": (to_number or "unknown")[:32],
            "stir_verstat": stir_verstat[:64],
            "direction": (direction or "inbound")[:20],
            "started_at": timezone.now(),
        },
    )
    if created:
        call.full_clean()
    return CallSession.objects.select_for_update().get(pk=call.pk)


def _webhook_memory(call: CallSession) -> dict:
    return call.context.setdefault("webhook", {"next_turn": 0, "replies": {}})


def _reply_stored(call: CallSession, *, turn: int) -> str | None:
    return _webhook_memory(call)["replies"].get(str(turn))


def _reply_latest(call: CallSession) -> str | None:
    """The TwiML of the latest turn: the answer to a retry so old its own reply is forgotten
    (the caller is past that point; repeating the current question is the safe answer)."""
    replies = _webhook_memory(call)["replies"]
    return replies[max(replies, key=int)] if replies else None


def _reply_store(call: CallSession, *, turn: int, reply: str) -> None:
    memory = _webhook_memory(call)
    replies = memory["replies"]
    replies[str(turn)] = reply
    for key in sorted(replies, key=int)[:-REPLIES_KEPT]:
        del replies[key]
    memory["next_turn"] = turn + 1


def _caller_e164(*, organization: Organization, raw: str) -> str:
    try:
        return phone_to_e164(raw, region=organization.country or "US")
    except InvalidPhoneNumber:
        return ""


def _disclosure_reason(*, organization: Organization, stir_verstat: str, verified: bool) -> str:
    if verified:
        return "caller verified"
    if organization.caller_privacy == Organization.CallerPrivacy.TRUST_CALLER_ID:
        return "organisation policy: trust caller ID"
    if stir_verstat == STIR_ATTESTED_A:
        return "STIR/SHAKEN A attestation"
    return f"organisation policy: {organization.caller_privacy}"


@transaction.atomic
def voice_call_answer(
    *,
    organization: Organization,
    call_sid: str,
    account_sid: str,
    from_number: str,
    to_number: str,
    stir_verstat: str,
    direction: str,
    status: str,
) -> str:
    """Answer a new inbound call: record it, recognise the caller and greet them as much as the
    privacy rules allow. Returns TwiML; a retry of the same request returns the same TwiML and
    stores nothing new."""
    from bookings.voice.context import caller_context, disclosure_allowed

    started = time.perf_counter()
    call = _call_session_get_or_create(
        organization=organization,
        call_sid=call_sid,
        account_sid=account_sid,
        from_number=from_number,
        to_number=to_number,
        stir_verstat=stir_verstat,
        direction=direction,
    )
    if _webhook_memory(call)["next_turn"] > 0:
        replay = _reply_stored(call, turn=0) or _reply_latest(call)
        if replay is not None:
            return replay

    phone = _caller_e164(organization=organization, raw=from_number)
    context = caller_context(organization=organization, phone=phone) if phone else None
    full = context is not None and disclosure_allowed(
        organization=organization, stir_verstat=stir_verstat, verified=False
    )
    if context is not None and context.customer_id is not None and not context.other_matches:
        call.customer_id = context.customer_id
    if context is not None and full:
        call.disclosures.append(
            {
                "turn": 0,
                "what": ["name", "address", "service history"],
                "why": _disclosure_reason(
                    organization=organization, stir_verstat=stir_verstat, verified=False
                ),
                "at": timezone.now().isoformat(),
            }
        )
    elif context is not None:
        call.disclosures.append(
            {
                "turn": 0,
                "what": ["first name"],
                "why": "caller ID matches a customer; nothing else until verified",
                "at": timezone.now().isoformat(),
            }
        )
    call.context["caller"] = {
        "customer_id": context.customer_id if context else None,
        "full_greeting": full,
    }
    call.twilio_status = status[:20] or call.twilio_status
    _webhook_memory(call)["turn"] = 0
    reply = Dialogue(call).greet(context=context, full=full)
    text = twiml.spoken_text(reply)
    call_wrap_up(call)
    _turn_record(call=call, sequence=0, state="greeting", said=text, started=started)
    _reply_store(call, turn=0, reply=reply)
    _call_check(call)
    call.save()
    return reply


def _call_check(call: CallSession) -> None:
    """Validate the values of a call before saving it on the hot path of a phone turn. The
    related rows (organisation, customer, job) were loaded or created by the services of this
    turn, in this organisation; checking each again costs a query per relation per turn."""
    call.clean_fields(exclude=["organization", "customer", "job"])


def _turn_record(
    *,
    call: CallSession,
    sequence: int,
    state: str,
    said: str,
    started: float,
    heard: str = "",
    digits: str = "",
    confidence: float | None = None,
    intent: str = "",
) -> CallTurn:
    turn = CallTurn(
        organization_id=call.organization_id,
        call=call,
        sequence=sequence,
        state=state[:40],
        heard=heard,
        digits=digits[:20],
        confidence=confidence,
        intent=intent[:40],
        said=said,
        processing_ms=int((time.perf_counter() - started) * 1000),
    )
    turn.clean_fields(exclude=["organization", "call"])  # both set by us, one query less each
    turn.save()
    return turn


# --- a turn of the conversation --------------------------------------------------------------


def voice_turn_receive(
    *,
    organization: Organization,
    call_sid: str,
    turn: int | None,
    speech: str,
    digits: str,
    confidence: float | None,
) -> str:
    """Take the caller's answer for `turn` (the number in the `<Gather action>`), let the
    dialogue answer it, record the exchange. A retry of a turn already taken returns the stored
    TwiML and records nothing; a turn for a call we never answered is ended politely.

    No transaction spans the turn. The brain (an LLM may take seconds) interprets the answer
    first, from the call as it was read. The turn is then claimed with a lease (a conditional
    update), so a Twilio retry arriving meanwhile waits for this answer instead of acting twice.
    The dialogue acts through the booking services, each its own outermost transaction, and a
    last short transaction records the turn, stores the reply and releases the lease. What the
    turn did on the way (the job it created, the text it queued) is noted on the call at once, so
    answering the turn again after a crash does not do it twice."""
    started = time.perf_counter()
    call = _call_for_turn(organization=organization, call_sid=call_sid)
    if call is None:
        return twiml.goodbye(
            text="Sorry, we lost this call. Please call us again and we will be glad to help."
        )
    expected = _webhook_memory(call)["next_turn"]
    replay = _replay(call, turn=turn, expected=expected)
    if replay is not None:
        return replay
    heard = Dialogue(call).understand_ahead(
        speech_text=speech, digits=digits, confidence=confidence
    )
    token = _turn_claim(call, turn=expected)
    call = _call_for_turn(organization=organization, call_sid=call_sid)
    if token is None or _webhook_memory(call)["next_turn"] != expected:
        # A retry of this turn answered it (or is still answering it past our patience).
        if token is not None:
            _turn_release(call, token=token)
        return _reply_stored(call, turn=expected) or _reply_latest(call)
    if call.turn_effects.get("turn") != expected:
        call.turn_effects = {"turn": expected}
        CallSession.objects.filter(pk=call.pk).update(turn_effects=call.turn_effects)
    before = _call_snapshot(call)
    state_before = call.state
    call.context["webhook"]["turn"] = expected
    try:
        reply = dialogue_turn(
            call=call, speech=speech, digits=digits, confidence=confidence, brain=heard
        )
    except BaseException:
        _turn_release(call, token=token)
        raise
    with transaction.atomic():
        current = (
            CallSession.objects.select_for_update()
            .only("turn_lease_token", "context")
            .get(pk=call.pk)
        )
        if current.turn_lease_token != token:
            # The lease ran out and a retry answered the turn: its answer stands.
            logger.warning("call %s: turn %s took longer than its lease", call_sid, expected)
            return _reply_stored(current, turn=expected) or reply
        _turn_record(
            call=call,
            sequence=expected,
            state=state_before,
            said=twiml.spoken_text(reply),
            started=started,
            heard=speech,
            digits=digits,
            confidence=confidence,
            intent=call.context.pop("turn_intent", ""),
        )
        _reply_store(call, turn=expected, reply=reply)
        _call_check(call)
        call.turn_lease_token, call.turn_lease_until, call.turn_effects = "", None, {}
        # Only what this turn changed: a status callback may have written the rest meanwhile.
        call.save(update_fields=_call_changed(call, before) + TURN_LEASE_FIELDS)
    return reply


TURN_LEASE_FIELDS = ["turn_lease_token", "turn_lease_until", "turn_effects", "updated_at"]


def _turn_claim(call: CallSession, *, turn: int) -> str | None:
    """Lease the call for answering `turn`: a token, or None when another request answered the
    turn while we waited for it (at most `VOICE_TURN_WAIT_SECONDS`, within Twilio's 15 s)."""
    token = secrets.token_hex(16)
    deadline = time.monotonic() + settings.VOICE_TURN_WAIT_SECONDS
    while True:
        now = timezone.now()
        claimed = (
            CallSession.objects.filter(pk=call.pk)
            .filter(Q(turn_lease_until__isnull=True) | Q(turn_lease_until__lt=now))
            .update(
                turn_lease_token=token,
                turn_lease_until=now + dt.timedelta(seconds=settings.VOICE_TURN_LEASE_SECONDS),
            )
        )
        if claimed:
            return token
        memory = (
            CallSession.objects.filter(pk=call.pk).values_list("context", flat=True).first() or {}
        )
        if memory.get("webhook", {}).get("next_turn", 0) != turn:
            return None
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def _turn_release(call: CallSession, *, token: str) -> None:
    CallSession.objects.filter(pk=call.pk, turn_lease_token=token).update(
        turn_lease_token="", turn_lease_until=None
    )


def _call_snapshot(call: CallSession) -> dict[str, object]:
    return {
        field.attname: copy.deepcopy(field.value_from_object(call))
        for field in call._meta.concrete_fields
        if not field.primary_key
    }


def _call_changed(call: CallSession, before: dict[str, object]) -> list[str]:
    return [
        field.name
        for field in call._meta.concrete_fields
        if field.attname in before
        and field.name not in TURN_LEASE_FIELDS
        and field.value_from_object(call) != before[field.attname]
    ]


def _call_for_turn(*, organization: Organization, call_sid: str) -> CallSession | None:
    return (
        CallSession.objects.select_related("organization")
        .filter(organization=organization, call_sid=call_sid)
        .first()
    )


def _replay(call: CallSession, *, turn: int | None, expected: int) -> str | None:
    """The stored answer to a retry of a turn already taken, or None for a new turn."""
    if turn is not None and turn < expected:
        return _reply_stored(call, turn=turn) or _reply_latest(call)
    return None


def dialogue_turn(
    *,
    call: CallSession,
    speech: str,
    digits: str,
    confidence: float | None,
    brain: Brain | None = None,
) -> str:
    """The conversation (see `bookings.voice.dialogue`): given the caller's answer, update the
    call (state, working memory in `call.context`, outcome, summary) and return the TwiML to
    answer with. `brain` is the one that understood the answer (see
    `Dialogue.understand_ahead`), the configured one if not given. The caller saves `call`."""
    dialogue = Dialogue(call, brain=brain)
    reply = dialogue.respond(speech_text=speech, digits=digits, confidence=confidence)
    call_wrap_up(call, service=dialogue.service_chosen())
    return reply


# --- call callbacks --------------------------------------------------------------------------


def _seconds(value: str) -> int | None:
    try:
        seconds = int(Decimal(value or ""))
    except (ArithmeticError, ValueError):
        return None
    return seconds if seconds >= 0 else None


@transaction.atomic
def call_status_record(
    *,
    organization: Organization,
    call_sid: str,
    status: str,
    duration: str,
    from_number: str,
    to_number: str,
    account_sid: str = "",
    direction: str = "",
) -> CallSession:
    """Apply a call status callback. Callbacks come more than once and out of order, so a final
    status is never overwritten by an earlier one; a call that ended without an outcome is
    `no_booking`."""
    call = _call_session_get_or_create(
        organization=organization,
        call_sid=call_sid,
        account_sid=account_sid,
        from_number=from_number,
        to_number=to_number,
        direction=direction,
    )
    status = (status or "").strip().lower()[:20]
    if status and call.twilio_status not in FINAL_CALL_STATUSES:
        call.twilio_status = status
    seconds = _seconds(duration)
    if seconds is not None:
        call.duration_seconds = seconds
    if status in FINAL_CALL_STATUSES:
        call.ended_at = call.ended_at or timezone.now()
        if not call.outcome:
            call.outcome = CallSession.Outcome.NO_BOOKING
            call.outcome_reason = call.outcome_reason or (
                "call ended without a booking" if status == "completed" else f"call {status}"
            )
        call_wrap_up(call, service=Dialogue(call).service_chosen())
    _call_check(call)
    call.save()
    if status in FINAL_CALL_STATUSES:
        callback_open_for_call(call)
    return call


def _https(url: str) -> str:
    url = (url or "").strip()
    if url.startswith("http://"):
        return "https://" + url[len("http://") :]
    return url


@transaction.atomic
def call_recording_record(
    *,
    organization: Organization,
    call_sid: str,
    recording_url: str,
    duration: str,
    recording_status: str,
) -> CallSession | None:
    """Keep a completed recording's URL (https) and duration on the call. Recordings of calls we
    never answered are not ours to keep: None."""
    call = (
        CallSession.objects.select_for_update()
        .filter(organization=organization, call_sid=call_sid)
        .first()
    )
    if call is None:
        return None
    if recording_status and recording_status.lower() != "completed":
        return call
    url = _https(recording_url)
    if url:
        call.recording_url = url
    seconds = _seconds(duration)
    if seconds is not None:
        call.recording_duration_seconds = seconds
    _call_check(call)
    call.save()
    return call


# --- SMS -------------------------------------------------------------------------------------


@transaction.atomic
def sms_inbound_record(
    *,
    organization: Organization,
    message_sid: str,
    from_number: str,
    to_number: str,
    body: str,
) -> Message:
    """Store an inbound SMS on the timeline of the customer with that number (if any), once per
    MessageSid. STOP and its synonyms opt the number out of SMS, START, YES and UNSTOP back in:
    the organisation's consent record for the number, customer or not."""
    phone = _caller_e164(organization=organization, raw=from_number) or from_number
    customer = (
        customers_with_phone(Customer.objects.filter(organization=organization), e164=phone)
        .order_by("id")
        .first()
    )
    message, created = Message.objects.get_or_create(
        organization=organization,
        channel=Message.Channel.SMS,
        provider_message_id=message_sid,
        defaults={
            "customer": customer,
            "direction": Message.Direction.INBOUND,
            "to_address": to_number,
            "from_address": phone,
            "body": body,
            "status": Message.Status.RECEIVED,
            "sent_at": timezone.now(),
        },
    )
    if created:
        message.full_clean()
    consent_sms_keyword_apply(organization=organization, address=phone, body=body)
    return message


# A later callback never moves a message back: delivered stays delivered if "sent" arrives late.
_SMS_RANK = {
    Message.Status.QUEUED: 0,
    Message.Status.SENDING: 0,
    Message.Status.SENT: 1,
    Message.Status.DELIVERED: 2,
    Message.Status.UNDELIVERED: 2,
    Message.Status.FAILED: 2,
}


@transaction.atomic
def sms_status_record(
    *, organization: Organization, message_sid: str, status: str, error_code: str = ""
) -> Message | None:
    """Apply a delivery report to our outbound message with that MessageSid (None if unknown)."""
    message = (
        Message.objects.select_for_update()
        .filter(
            organization=organization,
            channel=Message.Channel.SMS,
            provider_message_id=message_sid,
        )
        .first()
    )
    new_status = TWILIO_STATUS.get((status or "").strip().lower())
    if message is None or new_status is None:
        return message
    if _SMS_RANK.get(new_status, 0) >= _SMS_RANK.get(message.status, 0):
        message.status = new_status
        if error_code and new_status in (Message.Status.FAILED, Message.Status.UNDELIVERED):
            message.error = f"Twilio error {error_code}"
        message.full_clean()
        message.save()
    return message
