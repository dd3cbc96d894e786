"""Play a phone call against our own Twilio webhooks exactly as Twilio would.

`CallSimulator.play()` sends the signed `POST /twilio/voice/incoming` of a new inbound call and
then follows the TwiML the app answers with: `<Say>` is what the caller hears, `<Gather>` asks
the caller (a callback) and posts the answer to its `action`, `<Redirect>` is followed, `<Dial>`
is a transfer and `<Record>` a voicemail (both end the simulation), `<Hangup>` or a document with
nothing left to do ends the call. Finally the call's status callback (`completed`) is sent.

The HTTP side is pluggable: `HttpTransport` talks to a running server (`simulate_call`,
`play_scenarios`, the live-server tests), `DjangoClientTransport` to the app in-process. Every
request is signed with the organisation's auth token over the URL Twilio would have called
(`public_url` + path and query). Whatever goes wrong (an HTTP error, a body that is not TwiML, no
server) ends the call with `CallTranscript.error` set; `play()` never raises for it.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode, urljoin
from xml.etree import ElementTree

from twilio.request_validator import RequestValidator

INCOMING_PATH = "/twilio/voice/incoming"
STATUS_PATH = "/twilio/voice/status"
API_VERSION = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"
# Twilio's speech recogniser reports a confidence per result; a clear utterance scores about this.
DEFAULT_CONFIDENCE = 0.92
# Requests (TwiML documents) after which a call that never ends is stopped.
DEFAULT_MAX_TURNS = 40
# The same prompt answered the same way this many times in a row: the call goes round in circles
# (a real caller would give up), so it is stopped as an error instead of running to the cap.
DEFAULT_MAX_REPEATS = 6
BODY_EXCERPT_CHARS = 300
# A new connection per request: Django's development and live-test servers answer a kept-alive
# connection ~40 ms late (Nagle against delayed ACKs); a local connect costs well under 1 ms.
KEEP_ALIVE_OFF = "close"

_SPACES = re.compile(r"\s+")
# Verbs that only shape audio; the simulator passes over them.
_QUIET_VERBS = frozenset({"Pause", "Play", "Start", "Stop"})


class TransportError(Exception):
    """The request never got an HTTP answer (no server, timeout, a URL we cannot call)."""


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: str


class Transport(Protocol):
    """How requests reach the app. `public_url` is the base Twilio would call (the signature is
    computed over it); `path` always starts with `/` and may carry a query string."""

    public_url: str

    def send(
        self, *, method: str, path: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> HttpReply: ...


class HttpTransport:
    """A running server at `base_url`. `public_url` defaults to `base_url`; set it to the server's
    `PUBLIC_BASE_URL` when that differs (a tunnel), since the server checks signatures over it."""

    def __init__(self, *, base_url: str, public_url: str = "", timeout: float = 30.0) -> None:
        from dispatchnode.core.http import HttpClient

        self.base_url = base_url.rstrip("/")
        self.public_url = (public_url or base_url).rstrip("/")
        self._client = HttpClient(
            provider="dispatchnode",
            label=f"DispatchNode at {self.base_url}",
            base_url=self.base_url,
            timeout=timeout,
            headers={"Connection": KEEP_ALIVE_OFF},
        )

    def send(
        self, *, method: str, path: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> HttpReply:
        from dispatchnode.core.http import ProviderError, ProviderRejected

        headers = {"Accept": "text/xml, application/xml, */*", **headers}
        try:
            if method == "GET":
                response = self._client.request("GET", path, headers=headers)
            else:
                response = self._client.request("POST", path, data=dict(params), headers=headers)
        except ProviderRejected as exc:  # a 4xx: the body says why (403 bad signature …)
            return HttpReply(status=exc.status or 400, body=exc.body)
        except ProviderError as exc:
            if exc.status is not None:  # a 5xx: the app's log has the traceback
                return HttpReply(status=exc.status, body="")
            raise TransportError(exc.message) from exc
        return HttpReply(status=response.status_code, body=response.text)

    def close(self) -> None:
        self._client.close()


class DjangoClientTransport:
    """The app in-process through `django.test.Client`: the server's own settings decide the
    signed URL (`PUBLIC_BASE_URL`, else `http://testserver`)."""

    def __init__(self, *, client=None, public_url: str | None = None) -> None:
        from django.test import Client

        self.client = client or Client()
        self._public_url = public_url

    @property
    def public_url(self) -> str:
        from django.conf import settings

        if self._public_url is not None:
            return self._public_url.rstrip("/")
        return (getattr(settings, "PUBLIC_BASE_URL", "") or "http://testserver").rstrip("/")

    def send(
        self, *, method: str, path: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> HttpReply:
        # Twilio posts application/x-www-form-urlencoded, not the test client's multipart default.
        if method == "GET":
            response = self.client.get(path, headers=dict(headers))
        else:
            response = self.client.post(
                path,
                urlencode(dict(params)),
                content_type="application/x-www-form-urlencoded",
                headers=dict(headers),
            )
        body = b"".join(response) if getattr(response, "streaming", False) else response.content
        return HttpReply(status=response.status_code, body=body.decode("utf-8", "replace"))


# --- what the caller does --------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """The caller's answer to one prompt: speech, keypad digits, silence (neither) or hanging
    up."""

    speech: str = ""
    digits: str = ""
    hangup: bool = False

    @classmethod
    def say(cls, text: str) -> Answer:
        return cls(speech=text.strip())

    @classmethod
    def press(cls, digits: str) -> Answer:
        return cls(digits=digits.strip())

    @classmethod
    def silence(cls) -> Answer:
        return cls()

    @classmethod
    def hang_up(cls) -> Answer:
        return cls(hangup=True)

    @property
    def is_silence(self) -> bool:
        return not self.hangup and not self.speech and not self.digits

    def described(self) -> str:
        if self.hangup:
            return "(hangs up)"
        if self.digits:
            return f"(presses {self.digits})"
        return self.speech or "(silence)"


AnswerFn = Callable[[str], Answer]


# --- what happened -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallEvent:
    """`kind`: agent (heard), caller (answered), dialled (transfer), voicemail, ended, error."""

    kind: str
    text: str

    def line(self) -> str:
        label = {
            "agent": "AGENT",
            "caller": "CALLER",
            "dialled": "TRANSFER",
            "voicemail": "VOICEMAIL",
            "ended": "END",
            "error": "ERROR",
        }.get(self.kind, self.kind.upper())
        return f"{label}: {self.text}"


@dataclass
class CallTranscript:
    call_sid: str
    events: list[CallEvent] = field(default_factory=list)
    greeting: str = ""
    # hangup (the agent hung up), transferred, voicemail, caller_hangup, no_more_instructions,
    # error (an answer Twilio could not use) or unreachable (no HTTP answer at all).
    ended_by: str = ""
    dialled: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def heard(self) -> list[str]:
        return [event.text for event in self.events if event.kind == "agent"]

    @property
    def heard_all(self) -> str:
        return " ".join(self.heard)

    @property
    def transferred(self) -> bool:
        return self.ended_by == "transferred"

    def lines(self, *, compact: bool = False) -> list[str]:
        """One line per event; `compact` folds an exchange repeated word for word."""
        lines = [event.line() for event in self.events]
        return _compacted(lines) if compact else lines

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _compacted(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        block = lines[i : i + 2]
        repeats = 0
        while len(block) == 2 and lines[i + 2 * (repeats + 1) : i + 2 * (repeats + 2)] == block:
            repeats += 1
        out += block if repeats else block[:1]
        if repeats:
            times = "once more" if repeats == 1 else f"{repeats} more times"
            out.append(f"(the two lines above, {times})")
            i += 2 * (repeats + 1)
        else:
            i += 1
    return out


# --- the simulator ---------------------------------------------------------------------------


class CallError(Exception):
    """Ends a simulated call: the app answered something Twilio could not use."""


@dataclass
class _Next:
    method: str
    url: str  # absolute, as Twilio would call it


@dataclass
class _CallState:
    call: dict[str, str]  # the parameters Twilio sends with every request of the call
    answer: AnswerFn
    transcript: CallTranscript
    heard: list[str] = field(default_factory=list)  # said since the caller last answered
    last_exchange: tuple[str, Answer] | None = None
    repeats: int = 0

    def repeated(self, prompt: str, reply: Answer) -> int:
        """How many times in a row this prompt got this answer, this time included."""
        exchange = (prompt, reply)
        self.repeats = self.repeats + 1 if exchange == self.last_exchange else 1
        self.last_exchange = exchange
        return self.repeats


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def spoken(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def _say_text(say: ElementTree.Element) -> str:
    """The words of a `<Say>`, SSML tags (`<break>`, `<prosody>`) included."""
    return spoken("".join(say.itertext()))


def _excerpt(text: str) -> str:
    text = spoken(text)
    return text if len(text) <= BODY_EXCERPT_CHARS else text[:BODY_EXCERPT_CHARS] + "…"


class CallSimulator:
    """Plays calls to one organisation's number, signing with its `auth_token`.

    `on_event` sees every event as it happens (the commands print them live);
    `confidence` is the `Confidence` sent with speech; `max_turns` caps the documents fetched
    and `max_repeats` the identical exchanges in a row.
    """

    def __init__(
        self,
        *,
        transport: Transport,
        auth_token: str,
        account_sid: str = "",
        confidence: float = DEFAULT_CONFIDENCE,
        max_turns: int = DEFAULT_MAX_TURNS,
        max_repeats: int = DEFAULT_MAX_REPEATS,
        on_event: Callable[[CallEvent], None] | None = None,
    ) -> None:
        self.transport = transport
        self.validator = RequestValidator(auth_token)
        self.account_sid = account_sid or "AC" + "0" * 32
        self.confidence = confidence
        self.max_turns = max_turns
        self.max_repeats = max_repeats
        self.on_event = on_event

    def play(
        self,
        *,
        from_number: str,
        to_number: str,
        answer: AnswerFn,
        stir_verstat: str = "",
        call_sid: str | None = None,
    ) -> CallTranscript:
        transcript = CallTranscript(call_sid=call_sid or new_call_sid())
        call = {
            "CallSid": transcript.call_sid,
            "AccountSid": self.account_sid,
            "From": from_number,
            "To": to_number,
            "Caller": from_number,
            "Called": to_number,
            "Direction": "inbound",
            "ApiVersion": API_VERSION,
        }
        started = time.monotonic()
        first = {**call, "CallStatus": "ringing"}
        if stir_verstat:
            first["StirVerstat"] = stir_verstat
        step: _Next | None = _Next("POST", self._absolute(INCOMING_PATH))
        params: dict[str, str] = first
        state = _CallState(call=call, answer=answer, transcript=transcript)
        documents = 0
        try:
            while step is not None:
                if documents >= self.max_turns:
                    raise CallError(
                        f"the call was still going after {self.max_turns} requests; stopped"
                    )
                documents += 1
                root = self._fetch(step, params)
                if documents == 1:
                    transcript.greeting = " ".join(
                        t for t in (_say_text(e) for e in root.iter("Say")) if t
                    )
                step, params = self._follow(root, current=step, state=state)
        except (CallError, TransportError) as exc:
            transcript.ended_by = "unreachable" if isinstance(exc, TransportError) else "error"
            transcript.error = str(exc)
            self._emit(transcript, "error", str(exc))
        if transcript.ended_by != "unreachable":
            seconds = int(time.monotonic() - started)
            self._status_callback(transcript, call=call, seconds=seconds)
        return transcript

    # --- following TwiML ------------------------------------------------------------------

    def _follow(
        self,
        root: ElementTree.Element,
        *,
        current: _Next,
        state: _CallState,
    ) -> tuple[_Next | None, dict[str, str]]:
        """Run one TwiML document; the next request to make, or None when the call is over."""
        t, heard = state.transcript, state.heard
        in_progress = {**state.call, "CallStatus": "in-progress"}
        for verb in root:
            tag = verb.tag
            if tag == "Say":
                self._hear(t, heard, verb)
            elif tag == "Gather":
                for child in verb:
                    if child.tag == "Say":
                        self._hear(t, heard, child)
                prompt = " ".join(heard)
                reply = state.answer(prompt)
                heard.clear()
                self._emit(t, "caller", reply.described())
                if reply.hangup:
                    return self._end(t, "caller_hangup", "the caller hung up")
                if state.repeated(prompt, reply) >= self.max_repeats:
                    raise CallError(
                        f"the agent said the same and the caller answered the same "
                        f"{self.max_repeats} times in a row; stopped (going round in circles)"
                    )
                reply = _accepted(reply, verb.get("input") or "dtmf")
                if reply.is_silence and verb.get("actionOnEmptyResult", "false") != "true":
                    continue  # Twilio falls through to the next verb
                params = dict(in_progress)
                if reply.digits:
                    params["Digits"] = reply.digits
                elif reply.speech:
                    params["SpeechResult"] = reply.speech
                    params["Confidence"] = f"{self.confidence:g}"
                action = verb.get("action") or current.url
                method = (verb.get("method") or "POST").upper()
                return _Next(method, self._resolve(current.url, action)), params
            elif tag == "Redirect":
                target = spoken(verb.text)
                if not target:
                    raise CallError("<Redirect> without a URL")
                method = (verb.get("method") or "POST").upper()
                return _Next(method, self._resolve(current.url, target)), dict(in_progress)
            elif tag == "Dial":
                number = spoken(verb.text) or " ".join(
                    spoken(child.text) for child in verb if spoken(child.text)
                )
                t.dialled.append(number)
                self._emit(t, "dialled", f"dialling {number or '(no number)'}")
                return self._end(t, "transferred", f"transferred to {number or '(no number)'}")
            elif tag == "Record":
                self._emit(t, "voicemail", "recording a voicemail")
                return self._end(t, "voicemail", "voicemail")
            elif tag in ("Hangup", "Reject"):
                return self._end(t, "hangup", "the agent hung up")
            elif tag not in _QUIET_VERBS:
                raise CallError(f"unsupported TwiML verb <{tag}>")
        return self._end(t, "no_more_instructions", "nothing more to do: Twilio hangs up")

    def _hear(self, t: CallTranscript, heard: list[str], say: ElementTree.Element) -> None:
        text = _say_text(say)
        if text:
            heard.append(text)
            self._emit(t, "agent", text)

    def _end(self, t: CallTranscript, ended_by: str, text: str) -> tuple[None, dict[str, str]]:
        t.ended_by = ended_by
        self._emit(t, "ended", text)
        return None, {}

    def _emit(self, t: CallTranscript, kind: str, text: str) -> None:
        event = CallEvent(kind=kind, text=text)
        t.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    # --- HTTP -----------------------------------------------------------------------------

    def _absolute(self, path: str) -> str:
        return self.transport.public_url + path

    def _resolve(self, current: str, target: str) -> str:
        """A TwiML URL as Twilio calls it: relative to the document's own URL."""
        url = urljoin(current, target)
        if not url.startswith(self.transport.public_url + "/"):
            raise CallError(f"the TwiML points outside the app ({url})")
        return url

    def _fetch(self, step: _Next, params: dict[str, str]) -> ElementTree.Element:
        path = step.url[len(self.transport.public_url) :]
        reply = self._send(step.method, path, params)
        label = f"{step.method} {path}"
        if reply.status != 200:
            detail = f": {_excerpt(reply.body)}" if reply.body.strip() else " (see the app's log)"
            raise CallError(f"HTTP {reply.status} from {label}{detail}")
        try:
            root = ElementTree.fromstring(reply.body)  # noqa: S314 - our own app's TwiML
        except ElementTree.ParseError as exc:
            raise CallError(
                f"{label} answered with something that is not XML ({exc}): {_excerpt(reply.body)}"
            ) from exc
        if root.tag != "Response":
            raise CallError(f"{label} answered <{root.tag}>, not a TwiML <Response>")
        return root

    def _send(self, method: str, path: str, params: Mapping[str, str]) -> HttpReply:
        if method == "GET":
            sep = "&" if "?" in path else "?"
            path = f"{path}{sep}{urlencode(dict(params))}" if params else path
            params = {}
        signature = self.validator.compute_signature(self._absolute(path), dict(params))
        return self.transport.send(
            method=method, path=path, params=params, headers={SIGNATURE_HEADER: signature}
        )

    def _status_callback(self, t: CallTranscript, *, call: dict[str, str], seconds: int) -> None:
        params = {**call, "CallStatus": "completed", "CallDuration": str(seconds)}
        try:
            reply = self._send("POST", STATUS_PATH, params)
        except TransportError as exc:
            problem = f"status callback: {exc}"
        else:
            if reply.status == 200:
                return
            problem = f"HTTP {reply.status} from POST {STATUS_PATH}: {_excerpt(reply.body)}"
        if t.error is None:
            t.error = problem
            t.ended_by = t.ended_by or "error"
            self._emit(t, "error", problem)


def _accepted(reply: Answer, inputs: str) -> Answer:
    """What a `<Gather input=...>` hears of the answer: speech to a keypad-only gather (and keys
    to a speech-only one) is silence."""
    kinds = inputs.lower().split()
    if reply.speech and "speech" not in kinds:
        return Answer.silence()
    if reply.digits and "dtmf" not in kinds:
        return Answer.silence()
    return reply


# --- whose number ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineCredentials:
    """What Twilio signs a number's webhooks with: the owning organisation's account."""

    organization_id: int
    organization_name: str
    auth_token: str
    account_sid: str


def line_credentials(*, number: str) -> LineCredentials | None:
    """The Twilio credentials of the organisation answering `number` (any written form), or None
    when no active organisation answers it or it has no auth token."""
    from dispatchnode.accounts.selectors import organization_by_number
    from dispatchnode.core.phones import InvalidPhoneNumber, phone_to_e164

    try:
        e164 = phone_to_e164(number)
    except InvalidPhoneNumber:
        return None
    organization = organization_by_number(e164=e164)
    if organization is None or not organization.twilio_auth_token:
        return None
    return LineCredentials(
        organization_id=organization.pk,
        organization_name=organization.name,
        auth_token=organization.twilio_auth_token,
        account_sid=organization.twilio_account_sid,
    )
