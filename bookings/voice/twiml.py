"""TwiML the agent answers with. Every spoken reply is built here so that the voice, language and
the shape of a turn (`<Gather>` with speech and keypad, a transfer, voicemail) stay the same
everywhere, and so the dialogue code deals in sentences, not XML."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

VOICE = "Polly.Joanna"
LANGUAGE = "en-US"
# Phrases the speech recogniser should favour on every turn: the ways callers steer the call.
BASE_HINTS = (
    "yes",
    "no",
    "same place",
    "book",
    "appointment",
    "reschedule",
    "cancel",
    "bill",
    "emergency",
    "person",
    "representative",
)
HINT_MAX_CHARS = 100  # Twilio's limit per hint phrase


def turn_url(*, call_sid: str, turn: int) -> str:
    """The `<Gather action>` for the caller's answer: the turn number makes a Twilio retry of the
    same turn recognisable, even when two turns have identical parameters (silence twice)."""
    return f"/twilio/voice/turn/{call_sid}?turn={turn}"


def recording_callback_url() -> str:
    return "/twilio/voice/recording"


def _hints(extra: tuple[str, ...]) -> str:
    seen: list[str] = []
    for phrase in (*extra, *BASE_HINTS):
        phrase = " ".join(phrase.replace(",", " ").split())[:HINT_MAX_CHARS]
        if phrase and phrase.lower() not in (p.lower() for p in seen):
            seen.append(phrase)
    return ", ".join(seen)


def ask(*, text: str, call_sid: str, turn: int, hints: tuple[str, ...] = ()) -> str:
    """Say `text` and listen for speech or keypad. `actionOnEmptyResult` makes Twilio call back
    even on silence, so silence is a turn the dialogue handles (re-prompt, then a person)."""
    response = VoiceResponse()
    gather = Gather(
        input="speech dtmf",
        action=turn_url(call_sid=call_sid, turn=turn),
        method="POST",
        speech_timeout="auto",
        timeout=5,
        hints=_hints(hints),
        language=LANGUAGE,
        action_on_empty_result=True,
    )
    gather.say(text, voice=VOICE, language=LANGUAGE)
    response.append(gather)
    # Reached only if Twilio could not call the action: ask again rather than hang up.
    response.redirect(turn_url(call_sid=call_sid, turn=turn), method="POST")
    return str(response)


def transfer(*, text: str, number: str, caller_id: str = "") -> str:
    """Say `text`, ring `number`; when nobody answers the caller can leave a voicemail."""
    response = VoiceResponse()
    response.say(text, voice=VOICE, language=LANGUAGE)
    dial_options = {"timeout": 25, "answer_on_bridge": True}
    if caller_id:
        dial_options["caller_id"] = caller_id
    response.dial(number, **dial_options)
    response.say(
        "Sorry, nobody could take your call right now. "
        "Please leave your name, number and what you need after the tone.",
        voice=VOICE,
        language=LANGUAGE,
    )
    _record(response)
    return str(response)


def voicemail(*, text: str) -> str:
    """Say `text` and record a message, then hang up."""
    response = VoiceResponse()
    response.say(text, voice=VOICE, language=LANGUAGE)
    _record(response)
    return str(response)


def _record(response: VoiceResponse) -> None:
    response.record(
        max_length=120,
        play_beep=True,
        recording_status_callback=recording_callback_url(),
        recording_status_callback_event="completed",
    )
    response.say("Thank you. Goodbye.", voice=VOICE, language=LANGUAGE)
    response.hangup()


def goodbye(*, text: str) -> str:
    response = VoiceResponse()
    response.say(text, voice=VOICE, language=LANGUAGE)
    response.hangup()
    return str(response)


def not_in_service() -> str:
    """For a dialled number no organisation answers on: polite, and nothing about us."""
    return goodbye(
        text="Sorry, this number is not in service. Please check the number and try again. Goodbye."
    )


def empty_voice() -> str:
    return str(VoiceResponse())


def empty_messaging() -> str:
    return str(MessagingResponse())


def messaging_reply(text: str) -> str:
    """A reply to an inbound SMS (the HELP/STOP/START answers); empty TwiML for no text."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)


_SPACES = re.compile(r"\s+")


def spoken_text(twiml: str) -> str:
    """Everything a TwiML document makes the caller hear (`<Say>` texts, in order): what a turn
    *said*, whoever built the TwiML."""
    try:
        root = ElementTree.fromstring(twiml)  # noqa: S314 - our own TwiML, never request data
    except ElementTree.ParseError:
        return ""
    texts = [element.text or "" for element in root.iter("Say")]
    return _SPACES.sub(" ", " ".join(t.strip() for t in texts if t.strip()))
