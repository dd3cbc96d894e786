"""The LLM brain: the same `Brain` protocol as `RuleBrain`, answered by any OpenAI-compatible
`POST {base}/chat/completions` endpoint (OpenAI, Ollama, vLLM, llama.cpp, LM Studio) through
function calling.

The model classifies; it never acts. It must answer each utterance with exactly one final tool
call: `book`, `transfer` or `interpret`. Before that it may ask for information, at most
`MAX_INFORMATION_ROUNDS` times: `lookup_caller`, `find_slots` and `lookup_price` are answered by
the `BrainTools`
object the dialogue passes in (which applies the privacy rules), or with
`{"error": "not available"}` when there is none.

Four rules keep a caller safe whatever the model does:

* the safety floor: the rule brain reads every utterance first; an emergency, a request for a
  person and any keypad entry are its answer, and the model is not even asked;
* free text the dialogue parses itself (names, addresses, verification answers) is read by the
  rules only, so it never leaves the server;
* price or balance: between the two, the rules decide, so "how much is a tune-up?" never reads
  a balance and "how much do I owe?" is never answered from the price book; and the model never
  says a price: the dialogue says the price book's (`bookings.voice.prices`);
* any failure (timeout, connection error, 5xx/429, 401, not JSON, no or unknown tool call,
  arguments outside the contract) falls back to the rule brain's answer with a warning in the
  log. The budget for one utterance, every round included, is `timeout` seconds.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from bookings.voice import lexicon
from bookings.voice.brain import (
    INTENTS,
    Brain,
    BrainTools,
    RuleBrain,
    Understanding,
    normalise,
)
from dispatchnode.core.http import HttpClient, ProviderError

logger = logging.getLogger(__name__)

FINAL_TOOLS = ("book", "transfer", "interpret")
INFORMATION_TOOLS = ("lookup_caller", "find_slots", "lookup_price")
MAX_INFORMATION_ROUNDS = 2
# A model that names a service through `book` is as sure as a synonym said verbatim is to the
# rule brain (0.85-0.95): above UNSURE, so the dialogue does not ask again.
BOOK_CONFIDENCE = 0.9
# Answers the dialogue parses itself; the rules read the yes/no in them.
RULES_ONLY = ("name", "address", "verification")
NOT_AVAILABLE = {"error": "not available"}

# What the agent just asked, as the system prompt says it.
ASKED = {
    "intent": "an open question: how can we help?",
    "service": "what the problem is, or which service they need",
    "yes_no": "a yes-or-no question",
    "slot_choice": "which of the offered times they want",
    "name": "their name",
    "address": "the service address",
    "verification": "a detail that proves who they are",
    "anything": "whether there is anything else we can do",
}


class BadAnswer(Exception):
    """The model answered, but not the way the tools' contract says."""


@dataclass(frozen=True)
class _Call:
    id: str
    name: str
    arguments: dict[str, Any]
    raw: dict[str, Any]  # as received (with its id), echoed back in the conversation


class LlmBrain:
    """Understands callers with a chat completions model; see the module docstring.

    One instance per configuration: it keeps an HTTP connection pool (`close()` releases it) and
    is safe to share between threads."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 4.0,
    ) -> None:
        self.model = model
        self.timeout = timeout
        self.rules = RuleBrain()
        self.client = HttpClient(
            provider="llm",
            label="Language model",
            base_url=base_url.rstrip("/") + "/",
            timeout=timeout,
            headers={"Authorization": f"Bearer {api_key}"} if api_key else None,
        )

    def close(self) -> None:
        self.client.close()

    def understand(
        self,
        *,
        text: str,
        digits: str = "",
        expecting: str,
        organization: Any = None,
        catalogue: Iterable[Any] = (),
        offered: Sequence[str] = (),
        tools: BrainTools | None = None,
    ) -> Understanding:
        """Interpret one answer, like `RuleBrain.understand`; `tools` answers the model's
        information requests. Never raises on what a caller says or on what the model does."""
        services = list(catalogue)
        offered = list(offered)
        floor = self.rules.understand(
            text=text,
            digits=digits,
            expecting=expecting,
            organization=organization,
            catalogue=services,
            offered=offered,
        )
        keys = "".join(ch for ch in (digits or "") if ch.isdigit() or ch in "*#")
        if (
            floor.intent == "person"
            or floor.emergency
            or floor.unserved
            or keys
            or expecting in RULES_ONLY
            or not normalise(text or "")
        ):
            return floor
        started = time.monotonic()
        try:
            understood = self._ask(
                words=(text or "").strip(),
                expecting=expecting,
                organization=organization,
                services=services,
                offered=offered,
                tools=tools,
                deadline=started + self.timeout,
            )
        except (ProviderError, BadAnswer) as exc:
            reason = exc.message if isinstance(exc, ProviderError) else str(exc)
            logger.warning(
                "llm brain for organization %s fell back to the rules (expecting %s) after "
                "%d ms: %s",
                getattr(organization, "id", None),
                expecting,
                round((time.monotonic() - started) * 1000),
                reason,
            )
            return floor
        if {understood.intent, floor.intent} == {"price", "billing"}:
            return floor  # a price is not a balance, nor a balance a price: the rules decide
        if understood.intent == "price" == floor.intent and understood.service_type_id is None:
            return floor  # the rules found the service the price is asked for
        return understood

    # --- the conversation with the model --------------------------------------------------

    def _ask(
        self,
        *,
        words: str,
        expecting: str,
        organization: Any,
        services: list[Any],
        offered: list[str],
        tools: BrainTools | None,
        deadline: float,
    ) -> Understanding:
        active = [s for s in services if getattr(s, "is_active", True)]
        by_code = {str(s.code): s.id for s in active}
        messages: list[dict[str, Any]] = [
            {
                "role": "system",
                "content": system_prompt(
                    organization=organization, expecting=expecting, services=active, offered=offered
                ),
            },
            {"role": "user", "content": words},
        ]
        asked_preference = ""
        for round_ in range(MAX_INFORMATION_ROUNDS + 1):
            last = round_ == MAX_INFORMATION_ROUNDS
            body = self._complete(messages, tool_specs(active, last=last), deadline=deadline)
            content, calls = _tool_calls(body)
            finals = [
                call
                for call in calls
                if call.name in FINAL_TOOLS
                or (call.name == "find_slots" and (expecting == "slot_choice" or last))
            ]
            if len(finals) > 1:
                raise BadAnswer(f"{len(finals)} final tool calls instead of one")
            if finals:
                return _final(
                    finals[0],
                    expecting=expecting,
                    by_code=by_code,
                    offered=offered,
                    asked_preference=asked_preference,
                    words=words,
                )
            if last:
                raise BadAnswer(
                    f"still asking for information after {MAX_INFORMATION_ROUNDS} rounds"
                )
            messages.append(
                {"role": "assistant", "content": content, "tool_calls": [c.raw for c in calls]}
            )
            for call in calls:
                if call.name == "find_slots":
                    asked_preference = _text(call.arguments, "preference")
                result = _inform(call, tools)
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call.id,
                        "content": json.dumps(result, default=str),
                    }
                )
        raise AssertionError("unreachable: the last round returns or raises")

    def _complete(
        self, messages: list[dict[str, Any]], specs: list[dict[str, Any]], *, deadline: float
    ) -> Any:
        """One chat completion within what is left of the utterance's budget."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BadAnswer(f"out of time ({self.timeout:g} s) before asking again")
        response = self.client.request(
            "POST",
            "chat/completions",
            json={
                "model": self.model,
                "temperature": 0,
                "messages": messages,
                "tools": specs,
                "tool_choice": "required",
            },
            timeout=remaining,
        )
        try:
            return json.loads(response.content)
        except ValueError as exc:
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise BadAnswer(f"the answer is not JSON ({kind})") from exc


# --- the prompt and the tools ----------------------------------------------------------------


def system_prompt(
    *, organization: Any, expecting: str, services: Sequence[Any], offered: Sequence[str]
) -> str:
    """Who the agent is, what it just asked, the catalogue and the offered times."""
    name = getattr(organization, "name", "") or "a home-services company"
    lines = [
        f"You are the phone receptionist for {name}, a home-services company. Each user message "
        "is what the caller just said, transcribed from speech.",
        f"You just asked: {ASKED[expecting]}",
        "Answer every message with exactly one call of book, transfer or interpret. Before it "
        "you may call lookup_caller (who is calling), find_slots (free times for a preference) "
        "or lookup_price (what the price book says about a price question).",
        "- book: the caller wants a visit (service_code from the catalogue below), or picks one "
        "of the offered times (choice: 1 is the first).",
        "- transfer: the caller wants to speak to a person.",
        "- interpret: anything else: yes, no, reschedule, cancel, billing, price, an emergency, "
        'or unclear (intent "unknown"). Use it for a plain yes or no.',
        '- intent "price": the caller asks what something costs ("how much is a tune-up?", '
        '"what\'s your service call fee?"), with the service_code it names. Intent "billing" '
        'is only the caller\'s own bill, balance or payment ("how much do I owe?").',
        "- find_slots, when choosing a time: the caller wants other times than those offered.",
        "A gas smell, carbon monoxide, flooding, sparks or a burning smell, or no heat in freezing "
        'weather is an emergency: interpret with intent "emergency" and its kind.',
        "Only classify: never invent a service code, a time or a price (the agent says the "
        "price book's prices).",
        "Services (code | name | category | kind | what callers say):",
    ]
    for service in services:
        synonyms = "; ".join(str(s) for s in (getattr(service, "spoken_synonyms", None) or ()))
        lines.append(
            f"- {service.code} | {service.name} | {getattr(service, 'category', '')} | "
            f"{getattr(service, 'kind', '')} | {synonyms}"
        )
    if offered:
        lines.append("Times just offered:")
        lines.extend(f"{n}. {label}" for n, label in enumerate(offered, start=1))
    return "\n".join(lines)


def _function(name: str, description: str, properties: dict[str, Any], required=()) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(required),
                "additionalProperties": False,
            },
        },
    }


def tool_specs(services: Sequence[Any], *, last: bool = False) -> list[dict[str, Any]]:
    """The tools offered to the model; in the `last` round, no more information but slots."""
    code: dict[str, Any] = {"type": "string", "description": "The catalogue code of the service."}
    codes = [str(s.code) for s in services]
    if codes:
        code["enum"] = codes
    choice = {"type": "integer", "minimum": 1, "description": "Offered time picked, 1 = first."}
    specs = [
        _function(
            "interpret",
            "What the caller meant, when it is not booking or a transfer.",
            {
                "intent": {"type": "string", "enum": list(INTENTS)},
                "service_code": code,
                "emergency": {"type": "string", "enum": ["", *lexicon.SAFETY_INSTRUCTIONS]},
                "choice": choice,
                "preference": {
                    "type": "string",
                    "description": "Other day or time the caller asks for, in their words.",
                },
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            },
            required=("intent", "confidence"),
        ),
        _function(
            "book",
            "The caller wants a visit for a service, or picks one of the offered times.",
            {"service_code": code, "choice": choice},
        ),
        _function(
            "transfer",
            "The caller wants to speak to a person.",
            {"reason": {"type": "string"}},
            required=("reason",),
        ),
        _function(
            "find_slots",
            "Free appointment times for the caller's preference (a day, a time of day).",
            {"preference": {"type": "string"}},
            required=("preference",),
        ),
    ]
    if not last:
        specs.append(
            _function(
                "lookup_caller",
                "Who is calling, as far as the privacy rules let us say: known or not, name.",
                {},
            )
        )
        specs.append(
            _function(
                "lookup_price",
                "What the price book says about a price question: found or not, the answer the "
                "agent will say, and the prices it is made of. Never a price of your own.",
                {"question": {"type": "string", "description": "The price question, as asked."}},
                required=("question",),
            )
        )
    return specs


# --- reading the model's answer ------------------------------------------------------------


def _tool_calls(body: Any) -> tuple[Any, list[_Call]]:
    """The assistant message's content and its tool calls with parsed arguments."""
    try:
        message = body["choices"][0]["message"]
        raw_calls = message.get("tool_calls") or []
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise BadAnswer("no choices[0].message in the answer") from exc
    if not isinstance(raw_calls, list) or not raw_calls:
        raise BadAnswer("no tool call in the answer")
    calls = []
    for n, raw in enumerate(raw_calls):
        try:
            function = raw["function"]
            name = function["name"]
            arguments = function.get("arguments") or "{}"
            if isinstance(arguments, str):
                arguments = json.loads(arguments)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise BadAnswer("a tool call that cannot be read") from exc
        if name not in FINAL_TOOLS + INFORMATION_TOOLS:
            raise BadAnswer(f"unknown tool {str(name)[:40]!r}")
        if not isinstance(arguments, dict):
            raise BadAnswer(f"{name} arguments are not an object")
        call_id = str(raw.get("id") or f"call_{n}")  # some local servers send none
        calls.append(_Call(id=call_id, name=name, arguments=arguments, raw={**raw, "id": call_id}))
    return message.get("content"), calls


def _inform(call: _Call, tools: BrainTools | None) -> Any:
    if tools is None:
        return NOT_AVAILABLE
    if call.name == "lookup_caller":
        return tools.lookup_caller()
    if call.name == "lookup_price":
        lookup = getattr(tools, "lookup_price", None)
        return lookup(_text(call.arguments, "question")) if lookup else NOT_AVAILABLE
    preference = _text(call.arguments, "preference")
    return {"preference": preference, "slots": list(tools.find_slots(preference))}


def _final(
    call: _Call,
    *,
    expecting: str,
    by_code: dict[str, int],
    offered: list[str],
    asked_preference: str,
    words: str,
) -> Understanding:
    args = call.arguments
    if call.name == "transfer":
        return Understanding(intent="person", words=words)
    if call.name == "find_slots":
        intent = "no" if expecting == "slot_choice" else "book"
        return Understanding(intent=intent, preference_text=_text(args, "preference"), words=words)
    if call.name == "book":
        if expecting == "slot_choice":
            if args.get("choice") is None:
                raise BadAnswer("book without a choice while the caller chooses a time")
            return Understanding(intent="yes", choice=_choice(args, offered), words=words)
        service_id = _service_id(args, by_code)
        return Understanding(
            intent="book",
            service_type_id=service_id,
            service_confidence=BOOK_CONFIDENCE if service_id is not None else 0.0,
            preference_text=asked_preference,
            words=words,
        )
    # interpret
    intent = args.get("intent")
    if intent not in INTENTS:
        raise BadAnswer(f"intent {str(intent)[:40]!r} is not one of INTENTS")
    emergency = _text(args, "emergency")
    if emergency and emergency not in lexicon.SAFETY_INSTRUCTIONS:
        raise BadAnswer(f"unknown emergency {emergency[:40]!r}")
    if emergency:
        intent = "emergency"
    confidence = args.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise BadAnswer("interpret without a numeric confidence")
    service_id = _service_id(args, by_code)
    choice = _choice(args, offered) if args.get("choice") is not None else None
    preference = _text(args, "preference")
    if not preference and intent in ("book", "reschedule"):
        preference = asked_preference
    return Understanding(
        intent=intent,
        service_type_id=service_id,
        service_confidence=max(0.0, min(1.0, float(confidence))) if service_id else 0.0,
        emergency=emergency,
        choice=choice,
        preference_text=preference,
        words=words,
    )


def _text(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadAnswer(f"{key} is not a string")
    return value.strip()


def _service_id(args: dict[str, Any], by_code: dict[str, int]) -> int | None:
    code = _text(args, "service_code")
    if not code:
        return None
    if code not in by_code:
        raise BadAnswer(f"unknown service code {code[:60]!r}")
    return by_code[code]


def _choice(args: dict[str, Any], offered: list[str]) -> int:
    """The 1-based `choice` as an index into `offered`."""
    value = args.get("choice")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadAnswer("choice is not a whole number")
    if not 1 <= value <= len(offered):
        raise BadAnswer(f"choice {value} is not one of the {len(offered)} times offered")
    return value - 1


# --- configuration ---------------------------------------------------------------------------


def brain_from_settings() -> Brain:
    """The brain named by `settings.VOICE_BRAIN`: "rule" or "llm" (LLM_BASE_URL, LLM_API_KEY,
    LLM_MODEL, LLM_TIMEOUT_SECONDS). One per configuration and process, so connections are
    reused from call to call."""
    return _configured_brain(
        settings.VOICE_BRAIN,
        settings.LLM_BASE_URL,
        settings.LLM_MODEL,
        settings.LLM_API_KEY,
        float(settings.LLM_TIMEOUT_SECONDS),
    )


@lru_cache(maxsize=8)
def _configured_brain(kind: str, base_url: str, model: str, api_key: str, timeout: float) -> Brain:
    if kind == "rule":
        return RuleBrain()
    if kind == "llm":
        if not base_url:
            raise ImproperlyConfigured("VOICE_BRAIN=llm needs LLM_BASE_URL")
        return LlmBrain(base_url=base_url, model=model, api_key=api_key, timeout=timeout)
    raise ImproperlyConfigured(f"VOICE_BRAIN must be rule or llm, got {kind!r}")
