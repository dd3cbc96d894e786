"""Phone scenarios: every file in `tests/voice/scenarios/` played over HTTP against the live
server (the demo organisation seeded once for the module) and checked through the REST API,
exactly as `manage.py play_scenarios` does; the two commands end to end; and the scenario format
and caller policy on their own."""

from __future__ import annotations

import io
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from bookings.voice.scenarios import (
    HttpApi,
    ScenarioCaller,
    ScenarioError,
    last_sentence,
    scenario_files,
    scenario_load,
    scenario_parse,
    scenario_play,
)
from bookings.voice.simulator import (
    Answer,
    CallSimulator,
    HttpReply,
    HttpTransport,
    LineCredentials,
    line_credentials,
)
from dispatchnode.accounts.models import Organization
from dispatchnode.accounts.services import api_token_issue
from dispatchnode.demo import data

SCENARIO_DIR = Path(__file__).parent / "scenarios"
SCENARIOS = sorted(SCENARIO_DIR.glob("*.yaml"))


# --- the demo organisation behind a live server --------------------------------------------------


@dataclass(frozen=True)
class Demo:
    line: LineCredentials
    api_key: str


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo organisation, seeded once for the module (about 3 s) and shared by every
    scenario: each call has its own CallSid, the demo has slots for weeks, and every scenario's
    new caller has a number of its own. The database is emptied again at the end, as a
    transactional test would leave it.

    The token file, the SMS backend (no network) and the cache (never a shared Redis) are this
    module's own."""
    isolated = override_settings(
        VAR_DIR=tmp_path_factory.mktemp("demo-var"),
        DEMO_API_TOKEN="",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        SMS_BACKEND="console",
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "phone-scenarios",
            }
        },
    )
    with django_db_blocker.unblock(), isolated:
        call_command("seed_demo", stdout=io.StringIO())
        organization = Organization.objects.get(slug=data.ORG_SLUG)
        key = api_token_issue(
            organization=organization, name="phone scenarios", scopes=["*:read"]
        ).key
        line = line_credentials(number=data.ORG_TWILIO_NUMBER)
        assert line is not None
        try:
            yield Demo(line=line, api_key=key)
        finally:
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def transactional_db(demo):
    """`live_server` asks for `transactional_db`, whose teardown empties every table after each
    test, which would throw the module's seed away after the first scenario. Here it only keeps
    the database open (`demo` does) and `demo` empties it once, at the end of the module.
    Tests that need the seed without the server ask for this fixture too: pytest-django runs
    transactional tests together, so the module's seed is made once."""


@pytest.fixture
def app(demo, live_server, settings):
    """The live server's base URL, signed over as its public URL."""
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server.url


@pytest.fixture
def simulator(demo, app):
    transport = HttpTransport(base_url=app)
    yield CallSimulator(
        transport=transport, auth_token=demo.line.auth_token, account_sid=demo.line.account_sid
    )
    transport.close()


@pytest.fixture
def api(demo, app):
    client = HttpApi(base_url=app, token=demo.api_key)
    yield client
    client.close()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path, simulator, api):
    scenario = scenario_load(path)

    result = scenario_play(scenario=scenario, simulator=simulator, api=api)

    if not result.passed:
        pytest.fail(result.report(transcript=True), pytrace=False)


def test_the_repo_has_the_shared_scenarios_and_ours():
    names = {p.name for p in SCENARIOS}

    assert {f"0{n}" for n in range(1, 8)} <= {name[:2] for name in names}
    assert len([name for name in names if name.startswith("1")]) >= 5


# --- the commands -------------------------------------------------------------------------------


def test_simulate_call_plays_a_call_against_the_running_app(app):
    out = io.StringIO()

    call_command(
        "simulate_call",
        "--from",
        "+15125550917",
        "--stir",
        "TN-Validation-Passed-A",
        "--say",
        "",
        "--press",
        "0",
        "--base-url",
        app,
        stdout=out,
    )

    lines = out.getvalue().splitlines()
    assert lines[0].startswith(
        f"Calling +15125550100 (Demo Heating & Air) from +15125550917 at {app}"
    )
    assert lines[1].startswith("AGENT: Thanks for calling Demo Heating & Air.")
    assert lines[2] == "CALLER: (silence)"
    assert "CALLER: (presses 0)" in lines
    assert lines[-2:] == [
        "TRANSFER: dialling +15125550101",
        "END: transferred to +15125550101",
    ]


def test_simulate_call_without_a_server_is_one_clear_error(transactional_db):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"

    with pytest.raises(CommandError) as error:
        call_command(
            "simulate_call", "--from", "+15125550142", "--base-url", base, stdout=io.StringIO()
        )

    assert str(error.value) == (
        f"DispatchNode at {base} could not be reached. Is the app running (`make run`)? "
        "Otherwise pass --base-url."
    )


def test_simulate_call_to_a_number_nobody_answers_is_refused(transactional_db):
    with pytest.raises(CommandError, match=r"No organisation .* answers \+15125550123"):
        call_command("simulate_call", "--from", "+15125550142", "--to", "+15125550123")


def test_play_scenarios_reports_each_scenario_and_fails_when_one_fails(app, demo, tmp_path):
    (tmp_path / "a_person.yaml").write_text(
        'name: Asks for a person\nfrom: "+15125550918"\n'
        'caller:\n  default: "Put me through to a person, please."\n'
        "expect:\n  outcome: transferred\n"
    )
    (tmp_path / "b_silent.yaml").write_text(
        'name: Silent caller expected to book\nfrom: "+15125550919"\n'
        "caller:\n  silence: true\nexpect:\n  outcome: booked\n"
    )
    out = io.StringIO()

    with pytest.raises(CommandError, match=r"^1 of 2 scenarios failed\.$"):
        call_command(
            "play_scenarios",
            str(tmp_path),
            "--base-url",
            app,
            f"--token={demo.api_key}",
            stdout=out,
        )

    text = out.getvalue()
    assert "PASS a_person.yaml: Asks for a person\n" in text
    assert "FAIL b_silent.yaml: Silent caller expected to book\n" in text
    assert "    FAIL outcome: expected booked; got " in text
    assert "    transcript (CA" in text
    assert "      CALLER: (silence)" in text
    assert text.endswith("1 of 2 scenarios passed.\n")


def test_play_scenarios_uses_the_demo_token_by_default(app):
    out = io.StringIO()

    call_command(
        "play_scenarios",
        str(SCENARIO_DIR / "06_asks_for_a_person.yaml"),
        "--base-url",
        app,
        stdout=out,
    )

    assert out.getvalue().startswith("PASS 06_asks_for_a_person.yaml")


def test_play_scenarios_with_a_wrong_token_is_one_clear_error(app):
    with pytest.raises(CommandError, match=r"^GET /api/v1/calls/: .* \(HTTP 401\)"):
        call_command("play_scenarios", "--base-url", app, "--token", "x" * 40)


# --- the scenario format and the caller policy, on their own -------------------------------------


@pytest.mark.parametrize(
    ("said", "last"),
    [
        ("Great. What can I help you with today?", "What can I help you with today?"),
        ("You're all set for 9 a.m. tomorrow. Is there anything else?", "Is there anything else?"),
        ("Would 9 a.m. work for you?", "Would 9 a.m. work for you?"),
        ("The visit is $89.50. Okay?", "Okay?"),
        (
            "I see you are at 123 Main St. Is this for the same location?",
            "Is this for the same location?",
        ),
        ("Sorry!   ", "Sorry!"),
        ("", ""),
    ],
)
def test_the_last_sentence_is_what_the_caller_answers(said, last):
    assert last_sentence(said) == last


def test_the_first_matching_rule_on_the_last_sentence_answers():
    scenario = scenario_parse(
        {
            "from": "+15125550142",
            "caller": {
                "rules": [
                    {"when": ["same location"], "say": "Yes."},
                    {"when": ["what’s going on", "help you"], "say": "My AC is out."},
                    {"when": "press", "press": 2},
                ],
                "default": "Sure.",
            },
        }
    )
    caller = ScenarioCaller(scenario)

    # "same location" is in an earlier sentence only: the last one decides.
    assert caller("Is this for the same location? OK. How can I HELP YOU today?") == Answer.say(
        "My AC is out."
    )
    assert caller("Tell me what's going on.") == Answer.say("My AC is out.")  # ’ and ' alike
    assert caller("You can also press 1 or 2.") == Answer.press("2")
    assert caller("Anything else?") == Answer.say("Sure.")


def test_a_silent_caller_never_says_anything():
    scenario = scenario_parse(
        {"from": "+15125550999", "caller": {"default": "", "silence": True}, "expect": {}}
    )

    assert ScenarioCaller(scenario)("How can I help you?").is_silence


def test_a_scenario_file_is_read_like_the_readme_says(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: x\nfrom: +15125550142\nstir_verstat: TN-Validation-Passed-A\n"
        'greeting_must_include: [["John"], ["HVAC", "AC "]]\n'
        'expect:\n  outcome_any: [no_booking, transferred]\n  must_hear: [["gas"], "911"]\n'
    )

    scenario = scenario_load(path)

    assert scenario.from_number == "+15125550142"  # unquoted, YAML reads an integer
    assert scenario.to_number == "+15125550100"
    assert scenario.greeting_must_include == (("John",), ("HVAC", "AC "))
    assert scenario.default == Answer.silence()
    assert scenario_files([tmp_path]) == [path]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            {"from": "+1", "expect": {"outcome": "booked", "oucome": "x"}},
            "unknown key expect.oucome",
        ),
        ({"from": "+1", "expect": {"outcome": "done"}}, "unknown outcome 'done'"),
        ({"caller": {}}, "`from` (the caller's number) is required"),
        ({"from": "+1", "caller": {"rules": [{"when": ["x"]}]}}, "caller.rules[0] needs"),
        ({"from": "+1", "greeting": "hi"}, "unknown key greeting"),
    ],
)
def test_a_broken_scenario_says_what_is_wrong(raw, problem):
    with pytest.raises(ScenarioError, match=re.escape(problem)):
        scenario_parse(raw)


class FakeApi:
    def __init__(self, pages: dict[str, object]) -> None:
        self.pages = pages
        self.asked: list[tuple[str, dict]] = []

    def get(self, path, params=None):
        self.asked.append((path, dict(params or {})))
        return self.pages[path]


class OneTurnApp:
    """Greets, hears one answer, transfers; no signature checks (test_simulator has them)."""

    public_url = "https://voice.example.com"

    def send(self, *, method, path, params, headers):
        if path == "/twilio/voice/incoming":
            body = (
                '<Response><Gather input="speech dtmf" action="/twilio/voice/turn/x?turn=1" '
                'actionOnEmptyResult="true"><Say>Hi John. How can I help you?</Say></Gather>'
                "</Response>"
            )
        elif path.startswith("/twilio/voice/turn/"):
            body = "<Response><Say>Connecting you.</Say><Dial>+15125550101</Dial></Response>"
        else:
            body = "<Response/>"
        return HttpReply(status=200, body=body)


def test_every_failed_check_is_spelled_out_with_expected_and_got():
    scenario = scenario_parse(
        {
            "name": "Books an AC repair",
            "from": "+15125550142",
            "greeting_must_include": [["John"], ["October"]],
            "greeting_must_not_include": ["Smith"],
            "caller": {"default": "My AC is out."},
            "expect": {
                "outcome": "booked",
                "service_category": "hvac",
                "priority": "normal",
                "new_customer": False,
                "customer": "John Smith",
                "confirmation_sms": True,
                "must_hear": [["all set"], ["Connecting"]],
                "must_never_say": ["Connecting"],
            },
        }
    )
    simulator = CallSimulator(transport=OneTurnApp(), auth_token="t")
    sms_before = {
        "id": 9,
        "channel": "sms",
        "direction": "outbound",
        "job": 3,
        "created_at": "2020-01-01T10:00:00+00:00",
    }
    call = {
        "outcome": "transferred",
        "outcome_reason": "caller asked for a person",
        "customer": 7,
        "new_customer": False,
        "job": None,
        "priority": "",
        "started_at": "2030-01-01T10:00:00+00:00",
    }
    api = FakeApi(
        {
            "/api/v1/calls/": {"results": [call]},
            "/api/v1/customers/7/": {
                "first_name": "John",
                "last_name": "Smith",
                "display_name": "John Smith",
            },
            "/api/v1/messages/": {"results": [sms_before], "next": None},
        }
    )

    result = scenario_play(scenario=scenario, simulator=simulator, api=api)

    assert not result.passed
    assert [check.line() for check in result.failures] == [
        "FAIL greeting_must_include: expected one of ['October']; "
        "got 'Hi John. How can I help you?'",
        "FAIL must_hear: expected one of ['all set'] somewhere in the call; got none of them",
        "FAIL must_never_say: expected never 'Connecting'; got said 'Connecting you.'",
        "FAIL outcome: expected booked; got transferred (caller asked for a person)",
        "FAIL service_category: expected hvac; got no job on the call",
        "FAIL priority: expected normal; got (none)",
        "FAIL confirmation_sms: expected an outbound SMS to the customer; got none",
    ]
    assert api.asked[0] == ("/api/v1/calls/", {"call_sid": result.transcript.call_sid})
    report = result.report()
    assert report.startswith("FAIL Books an AC repair\n    FAIL greeting_must_include")
    assert report.splitlines()[-6:] == [
        f"    transcript ({result.transcript.call_sid}):",
        "      AGENT: Hi John. How can I help you?",
        "      CALLER: My AC is out.",
        "      AGENT: Connecting you.",
        "      TRANSFER: dialling +15125550101",
        "      END: transferred to +15125550101",
    ]
