"""HELP/INFO, STOP and START through the signed Twilio SMS webhook: each gets the reply carriers
require, in the TwiML answer; any other text gets no reply."""

from __future__ import annotations

import pytest

from customers.models import Consent
from tests.voice.conftest import JOHN_PHONE, OUR_NUMBER


def _sms(twilio, body: str, sid: str):
    return twilio.post(
        "/twilio/sms/incoming",
        {
            "MessageSid": sid,
            "AccountSid": "AC" + "1" * 32,
            "From": JOHN_PHONE,
            "To": OUR_NUMBER,
            "Body": body,
        },
    )


@pytest.mark.parametrize("body", ["HELP", "info", "Help!"])
def test_help_is_answered_with_the_company_its_phone_and_how_to_opt_out(voice_org, twilio, body):
    # when
    response = _sms(twilio, body, sid="SM" + "3" * 32)

    # then
    assert response.status_code == 200
    assert response.content.decode() == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Demo Heating &amp; Air: '
        "appointment and service messages. Call +15125550199. Reply STOP to opt out."
        "</Message></Response>"
    )
    assert not Consent.objects.exists()  # HELP changes nothing


def test_stop_is_confirmed_and_start_too(voice_org, john, twilio):
    # when they text STOP, then START
    stop = _sms(twilio, "STOP", sid="SM" + "4" * 32)
    status_after_stop = Consent.objects.get(address=JOHN_PHONE).status
    start = _sms(twilio, "start", sid="SM" + "5" * 32)

    # then each is confirmed, and the consent followed
    assert "<Message>Demo Heating &amp; Air: you are unsubscribed" in stop.content.decode()
    assert "Reply START to opt back in." in stop.content.decode()
    assert status_after_stop == Consent.Status.OPTED_OUT
    assert "you are opted back in to texts" in start.content.decode()
    assert Consent.objects.get(address=JOHN_PHONE).status == Consent.Status.OPTED_IN


def test_an_ordinary_text_gets_no_reply(voice_org, twilio):
    response = _sms(twilio, "Is Tuesday fine?", sid="SM" + "6" * 32)

    assert response.content.decode() == ('<?xml version="1.0" encoding="UTF-8"?><Response />')


def test_a_forged_help_is_refused_and_answers_nothing(voice_org, twilio):
    # when the signature does not match (signed for another body)
    response = twilio.post(
        "/twilio/sms/incoming",
        {"MessageSid": "SM" + "7" * 32, "From": JOHN_PHONE, "To": OUR_NUMBER, "Body": "HELP"},
        signature="forged",
    )

    # then
    assert response.status_code == 403
    assert b"Reply STOP" not in response.content
