"""The Twilio webhooks over HTTP with real signatures: authentication, the first turn, retries,
transfers, silence, call/recording callbacks in any order, and inbound SMS."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from bookings.models import CallSession, CallTurn
from bookings.voice.twiml import spoken_text
from customers.messaging import sms_queue
from customers.models import Consent, ContactPoint, Message
from dispatchnode.accounts.models import Organization
from tests import factories
from tests.voice.conftest import JOHN_PHONE, OUR_NUMBER, TwilioClient, call_params

pytestmark = pytest.mark.django_db

INCOMING = "/twilio/voice/incoming"
SID = "CA" + "a" * 32


def _action(twiml: str) -> str:
    match = re.search(r'<Gather action="([^"]+)"', twiml)
    assert match, twiml
    return match.group(1).replace("&amp;", "&")


def _rows() -> tuple[int, int, int]:
    return CallSession.objects.count(), CallTurn.objects.count(), Message.objects.count()


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        INCOMING,
        "/twilio/voice/status",
        "/twilio/voice/recording",
        f"/twilio/voice/turn/{SID}?turn=1",
        "/twilio/sms/incoming",
        "/twilio/sms/status",
    ],
)
def test_forged_signature_is_refused_and_stores_nothing(voice_org, john, path):
    forger = TwilioClient(token="not-the-auth-token")
    params = call_params(MessageSid="SM" + "1" * 32, Body="STOP", RecordingUrl="https://x/y")

    response = forger.post(path, params)

    assert response.status_code == 403
    assert _rows() == (0, 0, 0)
    assert ContactPoint.objects.get(value=JOHN_PHONE).sms_opt_out is False


def test_missing_signature_is_refused(voice_org, twilio):
    response = twilio.client.post(INCOMING, call_params())

    assert response.status_code == 403
    assert _rows() == (0, 0, 0)


def test_tampered_parameter_is_refused(voice_org, twilio):
    params = call_params()
    signature = twilio.signature(INCOMING, params)

    response = twilio.post(INCOMING, {**params, "From": "+15125550177"}, signature=signature)

    assert response.status_code == 403
    assert _rows() == (0, 0, 0)


def test_unknown_number_gets_a_polite_message_and_nothing_is_stored(voice_org, twilio):
    response = twilio.post(INCOMING, call_params(To="+15125550123"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert "this number is not in service" in spoken_text(response.content.decode())
    assert "<Hangup" in response.content.decode()
    assert _rows() == (0, 0, 0)


def test_signature_over_public_base_url_behind_a_proxy(voice_org, john):
    # Twilio called https://voice.example.com/...; Django sees http://testserver/...
    behind_proxy = TwilioClient(base="https://voice.example.com")

    with override_settings(PUBLIC_BASE_URL="https://voice.example.com"):
        accepted = behind_proxy.post(INCOMING, call_params())
    refused = behind_proxy.post(INCOMING, call_params(CallSid="CA" + "b" * 32))

    assert accepted.status_code == 200
    assert refused.status_code == 403
    assert list(CallSession.objects.values_list("call_sid", flat=True)) == [SID]


# --- the first turn ---------------------------------------------------------------------------


def test_attested_returning_caller_is_greeted_in_full(voice_org, john, twilio):
    response = twilio.post(INCOMING, call_params(StirVerstat="TN-Validation-Passed-A"))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'input="speech dtmf"' in body
    assert 'speechTimeout="auto"' in body
    assert _action(body) == f"/twilio/voice/turn/{SID}?turn=1"
    said = spoken_text(body)
    assert said.startswith("Hi John, welcome back to Demo Heating & Air.")
    assert "123 Main Street" in said
    call = CallSession.objects.get()
    assert (call.from_number, call.to_number, call.stir_verstat) == (
        JOHN_PHONE,
        OUR_NUMBER,
        "TN-Validation-Passed-A",
    )
    assert call.customer == john
    assert [d["why"] for d in call.disclosures] == ["STIR/SHAKEN A attestation"]
    assert call.disclosures[0]["what"] == ["name", "address", "service history"]
    turn = call.turns.get()
    assert (turn.sequence, turn.heard, turn.said) == (0, "", said)
    assert turn.processing_ms is not None


def test_unattested_caller_hears_first_name_only_and_is_asked_to_verify(voice_org, john, twilio):
    response = twilio.post(INCOMING, call_params(StirVerstat="TN-Validation-Passed-C"))

    said = spoken_text(response.content.decode())
    assert "John" in said
    assert "ZIP" in said
    assert "Main" not in said
    assert "Smith" not in said
    call = CallSession.objects.get()
    assert call.state == "verify"
    assert [d["what"] for d in call.disclosures] == [["first name"]]


def test_unknown_caller_gets_the_company_greeting(voice_org, twilio):
    response = twilio.post(INCOMING, call_params(From="+15125550999"))

    said = spoken_text(response.content.decode())
    assert "Thanks for calling Demo Heating & Air" in said
    call = CallSession.objects.get()
    assert (call.customer, call.disclosures, call.state) == (None, [], "need")


def test_twilio_retry_of_incoming_returns_the_same_twiml_and_stores_nothing_new(
    voice_org, john, twilio
):
    first = twilio.post(INCOMING, call_params(StirVerstat="TN-Validation-Passed-A"))
    retry = twilio.post(INCOMING, call_params(StirVerstat="TN-Validation-Passed-A"))

    assert retry.content == first.content
    assert _rows() == (1, 1, 0)
    assert len(CallSession.objects.get().disclosures) == 1


# --- later turns ------------------------------------------------------------------------------


def _answer(twilio, previous: str, *, speech: str = "", digits: str = "", confidence="0.92"):
    params = call_params(CallStatus="in-progress")
    if speech:
        params.update(SpeechResult=speech, Confidence=confidence)
    if digits:
        params["Digits"] = digits
    return twilio.post(_action(previous), params)


def test_asking_for_a_person_dials_the_office(voice_org, john, twilio):
    greeting = twilio.post(INCOMING, call_params()).content.decode()

    response = _answer(twilio, greeting, speech="I'd rather talk to a real person, please.")

    body = response.content.decode()
    assert "<Dial" in body
    assert "+15125550199</Dial>" in body
    call = CallSession.objects.get()
    assert (call.outcome, call.outcome_reason) == ("transferred", "caller asked for a person")
    turn = call.turns.get(sequence=1)
    assert (turn.heard, turn.intent, turn.confidence) == (
        "I'd rather talk to a real person, please.",
        "person",
        0.92,
    )
    assert turn.said == spoken_text(body)


def test_zero_on_the_keypad_without_an_office_phone_goes_to_voicemail(voice_org, twilio):
    Organization.objects.filter(pk=voice_org.pk).update(office_phone="")
    greeting = twilio.post(INCOMING, call_params()).content.decode()

    body = _answer(twilio, greeting, digits="0").content.decode()

    assert "<Dial" not in body
    assert '<Record maxLength="120"' in body
    assert 'recordingStatusCallback="/twilio/voice/recording"' in body
    call = CallSession.objects.get()
    assert call.outcome == "no_booking"
    assert call.turns.get(sequence=1).digits == "0"


def test_silence_is_prompted_twice_then_a_person_is_offered(voice_org, twilio):
    previous = twilio.post(INCOMING, call_params(From="+15125550999")).content.decode()
    heard = []
    for _ in range(3):
        previous = _answer(twilio, previous).content.decode()
        heard.append(previous)

    assert "didn't catch that" in spoken_text(heard[0])
    assert "didn't catch that" in spoken_text(heard[1])
    assert "<Dial" in heard[2]
    assert "connect you with someone" in spoken_text(heard[2])
    call = CallSession.objects.get()
    assert call.outcome == "transferred"
    assert list(call.turns.values_list("sequence", "intent")) == [
        (0, ""),
        (1, "no_input"),
        (2, "no_input"),
        (3, "no_input"),
    ]
    for response in heard:
        assert "error" not in spoken_text(response).lower()


def test_low_confidence_speech_is_reprompted(voice_org, twilio):
    greeting = twilio.post(INCOMING, call_params()).content.decode()

    body = _answer(twilio, greeting, speech="mmf", confidence="0.02").content.decode()

    assert "didn't catch that" in spoken_text(body)
    assert CallSession.objects.get().turns.get(sequence=1).intent == "unintelligible"


def test_anything_else_is_answered_with_what_the_agent_can_do(voice_org, twilio):
    greeting = twilio.post(INCOMING, call_params()).content.decode()

    body = _answer(twilio, greeting, speech="My AC is blowing warm air").content.decode()

    assert "book, reschedule or cancel a visit" in spoken_text(body)
    assert _action(body) == f"/twilio/voice/turn/{SID}?turn=2"


def test_retry_of_a_turn_returns_the_same_twiml_and_records_one_turn(voice_org, twilio):
    greeting = twilio.post(INCOMING, call_params()).content.decode()
    # Two silent turns have identical parameters; only the turn number tells them apart.
    first = _answer(twilio, greeting)
    retry = _answer(twilio, greeting)
    second = _answer(twilio, first.content.decode())

    assert retry.content == first.content
    assert _action(second.content.decode()).endswith("?turn=3")
    assert list(CallTurn.objects.values_list("sequence", flat=True)) == [0, 1, 2]
    assert CallSession.objects.get().context["dialogue"]["misses"] == 2


def test_late_retries_after_many_turns_repeat_the_current_question(shop, twilio):
    new_caller = call_params(From="+15125550911")
    greeting = twilio.post(INCOMING, new_caller).content.decode()
    previous = greeting
    address = "4500 Duval Street, Austin, Texas 78751"
    for said in ("My sink is clogged.", "Maria Garcia.", address, "No.", address):
        previous = _answer(twilio, previous, speech=said).content.decode()
    assert "Is that right?" in spoken_text(previous)

    late_incoming = twilio.post(INCOMING, new_caller)
    late_turn = _answer(twilio, greeting, speech="My sink is clogged.")

    assert late_incoming.content.decode() == previous
    assert late_turn.content.decode() == previous
    assert CallTurn.objects.count() == 6


def test_turn_for_a_call_never_answered_ends_politely(voice_org, twilio):
    response = twilio.post(f"/twilio/voice/turn/{SID}?turn=1", call_params())

    assert response.status_code == 200
    assert "call us again" in spoken_text(response.content.decode())
    assert _rows() == (0, 0, 0)


# --- status and recording callbacks -----------------------------------------------------------


def _status(twilio, status: str = "completed", duration: str = "94"):
    return twilio.post(
        "/twilio/voice/status",
        call_params(
            CallStatus=status, CallDuration=duration, CallbackSource="call-progress-events"
        ),
    )


def _recording(twilio):
    return twilio.post(
        "/twilio/voice/recording",
        {
            "AccountSid": "AC" + "1" * 32,
            "CallSid": SID,
            "RecordingSid": "RE" + "1" * 32,
            "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
            "RecordingStatus": "completed",
            "RecordingDuration": "90",
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
        },
    )


def _assert_finished(call: CallSession) -> None:
    assert call.twilio_status == "completed"
    assert call.duration_seconds == 94
    assert call.ended_at is not None
    assert (call.outcome, call.outcome_reason) == ("no_booking", "call ended without a booking")
    assert call.recording_url == "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
    assert call.recording_duration_seconds == 90


def test_status_then_recording_each_twice(voice_org, twilio):
    twilio.post(INCOMING, call_params())

    responses = [_status(twilio), _recording(twilio), _status(twilio), _recording(twilio)]

    assert [r.status_code for r in responses] == [200, 200, 200, 200]
    _assert_finished(CallSession.objects.get())


def test_recording_then_status_and_a_late_progress_event(voice_org, twilio):
    twilio.post(INCOMING, call_params())

    _recording(twilio)
    _status(twilio)
    _status(twilio, status="in-progress", duration="")

    _assert_finished(CallSession.objects.get())


def test_completed_call_keeps_its_outcome(voice_org, john, twilio):
    greeting = twilio.post(INCOMING, call_params()).content.decode()
    _answer(twilio, greeting, speech="A person, please.")

    _status(twilio)

    call = CallSession.objects.get()
    assert (call.outcome, call.twilio_status) == ("transferred", "completed")


# --- SMS --------------------------------------------------------------------------------------


def _sms(twilio, body: str, sid: str = "SM" + "1" * 32):
    return twilio.post(
        "/twilio/sms/incoming",
        {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": "AC" + "1" * 32,
            "From": JOHN_PHONE,
            "To": OUR_NUMBER,
            "Body": body,
            "NumMedia": "0",
            "SmsStatus": "received",
        },
    )


def test_sms_stop_opts_the_number_out_and_is_kept_once(voice_org, john, twilio):
    first = _sms(twilio, "STOP")
    retry = _sms(twilio, "STOP")

    assert (first.status_code, retry.status_code) == (200, 200)
    message = Message.objects.get()
    assert (message.customer, message.direction, message.status, message.body) == (
        john,
        "inbound",
        "received",
        "STOP",
    )
    assert ContactPoint.objects.get(value=JOHN_PHONE).sms_opt_out is True

    _sms(twilio, "start", sid="SM" + "2" * 32)

    assert ContactPoint.objects.get(value=JOHN_PHONE).sms_opt_out is False


def test_sms_stop_from_a_number_that_is_no_customer_suppresses_later_texts(voice_org, twilio):
    # when a stranger replies STOP, then we text them
    response = twilio.post(
        "/twilio/sms/incoming",
        {"MessageSid": "SM" + "5" * 32, "From": "+15125550999", "To": OUR_NUMBER, "Body": "Stop"},
    )
    later = sms_queue(organization=voice_org, to="+15125550999", body="Your visit is booked.")

    # then the opt-out is kept for the number and the text is suppressed
    assert response.status_code == 200
    assert list(
        Consent.objects.values_list("organization_id", "channel", "address", "status", "source")
    ) == [(voice_org.pk, "sms", "+15125550999", "opted_out", "sms_keyword")]
    assert later.status == Message.Status.SUPPRESSED

    # and START allows texts again
    twilio.post(
        "/twilio/sms/incoming",
        {"MessageSid": "SM" + "6" * 32, "From": "+15125550999", "To": OUR_NUMBER, "Body": "START"},
    )
    again = sms_queue(organization=voice_org, to="+15125550999", body="Your visit is booked.")
    assert Consent.objects.get().status == "opted_in"
    assert again.status == Message.Status.QUEUED


def test_sms_from_an_unknown_number_is_kept_without_a_customer(voice_org, twilio):
    response = twilio.post(
        "/twilio/sms/incoming",
        {"MessageSid": "SM" + "3" * 32, "From": "+15125550999", "To": OUR_NUMBER, "Body": "Hi"},
    )

    assert response.status_code == 200
    assert list(Message.objects.values_list("customer", "from_address")) == [(None, "+15125550999")]


def test_sms_status_updates_the_outbound_message_and_never_goes_back(voice_org, john, twilio):
    message = factories.MessageFactory(
        customer=john, provider_message_id="SM" + "4" * 32, from_address=OUR_NUMBER
    )

    def report(status: str):
        return twilio.post(
            "/twilio/sms/status",
            {
                "MessageSid": message.provider_message_id,
                "MessageStatus": status,
                "AccountSid": "AC" + "1" * 32,
                "From": OUR_NUMBER,
                "To": JOHN_PHONE,
            },
        )

    report("delivered")
    report("sent")

    message.refresh_from_db()
    assert message.status == "delivered"
