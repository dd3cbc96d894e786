"""The call simulator: against the real webhooks in-process (signatures, status callback, the
403 of a forged token), and against scripted TwiML for every verb it follows."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from twilio.request_validator import RequestValidator

from bookings.models import CallSession, CallTurn
from bookings.voice.simulator import (
    SIGNATURE_HEADER,
    Answer,
    CallSimulator,
    DjangoClientTransport,
    HttpReply,
    TransportError,
    line_credentials,
)
from tests.voice.conftest import AUTH_TOKEN, JOHN_PHONE, OUR_NUMBER

ATTESTED = "TN-Validation-Passed-A"
OFFICE = "+15125550199"  # voice_org's office phone


def answers(*replies: Answer):
    """A caller who gives `replies` in order, then hangs up; `.prompts` keeps what they heard."""
    queue = list(replies)

    def answer(prompt: str) -> Answer:
        answer.prompts.append(prompt)
        return queue.pop(0) if queue else Answer.hang_up()

    answer.prompts = []
    return answer


class CheckedTransport(DjangoClientTransport):
    """The in-process transport, recording every request and checking its signature the way the
    app does (over the public URL), so a test sees what Twilio would have sent."""

    def __init__(self, *, token: str = AUTH_TOKEN, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validator = RequestValidator(token)
        self.sent: list[tuple[str, str, dict[str, str], bool]] = []

    def send(self, *, method, path, params, headers) -> HttpReply:
        valid = self.validator.validate(self.public_url + path, params, headers[SIGNATURE_HEADER])
        self.sent.append((method, path, dict(params), valid))
        return super().send(method=method, path=path, params=params, headers=headers)


def simulator(transport, *, token: str = AUTH_TOKEN, **kwargs) -> CallSimulator:
    return CallSimulator(
        transport=transport, auth_token=token, account_sid="AC" + "1" * 32, **kwargs
    )


# --- against the real webhooks -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_call_is_signed_followed_and_completed(voice_org, john):
    transport = CheckedTransport()

    transcript = simulator(transport).play(
        from_number=JOHN_PHONE,
        to_number=OUR_NUMBER,
        stir_verstat=ATTESTED,
        answer=answers(Answer.press("0")),
    )

    assert transcript.error is None
    assert transcript.call_sid.startswith("CA")
    assert len(transcript.call_sid) == 34
    assert "John" in transcript.greeting
    assert transcript.ended_by == "transferred"
    assert transcript.dialled == [OFFICE]
    assert [e.kind for e in transcript.events] == ["agent", "caller", "agent", "dialled", "ended"]
    assert transcript.events[1].text == "(presses 0)"
    paths = [path for _, path, _, _ in transport.sent]
    assert paths == [
        "/twilio/voice/incoming",
        f"/twilio/voice/turn/{transcript.call_sid}?turn=1",
        "/twilio/voice/status",
    ]
    assert all(valid for *_, valid in transport.sent)
    incoming, turn, status = (params for _, _, params, _ in transport.sent)
    assert incoming["CallStatus"] == "ringing"
    assert incoming["StirVerstat"] == ATTESTED
    assert incoming["Direction"] == "inbound"
    assert incoming["ApiVersion"] == "2010-04-01"
    assert turn["Digits"] == "0"
    assert "SpeechResult" not in turn
    assert status["CallStatus"] == "completed"
    assert status["CallDuration"].isdigit()
    call = CallSession.objects.get(call_sid=transcript.call_sid)
    assert (call.outcome, call.twilio_status, call.stir_verstat) == (
        CallSession.Outcome.TRANSFERRED,
        "completed",
        ATTESTED,
    )
    assert call.duration_seconds is not None


@pytest.mark.django_db
def test_speech_is_posted_with_its_confidence(voice_org, john):
    transport = CheckedTransport()

    transcript = simulator(transport, confidence=0.87).play(
        from_number=JOHN_PHONE,
        to_number=OUR_NUMBER,
        stir_verstat=ATTESTED,
        answer=answers(Answer.say("Can I talk to a real person?")),
    )

    assert transcript.ended_by == "transferred"
    turn = transport.sent[1][2]
    assert (turn["SpeechResult"], turn["Confidence"]) == ("Can I talk to a real person?", "0.87")
    recorded = CallTurn.objects.get(call__call_sid=transcript.call_sid, sequence=1)
    assert (recorded.heard, recorded.confidence) == ("Can I talk to a real person?", 0.87)


@pytest.mark.django_db
def test_silence_posts_the_action_empty_and_is_never_an_error(voice_org):
    transport = CheckedTransport()
    caller = answers(*[Answer.silence()] * 10)

    transcript = simulator(transport).play(
        from_number="+15125550999", to_number=OUR_NUMBER, answer=caller
    )

    assert transcript.error is None
    assert transcript.ended_by in {"transferred", "voicemail"}
    said = [e.text for e in transcript.events if e.kind == "caller"]
    assert said
    assert set(said) == {"(silence)"}
    turns = [params for _, path, params, _ in transport.sent if "/turn/" in path]
    assert len(turns) == len(said)
    assert all("SpeechResult" not in p and "Digits" not in p for p in turns)
    assert caller.prompts[0] == transcript.greeting  # the first prompt is what was said first
    assert set(
        CallTurn.objects.filter(call__call_sid=transcript.call_sid, sequence__gt=0).values_list(
            "heard", "digits"
        )
    ) == {("", "")}


@pytest.mark.django_db
def test_signing_follows_public_base_url(voice_org, john, settings):
    settings.PUBLIC_BASE_URL = "https://dispatch.example.com"
    transport = CheckedTransport()

    transcript = simulator(transport).play(
        from_number=JOHN_PHONE, to_number=OUR_NUMBER, answer=answers(Answer.press("0"))
    )

    assert transport.public_url == "https://dispatch.example.com"
    assert transcript.error is None
    assert transcript.ended_by == "transferred"


@pytest.mark.django_db
def test_a_forged_token_surfaces_the_403_and_nothing_is_stored(voice_org, john):
    transport = CheckedTransport()

    transcript = simulator(transport, token="not-the-auth-token").play(
        from_number=JOHN_PHONE, to_number=OUR_NUMBER, answer=answers()
    )

    assert transcript.ended_by == "error"
    assert transcript.error == (
        "HTTP 403 from POST /twilio/voice/incoming: Invalid Twilio signature."
    )
    assert transcript.lines() == [f"ERROR: {transcript.error}"]
    assert transcript.greeting == ""
    assert not CallSession.objects.exists()


@pytest.mark.django_db
def test_a_number_nobody_answers_is_a_polite_goodbye(voice_org):
    transcript = simulator(CheckedTransport()).play(
        from_number=JOHN_PHONE, to_number="+15125550123", answer=answers()
    )

    assert transcript.error is None
    assert transcript.ended_by == "hangup"
    assert "not in service" in transcript.greeting


@pytest.mark.django_db
def test_line_credentials_come_from_the_organisation_answering_the_number(voice_org):
    credentials = line_credentials(number="(512) 555-0100")

    assert credentials is not None
    assert (credentials.organization_id, credentials.auth_token, credentials.account_sid) == (
        voice_org.pk,
        AUTH_TOKEN,
        "AC" + "1" * 32,
    )
    assert line_credentials(number="+15125550123") is None
    assert line_credentials(number="not a number") is None


# --- against scripted TwiML --------------------------------------------------------------------

GATHER = (
    '<Gather input="speech dtmf" action="/twilio/voice/turn/{sid}?turn={n}" '
    'actionOnEmptyResult="true"><Say>{text}</Say></Gather>'
)


def twiml(*verbs: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(verbs) + "</Response>"


class ScriptedApp:
    """Answers each path with a canned reply and checks every signature like Twilio's would be
    checked. A path missing from the script answers 404."""

    public_url = "https://voice.example.com"

    def __init__(self, script: Mapping[str, str | HttpReply], *, token: str = AUTH_TOKEN):
        self.script = dict(script)
        self.validator = RequestValidator(token)
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def send(self, *, method, path, params, headers) -> HttpReply:
        assert self.validator.validate(self.public_url + path, params, headers[SIGNATURE_HEADER])
        self.sent.append((method, path, dict(params)))
        reply = self.script.get(path, HttpReply(status=404, body="Not Found"))
        return reply if isinstance(reply, HttpReply) else HttpReply(status=200, body=reply)

    @property
    def paths(self) -> list[str]:
        return [path for _, path, _ in self.sent]


def play(app, caller=None, **kwargs):
    return simulator(app, **kwargs).play(
        from_number=JOHN_PHONE,
        to_number=OUR_NUMBER,
        call_sid="CA" + "b" * 32,
        answer=caller or answers(),
    )


def test_redirects_and_gathers_are_followed_with_relative_urls():
    sid = "CA" + "b" * 32
    app = ScriptedApp(
        {
            "/twilio/voice/incoming": twiml(
                "<Say>Hello.</Say>", "<Redirect>next?step=2</Redirect>"
            ),
            "/twilio/voice/next?step=2": twiml(
                "<Say>Still here.</Say>",
                GATHER.format(sid=sid, n=1, text="What can I do for you?"),
                f'<Redirect method="POST">/twilio/voice/turn/{sid}?turn=1</Redirect>',
            ),
            f"/twilio/voice/turn/{sid}?turn=1": twiml("<Say>Goodbye.</Say>", "<Hangup/>"),
            "/twilio/voice/status": twiml(),
        }
    )
    caller = answers(Answer.say("A tune-up, please."))

    transcript = play(app, caller)

    assert transcript.error is None
    assert app.paths == [
        "/twilio/voice/incoming",
        "/twilio/voice/next?step=2",
        f"/twilio/voice/turn/{sid}?turn=1",
        "/twilio/voice/status",
    ]
    assert transcript.greeting == "Hello."
    assert caller.prompts == ["Hello. Still here. What can I do for you?"]
    assert transcript.heard == ["Hello.", "Still here.", "What can I do for you?", "Goodbye."]
    assert transcript.heard_all == "Hello. Still here. What can I do for you? Goodbye."
    assert app.sent[1][2]["CallStatus"] == "in-progress"
    assert app.sent[2][2]["SpeechResult"] == "A tune-up, please."
    assert app.sent[2][2]["Confidence"] == "0.92"
    assert transcript.ended_by == "hangup"
    assert transcript.lines() == [
        "AGENT: Hello.",
        "AGENT: Still here.",
        "AGENT: What can I do for you?",
        "CALLER: A tune-up, please.",
        "AGENT: Goodbye.",
        "END: the agent hung up",
    ]


def test_dial_is_a_transfer_and_nothing_after_it_is_heard():
    app = ScriptedApp(
        {
            "/twilio/voice/incoming": twiml(
                "<Say>Connecting you.</Say>",
                '<Dial timeout="25"><Number>+15125550101</Number></Dial>',
                "<Say>Nobody answered.</Say>",
                "<Record/>",
            ),
            "/twilio/voice/status": twiml(),
        }
    )

    transcript = play(app)

    assert transcript.transferred
    assert transcript.dialled == ["+15125550101"]
    assert transcript.heard == ["Connecting you."]
    assert transcript.lines()[-2:] == [
        "TRANSFER: dialling +15125550101",
        "END: transferred to +15125550101",
    ]
    assert app.paths[-1] == "/twilio/voice/status"


def test_record_is_voicemail():
    app = ScriptedApp(
        {
            "/twilio/voice/incoming": twiml("<Say>Leave a message.</Say>", "<Record/>"),
            "/twilio/voice/status": twiml(),
        }
    )

    transcript = play(app)

    assert (transcript.ended_by, transcript.error) == ("voicemail", None)


def test_a_document_with_nothing_to_follow_ends_the_call():
    app = ScriptedApp(
        {
            "/twilio/voice/incoming": twiml("<Say>Bye.</Say>", "<Pause/>"),
            "/twilio/voice/status": twiml(),
        }
    )

    transcript = play(app)

    assert (transcript.ended_by, transcript.error) == ("no_more_instructions", None)


def test_silence_without_action_on_empty_result_falls_through_to_the_next_verb():
    app = ScriptedApp(
        {
            "/twilio/voice/incoming": twiml(
                '<Gather input="speech" action="/twilio/voice/answer"><Say>Say it.</Say></Gather>',
                "<Say>We did not hear you.</Say>",
                "<Hangup/>",
            ),
            "/twilio/voice/status": twiml(),
        }
    )

    # Keys pressed to a speech-only gather are not heard either.
    transcript = play(app, answers(Answer.press("5")))

    assert "/twilio/voice/answer" not in app.paths
    assert transcript.heard[-1] == "We did not hear you."
    assert transcript.ended_by == "hangup"


def test_a_gather_without_action_posts_to_its_own_document():
    app = ScriptedApp(
        {
            "/twilio/voice/incoming": twiml(
                '<Gather input="dtmf"><Say>Press a key.</Say></Gather>'
            ),
            "/twilio/voice/status": twiml(),
        }
    )

    transcript = play(app, answers(Answer.press("7"), Answer.hang_up()))

    assert app.paths == [
        "/twilio/voice/incoming",
        "/twilio/voice/incoming",
        "/twilio/voice/status",
    ]
    assert app.sent[1][2]["Digits"] == "7"
    assert transcript.ended_by == "caller_hangup"


def test_the_caller_hanging_up_still_sends_the_status_callback():
    app = ScriptedApp(
        {
            "/twilio/voice/incoming": twiml(GATHER.format(sid="x", n=1, text="Hello?")),
            "/twilio/voice/status": twiml(),
        }
    )

    transcript = play(app, answers(Answer.hang_up()))

    assert transcript.ended_by == "caller_hangup"
    assert transcript.lines()[-2:] == ["CALLER: (hangs up)", "END: the caller hung up"]
    assert app.paths == ["/twilio/voice/incoming", "/twilio/voice/status"]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (
            HttpReply(status=500, body="<h1>Server Error (500)</h1>"),
            "HTTP 500 from POST /twilio/voice/incoming: <h1>Server Error (500)</h1>",
        ),
        (
            HttpReply(status=200, body="Traceback (most recent call last): ..."),
            "POST /twilio/voice/incoming answered with something that is not XML",
        ),
        (
            HttpReply(status=200, body="<html><body>hi</body></html>"),
            "POST /twilio/voice/incoming answered <html>, not a TwiML <Response>",
        ),
        (
            HttpReply(status=200, body=twiml("<Enqueue>support</Enqueue>")),
            "unsupported TwiML verb <Enqueue>",
        ),
        (
            HttpReply(status=200, body=twiml("<Redirect>https://elsewhere.example/x</Redirect>")),
            "the TwiML points outside the app (https://elsewhere.example/x)",
        ),
    ],
)
def test_an_answer_twilio_could_not_use_is_an_error_in_the_transcript(reply, error):
    app = ScriptedApp({"/twilio/voice/incoming": reply, "/twilio/voice/status": twiml()})

    transcript = play(app)

    assert transcript.ended_by == "error"
    assert transcript.error.startswith(error)
    assert transcript.events[-1].kind == "error"
    assert app.paths[-1] == "/twilio/voice/status"  # Twilio still reports the call's end


def test_a_failing_status_callback_is_an_error_too():
    app = ScriptedApp({"/twilio/voice/incoming": twiml("<Hangup/>")})

    transcript = play(app)

    assert transcript.error == "HTTP 404 from POST /twilio/voice/status: Not Found"


def test_a_call_that_never_ends_is_stopped_at_the_cap():
    app = ScriptedApp(
        {
            "/twilio/voice/incoming": twiml("<Redirect>/twilio/voice/incoming</Redirect>"),
            "/twilio/voice/status": twiml(),
        }
    )

    transcript = play(app, max_turns=5)

    assert transcript.error == "the call was still going after 5 requests; stopped"
    assert app.paths.count("/twilio/voice/incoming") == 5


def test_the_same_exchange_over_and_over_is_stopped_and_shown_compactly():
    app = ScriptedApp(
        {
            "/twilio/voice/incoming": twiml(GATHER.format(sid="x", n=1, text="Which one?")),
            "/twilio/voice/turn/x?turn=1": twiml(GATHER.format(sid="x", n=1, text="Which one?")),
            "/twilio/voice/status": twiml(),
        }
    )

    transcript = play(app, answers(*[Answer.say("The blue one.")] * 20), max_repeats=4)

    assert transcript.error.startswith("the agent said the same and the caller answered the same")
    assert len([e for e in transcript.events if e.kind == "caller"]) == 4
    assert transcript.lines(compact=True) == [
        "AGENT: Which one?",
        "CALLER: The blue one.",
        "(the two lines above, 3 more times)",
        f"ERROR: {transcript.error}",
    ]


def test_an_unreachable_app_is_one_clear_error():
    class Down:
        public_url = "http://127.0.0.1:9"

        def send(self, **kwargs):
            raise TransportError("DispatchNode at http://127.0.0.1:9 could not be reached.")

    transcript = play(Down())

    assert transcript.ended_by == "unreachable"
    assert transcript.lines() == ["ERROR: DispatchNode at http://127.0.0.1:9 could not be reached."]


def test_events_are_reported_as_they_happen():
    app = ScriptedApp(
        {"/twilio/voice/incoming": twiml("<Say>Hi.</Say>"), "/twilio/voice/status": twiml()}
    )
    seen = []

    play(app, on_event=seen.append)

    assert [e.line() for e in seen] == ["AGENT: Hi.", "END: nothing more to do: Twilio hangs up"]
