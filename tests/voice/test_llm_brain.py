"""The LLM brain over real HTTP against a local fake OpenAI-compatible server: each tool's
meaning, the information-tool round trip, the safety floor, every failure falling back to the
rule brain, the request it sends, and its configuration."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

from bookings.voice.brain import EXPECTING, RuleBrain, Understanding
from bookings.voice.llm_brain import (
    ASKED,
    BOOK_CONFIDENCE,
    LlmBrain,
    _configured_brain,
    brain_from_settings,
)
from dispatchnode.demo import data
from dispatchnode.env import ConfigError, voice_brain_check
from tests.fakes.geocoders import Reply
from tests.fakes.openai_chat import FakeOpenAIChat, ToolCall
from tests.test_settings import run_manage
from tests.voice.test_brain import Service

CATALOGUE = (
    *(
        Service(n, spec.code, spec.name, spec.category, spec.kind, spec.synonyms)
        for n, spec in enumerate(data.SERVICE_TYPES, start=1)
    ),
    Service(900, "pool-heater-repair", "Pool heater repair", "hvac", "repair", (), False),
)
BY_CODE = {service.code: service.id for service in CATALOGUE}
OFFERED = (
    "Tuesday between 8 and 10 in the morning",
    "Wednesday between 1 and 3 in the afternoon",
    "Thursday between 5 and 7 in the evening",
)
ORG = SimpleNamespace(id=7, name="Demo Heating & Air")
TOOL_NAMES = {"lookup_caller", "lookup_price", "find_slots", "book", "transfer", "interpret"}


@pytest.fixture
def chat() -> Iterator[FakeOpenAIChat]:
    server = FakeOpenAIChat().start()
    yield server
    server.stop()


@pytest.fixture
def brains() -> Iterator[list[LlmBrain]]:
    made: list[LlmBrain] = []
    yield made
    for brain in made:
        brain.close()


@pytest.fixture
def llm(chat, brains) -> LlmBrain:
    brain = LlmBrain(base_url=chat.base_url, model="test-model", timeout=2.0)
    brains.append(brain)
    return brain


def hear(brain, text, expecting="intent", *, digits="", offered=OFFERED, tools=None):
    return brain.understand(
        text=text,
        digits=digits,
        expecting=expecting,
        organization=ORG,
        catalogue=CATALOGUE,
        offered=offered,
        tools=tools,
    )


def rules(text, expecting="intent", *, digits="", offered=OFFERED):
    return hear(RuleBrain(), text, expecting, digits=digits, offered=offered)


class DialogueTools:
    """What the dialogue would pass: canned answers, and a record of what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def lookup_caller(self) -> dict:
        self.asked.append(("lookup_caller", ""))
        return {"known": True, "first_name": "John", "upcoming_visit": "Friday morning"}

    def find_slots(self, preference: str) -> list[str]:
        self.asked.append(("find_slots", preference))
        return ["Friday between 8 and 10 in the morning", "Friday between 1 and 3"]


class SlowTools(DialogueTools):
    def __init__(self, *, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def lookup_caller(self) -> dict:
        time.sleep(self.seconds)
        return super().lookup_caller()


class BreakingTools(DialogueTools):
    """Answers, and makes the model's server fail the next request (the following round)."""

    def __init__(self, server: FakeOpenAIChat) -> None:
        super().__init__()
        self.server = server

    def lookup_caller(self) -> dict:
        self.server.fail("server_error", times=1)
        return super().lookup_caller()


# --- Each tool's meaning ---------------------------------------------------------------------


def test_interpret_gives_the_understanding_with_the_service_id_for_its_code(chat, llm):
    said = "The thing in the attic that keeps us cool has given up"
    chat.on(
        "attic",
        ToolCall("interpret", {"intent": "book", "service_code": "ac-repair", "confidence": 0.8}),
    )

    understood = hear(llm, said, "service")

    assert understood == Understanding(
        intent="book", service_type_id=BY_CODE["ac-repair"], service_confidence=0.8, words=said
    )
    assert rules(said, "service").intent == "unknown"  # what the LLM adds


def test_interpret_choice_is_one_based(chat, llm):
    chat.on("middle", ToolCall("interpret", {"intent": "yes", "choice": 2, "confidence": 0.9}))

    understood = hear(llm, "I'll go with the one in the middle", "slot_choice")

    assert (understood.intent, understood.choice, understood.service_type_id) == ("yes", 1, None)


def test_interpret_an_emergency_the_rules_miss(chat, llm):
    said = "my kids feel dizzy and have headaches since we turned the heater on"
    chat.on(
        "dizzy",
        ToolCall(
            "interpret",
            {
                "intent": "emergency",
                "emergency": "carbon_monoxide",
                "service_code": "hvac-emergency",
                "confidence": 0.7,
            },
        ),
    )

    understood = hear(llm, said)

    assert understood == Understanding(
        intent="emergency",
        emergency="carbon_monoxide",
        service_type_id=BY_CODE["hvac-emergency"],
        service_confidence=0.7,
        words=said,
    )
    assert rules(said).emergency == ""


def test_interpret_an_emergency_kind_makes_the_intent_an_emergency(chat, llm):
    chat.on(
        "tingle",
        ToolCall("interpret", {"intent": "book", "emergency": "electrical_fire", "confidence": 1}),
    )

    understood = hear(llm, "the light switch makes my fingers tingle and smells hot")

    assert (understood.intent, understood.emergency) == ("emergency", "electrical_fire")


def test_interpret_carries_the_preference(chat, llm):
    chat.on(
        "end of the week",
        ToolCall("interpret", {"intent": "no", "preference": "end of the week", "confidence": 1}),
    )

    understood = hear(llm, "those are all bad, what about the end of the week", "slot_choice")

    assert (understood.intent, understood.choice, understood.preference_text) == (
        "no",
        None,
        "end of the week",
    )


def test_interpret_without_a_service_has_no_service_confidence(chat, llm):
    chat.on("my visit", ToolCall("interpret", {"intent": "reschedule", "confidence": 0.9}))

    understood = hear(llm, "hi, it's about my visit")

    assert understood == Understanding(intent="reschedule", words="hi, it's about my visit")


def test_book_names_a_service(chat, llm):
    chat.on("leaking", ToolCall("book", {"service_code": "water-heater-repair"}))

    understood = hear(llm, "the tank in the garage is leaking", "service")

    assert understood == Understanding(
        intent="book",
        service_type_id=BY_CODE["water-heater-repair"],
        service_confidence=BOOK_CONFIDENCE,
        words="the tank in the garage is leaking",
    )


def test_book_without_a_service_is_a_booking_of_nothing_yet(chat, llm):
    chat.on("come out", ToolCall("book", {}))

    understood = hear(llm, "can somebody come out this week", "intent")

    assert (understood.intent, understood.service_type_id, understood.service_confidence) == (
        "book",
        None,
        0.0,
    )


def test_book_while_choosing_a_time_is_yes_with_the_choice(chat, llm):
    chat.on("let's do it", ToolCall("book", {"choice": 3}))

    understood = hear(llm, "let's do it, the evening", "slot_choice")

    assert (understood.intent, understood.choice) == ("yes", 2)


def test_transfer_is_a_person(chat, llm):
    chat.on("boss", ToolCall("transfer", {"reason": "wants the owner"}))

    understood = hear(llm, "can I get your boss on the line")

    assert understood == Understanding(intent="person", words="can I get your boss on the line")
    assert rules("can I get your boss on the line").intent != "person"


def test_find_slots_while_choosing_a_time_asks_for_other_times(chat, llm):
    chat.on("saturday", ToolCall("find_slots", {"preference": "Saturday morning"}))

    understood = hear(llm, "none of those, maybe Saturday?", "slot_choice", tools=DialogueTools())

    assert (understood.intent, understood.choice, understood.preference_text) == (
        "no",
        None,
        "Saturday morning",
    )
    assert len(chat.requests) == 1  # a final answer, not a question for the tools


def test_the_fake_models_own_heuristic_is_used_when_nothing_is_scripted(chat, llm):
    assert hear(llm, "yes", "yes_no").intent == "yes"
    assert hear(llm, "I have a question about my invoice").intent == "billing"


# --- Information tools -----------------------------------------------------------------------


def test_lookup_caller_round_trip(chat, llm):
    tools = DialogueTools()
    chat.on(
        "about my visit",
        ToolCall("interpret", {"intent": "reschedule", "confidence": 0.9}),
        first=[ToolCall("lookup_caller")],
    )

    understood = hear(llm, "hi, it's about my visit", tools=tools)

    assert understood.intent == "reschedule"
    assert tools.asked == [("lookup_caller", "")]
    assert [(r["name"], r["content"]) for r in chat.tool_results] == [
        (
            "lookup_caller",
            {"known": True, "first_name": "John", "upcoming_visit": "Friday morning"},
        )
    ]
    first, second = chat.bodies()
    assert second["messages"][:2] == first["messages"]
    assistant, tool = second["messages"][2:]
    assert assistant["role"] == "assistant"
    assert assistant["tool_calls"][0]["function"] == {"name": "lookup_caller", "arguments": "{}"}
    assert tool["role"] == "tool"
    assert tool["tool_call_id"] == assistant["tool_calls"][0]["id"]


def test_find_slots_as_information_then_book_keeps_the_preference(chat, llm):
    tools = DialogueTools()
    chat.on(
        "friday",
        ToolCall("book", {"service_code": "ac-repair"}),
        first=[ToolCall("find_slots", {"preference": "Friday"})],
    )

    understood = hear(llm, "do you have anything on Friday for my AC", "service", tools=tools)

    assert understood == Understanding(
        intent="book",
        service_type_id=BY_CODE["ac-repair"],
        service_confidence=BOOK_CONFIDENCE,
        preference_text="Friday",
        words="do you have anything on Friday for my AC",
    )
    assert tools.asked == [("find_slots", "Friday")]
    assert chat.tool_results[0]["content"] == {
        "preference": "Friday",
        "slots": ["Friday between 8 and 10 in the morning", "Friday between 1 and 3"],
    }


def test_a_tool_call_without_an_id_is_answered_under_one_we_give_it(chat, llm):
    """Some local servers send tool calls without ids; the tool message still pairs up."""
    chat.on("about my visit", ToolCall("interpret", {"intent": "cancel", "confidence": 0.9}))
    chat.reply(
        Reply.json(
            {
                "id": "chatcmpl-local",
                "object": "chat.completion",
                "created": 1767225600,
                "model": "test-model",
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": "",
                            "tool_calls": [
                                {"type": "function", "function": {"name": "lookup_caller"}}
                            ],
                        },
                        "finish_reason": "tool_calls",
                    }
                ],
            }
        )
    )

    understood = hear(llm, "hi, it's about my visit", tools=DialogueTools())

    assert understood.intent == "cancel"
    assert [(r["name"], r["tool_call_id"]) for r in chat.tool_results] == [
        ("lookup_caller", "call_0")
    ]


def test_without_tools_the_model_is_told_they_are_not_available(chat, llm):
    chat.on(
        "about my visit",
        ToolCall("interpret", {"intent": "reschedule", "confidence": 0.9}),
        first=[ToolCall("lookup_caller"), ToolCall("find_slots", {"preference": "monday"})],
    )

    understood = hear(llm, "hi, it's about my visit", tools=None)

    assert understood.intent == "reschedule"
    assert [(r["name"], r["content"]) for r in chat.tool_results] == [
        ("lookup_caller", {"error": "not available"}),
        ("find_slots", {"error": "not available"}),
    ]


def test_find_slots_in_the_last_round_is_the_final_answer(chat, llm):
    tools = DialogueTools()
    chat.on(
        "next week",
        ToolCall("find_slots", {"preference": "next week"}),
        first=[ToolCall("lookup_caller"), ToolCall("lookup_caller")],
    )

    understood = hear(llm, "anything next week for a tune-up", "service", tools=tools)

    assert (understood.intent, understood.preference_text) == ("book", "next week")
    assert tools.asked == [("lookup_caller", ""), ("lookup_caller", "")]


def test_at_most_two_information_rounds_then_the_rules(chat, llm, caplog):
    tools = DialogueTools()
    chat.on(
        "about my visit",
        ToolCall("lookup_caller"),
        first=[ToolCall("lookup_caller"), ToolCall("lookup_caller")],
    )
    caplog.set_level(logging.WARNING, logger="bookings.voice.llm_brain")

    understood = hear(llm, "hi, it's about my visit", tools=tools)

    assert understood == rules("hi, it's about my visit")
    assert len(chat.requests) == 3
    offered = [{t["function"]["name"] for t in body["tools"]} for body in chat.bodies()]
    assert offered == [TOOL_NAMES, TOOL_NAMES, TOOL_NAMES - {"lookup_caller", "lookup_price"}]
    assert "still asking for information after 2 rounds" in caplog.text


# --- Safety floor and keypad -----------------------------------------------------------------


def test_a_gas_smell_is_an_emergency_whatever_the_model_says(chat, llm):
    chat.on("gas", ToolCall("book", {"service_code": "furnace-repair"}))

    understood = hear(llm, "I smell gas near the furnace, can you fix it", "service")

    assert (understood.intent, understood.emergency) == ("emergency", "gas")
    assert understood == rules("I smell gas near the furnace, can you fix it", "service")
    assert chat.requests == []  # the rules decide; the caller does not wait for the model


def test_asking_for_a_person_is_the_rules_answer(chat, llm):
    chat.on("person", ToolCall("interpret", {"intent": "unknown", "confidence": 0.1}))

    assert hear(llm, "I want a real person", "slot_choice").intent == "person"
    assert chat.requests == []


def test_a_thing_the_catalogue_does_not_cover_is_the_rules_answer(chat, llm):
    # A model could map a pool pump onto the nearest catalogue entry; the catalogue decides.
    chat.on("pool pump", ToolCall("book", {"service_code": "ac-repair"}))

    understood = hear(llm, "My pool pump stopped working", "intent")

    assert (understood.intent, understood.unserved) == ("book", "pool pump")
    assert understood.service_type_id is None
    assert chat.requests == []


@pytest.mark.parametrize(
    ("digits", "expecting", "intent", "choice"),
    [
        ("2", "slot_choice", "yes", 1),
        ("0", "yes_no", "person", None),
        ("9", "slot_choice", "unknown", None),
    ],
)
def test_keypad_is_read_by_the_rules(chat, llm, digits, expecting, intent, choice):
    understood = hear(llm, "", expecting, digits=digits)

    assert (understood.intent, understood.choice) == (intent, choice)
    assert understood == rules("", expecting, digits=digits)
    assert chat.requests == []


@pytest.mark.parametrize(
    ("text", "expecting"),
    [
        ("Maria Garcia.", "name"),
        ("4500 Duval Street, Austin, Texas 78751.", "address"),
        ("7 8 7 0 1", "verification"),
        ("   ", "intent"),
    ],
)
def test_free_text_and_silence_stay_with_the_rules(chat, llm, text, expecting):
    assert hear(llm, text, expecting) == rules(text, expecting)
    assert chat.requests == []


def test_unknown_expecting_is_a_programming_error(llm):
    with pytest.raises(ValueError, match="expecting"):
        hear(llm, "yes", "whatever")


def test_every_question_has_a_description_for_the_prompt():
    assert set(ASKED) == set(EXPECTING)


def test_the_rule_brain_accepts_and_ignores_tools():
    tools = DialogueTools()

    understood = RuleBrain().understand(
        text="the second one", expecting="slot_choice", offered=OFFERED, tools=tools
    )

    assert (understood.intent, understood.choice, tools.asked) == ("yes", 1, [])


# --- Failures fall back to the rules ----------------------------------------------------------

SAID = "the second one, if the plumber can bring a new faucet"
EXPECTING_NOW = "slot_choice"


def _fallback(brain, caplog, chat) -> Understanding:
    caplog.set_level(logging.WARNING, logger="bookings.voice.llm_brain")
    understood = hear(brain, SAID, EXPECTING_NOW)
    assert understood == rules(SAID, EXPECTING_NOW)
    assert understood.choice == 1  # the rules' reading, not nothing
    warnings = [r for r in caplog.records if r.name == "bookings.voice.llm_brain"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "organization 7 fell back to the rules" in warnings[0].getMessage()
    assert SAID not in caplog.text  # what callers say stays out of the log
    return understood


@pytest.mark.parametrize("kind", ["unavailable", "server_error", "rate_limited", "html"])
def test_a_misbehaving_server_falls_back(chat, llm, caplog, kind):
    chat.fail(kind)

    _fallback(llm, caplog, chat)

    assert len(chat.requests) == 1


def test_a_slow_server_falls_back_within_the_budget(chat, brains, caplog):
    brain = LlmBrain(base_url=chat.base_url, model="test-model", timeout=0.3)
    brains.append(brain)
    chat.fail("slow")
    started = time.monotonic()

    _fallback(brain, caplog, chat)

    assert time.monotonic() - started < 1.5
    assert "did not answer" in caplog.text


def test_the_budget_covers_every_round(chat, brains, caplog):
    """The budget is for the whole utterance: a slow information round leaves no time to ask
    the model again."""
    brain = LlmBrain(base_url=chat.base_url, model="test-model", timeout=0.5)
    brains.append(brain)
    chat.on(SAID, ToolCall("book", {"choice": 2}), first=[ToolCall("lookup_caller")])
    caplog.set_level(logging.WARNING, logger="bookings.voice.llm_brain")
    started = time.monotonic()

    understood = hear(brain, SAID, EXPECTING_NOW, tools=SlowTools(seconds=0.6))

    assert understood == rules(SAID, EXPECTING_NOW)
    assert time.monotonic() - started < 1.5  # 0.6 s in the tools, no second model round
    assert len(chat.requests) == 1
    assert "out of time (0.5 s) before asking again" in caplog.text


def test_a_server_that_cannot_be_reached_falls_back(brains, caplog):
    gone = FakeOpenAIChat().start()
    gone.stop()
    brain = LlmBrain(base_url=gone.base_url, model="test-model", timeout=1.0)
    brains.append(brain)

    _fallback(brain, caplog, gone)

    assert "could not be reached" in caplog.text


def test_a_failure_in_a_later_round_falls_back(chat, llm, caplog):
    chat.on(SAID, ToolCall("book", {"choice": 2}), first=[ToolCall("lookup_caller")])
    caplog.set_level(logging.WARNING, logger="bookings.voice.llm_brain")

    understood = hear(llm, SAID, EXPECTING_NOW, tools=BreakingTools(chat))

    assert understood == rules(SAID, EXPECTING_NOW)
    assert len(chat.requests) == 2
    assert "HTTP 500" in caplog.text


@pytest.mark.parametrize(
    ("final", "reason"),
    [
        (ToolCall("interpret", '{"intent": "yes", "choice": 2'), "cannot be read"),
        (ToolCall("interpret", '["yes"]'), "arguments are not an object"),
        (ToolCall("schedule_visit", {"choice": 2}), "unknown tool 'schedule_visit'"),
        ("Sure! The second one it is.", "no tool call"),
        (ToolCall("interpret", {"intent": "maybe", "confidence": 1}), "not one of INTENTS"),
        (ToolCall("interpret", {"intent": "yes", "choice": 4, "confidence": 1}), "choice 4"),
        (ToolCall("interpret", {"intent": "yes", "choice": 0, "confidence": 1}), "choice 0"),
        (ToolCall("interpret", {"intent": "yes", "choice": "two", "confidence": 1}), "whole"),
        (ToolCall("interpret", {"intent": "yes", "choice": 2}), "confidence"),
        (
            ToolCall("interpret", {"intent": "emergency", "emergency": "meteor", "confidence": 1}),
            "unknown emergency",
        ),
        (ToolCall("book", {"choice": 9}), "not one of the 3 times offered"),
        (ToolCall("book", {}), "book without a choice"),
        (ToolCall("find_slots", {"preference": 3}), "preference is not a string"),
    ],
)
def test_an_answer_outside_the_contract_falls_back(chat, llm, caplog, final, reason):
    chat.on(SAID, final)

    _fallback(llm, caplog, chat)

    assert reason in caplog.text


@pytest.mark.parametrize(
    "code", ["no-such-service", "pool-heater-repair"], ids=["unknown", "inactive"]
)
def test_a_service_code_not_in_the_active_catalogue_falls_back(chat, llm, caplog, code):
    chat.on("attic", ToolCall("book", {"service_code": code}))
    caplog.set_level(logging.WARNING, logger="bookings.voice.llm_brain")

    understood = hear(llm, "the thing in the attic quit", "service")

    assert understood == rules("the thing in the attic quit", "service")
    assert f"unknown service code '{code}'" in caplog.text


def test_two_final_calls_at_once_fall_back(chat, llm, caplog):
    chat.on(SAID, (ToolCall("book", {"choice": 2}), ToolCall("transfer", {"reason": "unsure"})))

    _fallback(llm, caplog, chat)

    assert "2 final tool calls instead of one" in caplog.text


def test_an_information_call_beside_a_final_one_is_not_made(chat, llm):
    tools = DialogueTools()
    chat.on(SAID, (ToolCall("lookup_caller"), ToolCall("book", {"choice": 2})))

    understood = hear(llm, SAID, EXPECTING_NOW, tools=tools)

    assert (understood.intent, understood.choice, tools.asked) == ("yes", 1, [])


def test_a_wrong_key_is_refused_and_falls_back(brains, caplog):
    server = FakeOpenAIChat(api_key="sk-test-right").start()
    try:
        wrong = LlmBrain(base_url=server.base_url, model="m", api_key="sk-test-wrong")
        none = LlmBrain(base_url=server.base_url, model="m")
        right = LlmBrain(base_url=server.base_url, model="m", api_key="sk-test-right")
        brains.extend([wrong, none, right])
        server.on(SAID, ToolCall("book", {"choice": 3}))

        _fallback(wrong, caplog, server)
        caplog.clear()
        _fallback(none, caplog, server)
        understood = hear(right, SAID, EXPECTING_NOW)
    finally:
        server.stop()

    assert (understood.intent, understood.choice) == ("yes", 2)  # the model's reading
    assert [r.headers.get("authorization") for r in server.requests] == [
        "Bearer sk-test-wrong",
        None,
        "Bearer sk-test-right",
    ]
    assert "no longer accepts our credentials (HTTP 401)" in caplog.text


# --- The request ------------------------------------------------------------------------------


def test_the_request_carries_model_temperature_tools_and_prompt(chat, brains):
    brain = LlmBrain(base_url=chat.base_url + "/", model="gpt-4o-mini", api_key="sk-abc")
    brains.append(brain)

    hear(brain, "the second one works", "slot_choice")

    (seen,) = chat.requests
    assert (seen.method, seen.path) == ("POST", "/v1/chat/completions")
    assert seen.headers["authorization"] == "Bearer sk-abc"
    assert seen.headers["content-type"] == "application/json"
    body = chat.bodies()[0]
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0
    assert body["tool_choice"] == "required"
    assert {tool["type"] for tool in body["tools"]} == {"function"}
    tools = {tool["function"]["name"]: tool["function"] for tool in body["tools"]}
    assert set(tools) == TOOL_NAMES
    interpret = tools["interpret"]["parameters"]
    assert interpret["required"] == ["intent", "confidence"]
    assert interpret["properties"]["intent"]["enum"] == [
        "book",
        "reschedule",
        "cancel",
        "billing",
        "price",
        "emergency",
        "person",
        "yes",
        "no",
        "unknown",
    ]
    assert "gas" in interpret["properties"]["emergency"]["enum"]
    codes = interpret["properties"]["service_code"]["enum"]
    assert "ac-repair" in codes
    assert "pool-heater-repair" not in codes  # inactive
    assert tools["transfer"]["parameters"]["required"] == ["reason"]
    assert tools["lookup_caller"]["parameters"]["properties"] == {}

    system, user = body["messages"]
    assert user == {"role": "user", "content": "the second one works"}
    assert system["role"] == "system"
    prompt = system["content"]
    assert "phone receptionist for Demo Heating & Air" in prompt
    assert "You just asked: which of the offered times they want" in prompt
    assert "- ac-repair | AC repair | hvac | repair | " in prompt
    assert "Pool heater" not in prompt
    assert "1. Tuesday between 8 and 10 in the morning\n" in prompt
    assert prompt.endswith("3. Thursday between 5 and 7 in the evening")


def test_no_offer_means_no_times_in_the_prompt(chat, llm):
    hear(llm, "my furnace is acting up", "service", offered=())

    prompt = chat.bodies()[0]["messages"][0]["content"]
    assert "Times just offered" not in prompt
    assert "You just asked: what the problem is, or which service they need" in prompt


# --- Configuration ------------------------------------------------------------------------------


@pytest.fixture
def fresh_brains():
    """`brain_from_settings` keeps one brain per configuration; start and end without any."""
    _configured_brain.cache_clear()
    yield
    _configured_brain.cache_clear()


def test_brain_from_settings_is_the_rule_brain_by_default(settings, fresh_brains):
    settings.VOICE_BRAIN = "rule"

    assert isinstance(brain_from_settings(), RuleBrain)


def test_brain_from_settings_builds_the_llm_brain(settings, fresh_brains, chat):
    chat.api_key = "sk-configured"
    settings.VOICE_BRAIN = "llm"
    settings.LLM_BASE_URL = chat.base_url
    settings.LLM_API_KEY = "sk-configured"
    settings.LLM_MODEL = "llama3.1:8b"
    settings.LLM_TIMEOUT_SECONDS = 1.5
    chat.on("attic", ToolCall("book", {"service_code": "ac-repair"}))

    brain = brain_from_settings()
    try:
        understood = hear(brain, "the thing in the attic quit", "service")
    finally:
        brain.close()

    assert isinstance(brain, LlmBrain)
    assert (brain.model, brain.timeout) == ("llama3.1:8b", 1.5)
    assert brain is brain_from_settings()  # one per configuration: connections are reused
    assert understood.service_type_id == BY_CODE["ac-repair"]
    assert chat.bodies()[0]["model"] == "llama3.1:8b"


@pytest.mark.parametrize(
    ("kind", "base_url", "message"),
    [("gpt", "http://x/v1", "VOICE_BRAIN must be rule or llm"), ("llm", "", "LLM_BASE_URL")],
)
def test_brain_from_settings_refuses_a_bad_configuration(
    settings, fresh_brains, kind, base_url, message
):
    settings.VOICE_BRAIN = kind
    settings.LLM_BASE_URL = base_url

    with pytest.raises(ImproperlyConfigured, match=message):
        brain_from_settings()


def test_voice_brain_check_accepts_the_defaults_and_an_llm():
    assert voice_brain_check(brain="rule", base_url="", timeout="4") == 4.0
    assert (
        voice_brain_check(brain="llm", base_url="http://127.0.0.1:11434/v1", timeout="2.5") == 2.5
    )


@pytest.mark.parametrize(
    ("brain", "base_url", "timeout", "message"),
    [
        ("gpt", "", "4", "VOICE_BRAIN must be rule or llm, got 'gpt'"),
        ("llm", "", "4", "VOICE_BRAIN=llm needs LLM_BASE_URL"),
        ("llm", "127.0.0.1:11434/v1", "4", "LLM_BASE_URL must be an http:// or https:// URL"),
        ("rule", "", "soon", "LLM_TIMEOUT_SECONDS must be a number"),
        ("rule", "", "0", "LLM_TIMEOUT_SECONDS must be a positive number"),
        ("rule", "", "-1", "LLM_TIMEOUT_SECONDS must be a positive number"),
        ("rule", "", "nan", "LLM_TIMEOUT_SECONDS must be a positive number"),
        ("rule", "", "inf", "LLM_TIMEOUT_SECONDS must be a positive number"),
    ],
)
def test_voice_brain_check_names_the_variable(brain, base_url, timeout, message):
    with pytest.raises(ConfigError, match=message):
        voice_brain_check(brain=brain, base_url=base_url, timeout=timeout)


def test_start_up_fails_for_an_llm_brain_without_a_base_url(tmp_path):
    result = run_manage("check", env={"DEBUG": "1", "VOICE_BRAIN": "llm"}, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "ConfigError: VOICE_BRAIN=llm needs LLM_BASE_URL" in result.stderr
