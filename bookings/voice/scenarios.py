"""Phone scenarios: a YAML file describes one call to an organisation's number (who calls, what
they answer to which question) and the outcome it must reach. `scenario_play()` plays it with a
`CallSimulator` and checks the outcome the way an integrator would, through the REST API
(`/api/v1/calls/`, `/jobs/`, `/customers/`, `/messages/`). The format is described in
`tests/voice/scenarios/README.md` (a copy of the shared one).

The API side is pluggable like the simulator's transport: `HttpApi` for a running server
(base URL and token), `DjangoClientApi` for the app in-process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from bookings.voice.simulator import KEEP_ALIVE_OFF, Answer, CallSimulator, CallTranscript

OUTCOMES = ("booked", "transferred", "no_booking", "rescheduled", "cancelled")
SCENARIO_KEYS = frozenset(
    {
        "name",
        "from",
        "to",
        "stir_verstat",
        "greeting_must_include",
        "greeting_must_not_include",
        "caller",
        "expect",
    }
)
CALLER_KEYS = frozenset({"rules", "default", "silence"})
EXPECT_KEYS = frozenset(
    {
        "outcome",
        "outcome_any",
        "service_category",
        "priority",
        "new_customer",
        "customer",
        "confirmation_sms",
        "must_hear",
        "must_never_say",
    }
)
DEFAULT_TO = "+15125550100"
MESSAGE_PAGES = 5  # pages of a customer's timeline read looking for the confirmation SMS

# A sentence ends at . ? or ! followed by the end, or by a space and a capital, digit or quote:
# "9 a.m. works?" and "$89.50" stay one sentence, "at 123 Main St. Is that right?" is two.
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9\"'“‘])")
_SPACES = re.compile(r"\s+")


class ScenarioError(Exception):
    """A scenario file that cannot be played; the message names the file and the problem."""


class ApiError(Exception):
    """The REST API could not answer a check (no server, refused token, unexpected body)."""


# --- the file ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerRule:
    when: tuple[str, ...]
    answer: Answer


@dataclass(frozen=True)
class Scenario:
    path: Path | None
    name: str
    from_number: str
    to_number: str
    stir_verstat: str
    greeting_must_include: tuple[tuple[str, ...], ...]
    greeting_must_not_include: tuple[str, ...]
    rules: tuple[CallerRule, ...]
    default: Answer
    silence: bool
    expect: Mapping[str, Any]

    @property
    def label(self) -> str:
        """`file.yaml: name`, or the name alone for a scenario that is not a file."""
        return f"{self.path.name}: {self.name}" if self.path else self.name


def scenario_load(path: Path) -> Scenario:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML ({exc}).") from exc
    try:
        return scenario_parse(raw, path=Path(path))
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc


def scenario_files(paths: list[Path]) -> list[Path]:
    """Files as given; a directory stands for its `*.yaml`/`*.yml` files in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        elif path.is_file():
            found.append(path)
        else:
            raise ScenarioError(f"{path}: no such file or directory.")
    return found


def scenario_parse(raw: Any, *, path: Path | None = None) -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError("a scenario is a mapping (name, from, caller, expect …).")
    _no_unknown(raw, SCENARIO_KEYS, "")
    caller = raw.get("caller") or {}
    if not isinstance(caller, dict):
        raise ScenarioError("`caller` must be a mapping (rules, default, silence).")
    _no_unknown(caller, CALLER_KEYS, "caller.")
    expect = raw.get("expect") or {}
    if not isinstance(expect, dict):
        raise ScenarioError("`expect` must be a mapping.")
    _no_unknown(expect, EXPECT_KEYS, "expect.")
    outcomes = [expect["outcome"]] if "outcome" in expect else []
    outcomes += _phrases(expect.get("outcome_any"))
    for value in outcomes:
        if value not in OUTCOMES:
            raise ScenarioError(f"unknown outcome {value!r} (one of {', '.join(OUTCOMES)}).")
    if not raw.get("from"):
        raise ScenarioError("`from` (the caller's number) is required.")
    rules = []
    for index, rule in enumerate(caller.get("rules") or ()):
        if not isinstance(rule, dict) or "when" not in rule or not ({"say", "press"} & set(rule)):
            raise ScenarioError(f"caller.rules[{index}] needs `when` and `say` or `press`.")
        _no_unknown(rule, frozenset({"when", "say", "press"}), f"caller.rules[{index}].")
        answer = Answer.press(str(rule["press"])) if "press" in rule else _speech(rule["say"])
        rules.append(CallerRule(when=_phrases(rule["when"]), answer=answer))
    return Scenario(
        path=path,
        name=str(raw.get("name") or (path.stem if path else "scenario")),
        from_number=_number(raw["from"]),
        to_number=_number(raw.get("to") or DEFAULT_TO),
        stir_verstat=str(raw.get("stir_verstat") or ""),
        greeting_must_include=_groups(raw.get("greeting_must_include")),
        greeting_must_not_include=_phrases(raw.get("greeting_must_not_include")),
        rules=tuple(rules),
        default=_speech(caller.get("default")),
        silence=bool(caller.get("silence")),
        expect=dict(expect),
    )


def _no_unknown(raw: dict, known: frozenset[str], prefix: str) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ScenarioError(
            f"unknown key {', '.join(prefix + str(k) for k in unknown)} "
            f"(known: {', '.join(sorted(known))})."
        )


def _number(value: Any) -> str:
    # Unquoted `+15125550142` is an integer to YAML.
    text = str(value).strip()
    return "+" + text if isinstance(value, int) else text


def _speech(value: Any) -> Answer:
    return Answer.say("" if value is None else str(value))


def _phrases(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _groups(value: Any) -> tuple[tuple[str, ...], ...]:
    """A list of groups; a bare phrase in the list is a group of one."""
    return tuple(_phrases(group) for group in value or ())


# --- the caller --------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case, typographic apostrophes and runs of spaces do not matter when matching phrases."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return _SPACES.sub(" ", text).casefold()


def contains(text: str, phrase: str) -> bool:
    return _fold(phrase) in _fold(text)


def last_sentence(text: str) -> str:
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    return sentences[-1].strip() if sentences else ""


class ScenarioCaller:
    """The scenario's caller policy: for each prompt, the first rule whose `when` phrase appears
    in the agent's last sentence answers, otherwise `default`; `silence` answers nothing."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    def __call__(self, prompt: str) -> Answer:
        if self.scenario.silence:
            return Answer.silence()
        sentence = last_sentence(prompt)
        for rule in self.scenario.rules:
            if any(contains(sentence, phrase) for phrase in rule.when):
                return rule.answer
        return self.scenario.default


# --- the REST API ------------------------------------------------------------------------------


class Api(Protocol):
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """The JSON of a GET (`path` or an absolute `next` link); raises `ApiError`."""


class HttpApi:
    """The REST API of a running server, with `Authorization: Token <key>`."""

    def __init__(self, *, base_url: str, token: str, timeout: float = 30.0) -> None:
        from dispatchnode.core.http import HttpClient

        self._client = HttpClient(
            provider="dispatchnode-api",
            label=f"The API at {base_url.rstrip('/')}",
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"Authorization": f"Token {token}", "Connection": KEEP_ALIVE_OFF},
        )

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        from dispatchnode.core.http import ProviderError

        try:
            return self._client.get_json(path, params=dict(params or {}))
        except ProviderError as exc:
            raise ApiError(f"GET {path}: {exc.message}") from exc

    def close(self) -> None:
        self._client.close()


class DjangoClientApi:
    """The REST API in-process through a Django/DRF test client; `token` adds the header (leave it
    out for a client that already carries credentials)."""

    def __init__(self, *, client=None, token: str = "") -> None:
        from django.test import Client

        self.client = client or Client()
        self.headers = {"Authorization": f"Token {token}"} if token else {}

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = self.client.get(path, dict(params or {}), headers=self.headers)
        if response.status_code != 200:
            raise ApiError(f"GET {path}: HTTP {response.status_code} {response.content[:200]!r}")
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(f"GET {path}: the answer is not JSON.") from exc


# --- checking the outcome ----------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    expected: str
    got: str

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        return f"{mark} {self.name}: expected {self.expected}; got {self.got}"


@dataclass
class ScenarioResult:
    scenario: Scenario
    transcript: CallTranscript
    checks: list[Check] = field(default_factory=list)
    call: dict | None = None  # the call record from /api/v1/calls/

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    @property
    def passed(self) -> bool:
        return not self.failures

    def report(self, *, transcript: bool | None = None) -> str:
        """A PASS/FAIL line, the failed checks, and (by default for a failure) the transcript."""
        status = "PASS" if self.passed else "FAIL"
        lines = [f"{status} {self.scenario.label}"]
        lines += [f"    {check.line()}" for check in self.failures]
        if transcript or (transcript is None and not self.passed):
            lines.append(f"    transcript ({self.transcript.call_sid}):")
            lines += [f"      {line}" for line in self.transcript.lines(compact=True)]
        return "\n".join(lines)


def scenario_play(*, scenario: Scenario, simulator: CallSimulator, api: Api) -> ScenarioResult:
    """Play the call, then check every expectation. Never raises for a failed call or check."""
    transcript = simulator.play(
        from_number=scenario.from_number,
        to_number=scenario.to_number,
        stir_verstat=scenario.stir_verstat,
        answer=ScenarioCaller(scenario),
    )
    result = ScenarioResult(scenario=scenario, transcript=transcript)
    checks = result.checks
    checks.append(
        Check("call", transcript.error is None, "no error", transcript.error or "no error")
    )
    _check_transcript(scenario, transcript, checks)
    if _needs_api(scenario.expect):
        try:
            _check_records(scenario, transcript, api, result)
        except ApiError as exc:
            checks.append(Check("api", False, "the REST API to answer", str(exc)))
    return result


def _check_transcript(scenario: Scenario, transcript: CallTranscript, checks: list) -> None:
    greeting = transcript.greeting
    for group in scenario.greeting_must_include:
        checks.append(
            Check(
                "greeting_must_include",
                any(contains(greeting, phrase) for phrase in group),
                f"one of {list(group)}",
                repr(greeting),
            )
        )
    for phrase in scenario.greeting_must_not_include:
        checks.append(
            Check(
                "greeting_must_not_include",
                not contains(greeting, phrase),
                f"no {phrase!r}",
                repr(greeting),
            )
        )
    heard = transcript.heard_all
    for group in _groups(scenario.expect.get("must_hear")):
        found = [phrase for phrase in group if contains(heard, phrase)]
        checks.append(
            Check(
                "must_hear",
                bool(found),
                f"one of {list(group)} somewhere in the call",
                f"heard {found[0]!r}" if found else "none of them",
            )
        )
    for phrase in _phrases(scenario.expect.get("must_never_say")):
        said = [text for text in transcript.heard if contains(text, phrase)]
        checks.append(
            Check(
                "must_never_say",
                not said,
                f"never {phrase!r}",
                f"said {said[0]!r}" if said else "never said",
            )
        )


def _needs_api(expect: Mapping[str, Any]) -> bool:
    return bool(set(expect) - {"must_hear", "must_never_say"})


def _check_records(
    scenario: Scenario, transcript: CallTranscript, api: Api, result: ScenarioResult
) -> None:
    expect, checks = scenario.expect, result.checks
    page = api.get("/api/v1/calls/", {"call_sid": transcript.call_sid})
    calls = page.get("results", []) if isinstance(page, dict) else []
    if not calls:
        checks.append(
            Check("call record", False, f"a call {transcript.call_sid} in /api/v1/calls/", "none")
        )
        return
    call = result.call = calls[0]
    reason = f" ({call.get('outcome_reason')})" if call.get("outcome_reason") else ""
    outcome = call.get("outcome") or "(none)"
    if "outcome" in expect:
        checks.append(
            Check("outcome", outcome == expect["outcome"], expect["outcome"], outcome + reason)
        )
    if "outcome_any" in expect:
        allowed = list(expect["outcome_any"])
        checks.append(
            Check("outcome_any", outcome in allowed, f"one of {allowed}", outcome + reason)
        )
    job = None
    if call.get("job") and ({"service_category", "priority"} & set(expect)):
        job = api.get(f"/api/v1/jobs/{call['job']}/")
    if "service_category" in expect:
        category = ((job or {}).get("service_type") or {}).get("category")
        got = category or ("a job without a service type" if job else "no job on the call")
        checks.append(
            Check(
                "service_category",
                category == expect["service_category"],
                expect["service_category"],
                got,
            )
        )
    if "priority" in expect:
        priority = call.get("priority") or (job or {}).get("priority") or ""
        checks.append(
            Check(
                "priority", priority == expect["priority"], expect["priority"], priority or "(none)"
            )
        )
    if "new_customer" in expect:
        wanted = bool(expect["new_customer"])
        checks.append(
            Check(
                "new_customer",
                call.get("new_customer") is wanted,
                str(wanted).lower(),
                str(call.get("new_customer")).lower(),
            )
        )
    if "customer" in expect:
        checks.append(_customer_check(api, call, str(expect["customer"])))
    if "confirmation_sms" in expect:
        checks.append(_sms_check(api, call, bool(expect["confirmation_sms"])))


def _customer_check(api: Api, call: dict, wanted: str) -> Check:
    if not call.get("customer"):
        return Check("customer", False, wanted, "no customer on the call")
    customer = api.get(f"/api/v1/customers/{call['customer']}/")
    full = f"{customer.get('first_name', '')} {customer.get('last_name', '')}"
    names = {_fold(full).strip(), _fold(customer.get("display_name") or "").strip()}
    got = f"{customer.get('display_name') or full.strip()} (#{call['customer']})"
    return Check("customer", _fold(wanted).strip() in names, wanted, got)


def _sms_check(api: Api, call: dict, wanted: bool) -> Check:
    """An outbound SMS to the call's customer made by this call: for its job, or created after
    the call started (the demo customers have older confirmations in their timeline)."""
    expected = "an outbound SMS to the customer" if wanted else "no SMS to the customer"
    if not call.get("customer"):
        return Check("confirmation_sms", not wanted, expected, "no customer on the call")
    started = _when(call.get("started_at") or call.get("created_at"))
    found = None
    page: Any = api.get("/api/v1/messages/", {"customer": call["customer"], "page_size": 100})
    for _ in range(MESSAGE_PAGES):
        for message in page.get("results", []):
            if message.get("channel") != "sms" or message.get("direction") != "outbound":
                continue
            same_job = call.get("job") and message.get("job") == call["job"]
            if same_job or _not_before(message.get("created_at"), started):
                found = message
                break
        if found or not page.get("next"):
            break
        page = api.get(page["next"])
    got = (
        f"SMS #{found['id']} ({found.get('status')}): {found.get('body', '')[:120]!r}"
        if found
        else "none"
    )
    return Check("confirmation_sms", (found is not None) is wanted, expected, got)


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _not_before(value: Any, start: datetime | None) -> bool:
    when = _when(value)
    try:
        return when is not None and start is not None and when >= start
    except TypeError:  # one of them without a timezone: not comparable, not this call's
        return False
