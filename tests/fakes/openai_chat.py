"""A local fake of an OpenAI-compatible chat completions API, for the LLM brain's tests.

`POST /v1/chat/completions` answers in the public response shape (`chat.completion` with
`choices[0].message.tool_calls`, `finish_reason: "tool_calls"`, `usage`), checks what the real
API checks and a brain could get wrong (a bearer key when one is configured, the request body,
a `tool` message answering every earlier tool call, in OpenAI's error shape), and keeps every
tool result it was sent in `tool_results`.

Its "model" is a small deterministic script. Tests register what it does when the caller's words
contain a phrase:

    chat.on("the attic", ToolCall("interpret", {"intent": "book", "confidence": 0.8}))
    chat.on("friday", ToolCall("book", {}), first=[ToolCall("find_slots", {"preference": "fri"})])
    chat.on("hello", "Hello! How can I help?")   # a plain text answer, no tool call
    chat.on("both", (ToolCall("book", {}), ToolCall("transfer", {"reason": "x"})))  # parallel

With `first`, the model asks for information, one call per round, and gives its final answer only
after the conversation carries a `tool` message for each of those calls. Arguments given as a
string are sent verbatim (to send malformed JSON). Anything unregistered gets a keyword heuristic.
The misbehaviours of `LocalHttpServer` (`fail("slow")`, `fail("html")`, ...) work as everywhere.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.geocoders import LocalHttpServer, Reply, SeenRequest


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)


# One turn of the model: a tool call, several in parallel, or a plain text answer.
Step = ToolCall | tuple[ToolCall, ...] | str


@dataclass(frozen=True)
class Script:
    final: Step
    first: tuple[Step, ...] = ()


def openai_error(message: str, *, status: int, kind: str, code: str | None = None) -> Reply:
    return Reply.json(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}, status=status
    )


class FakeOpenAIChat(LocalHttpServer):
    path = "/v1/chat/completions"

    def __init__(self, *, api_key: str = "") -> None:
        super().__init__()
        self.api_key = api_key
        self.scripts: list[tuple[str, Script]] = []
        self.tool_results: list[dict[str, Any]] = []  # {"name", "tool_call_id", "content"}
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        """What LLM_BASE_URL would be for this server."""
        return self.url + "/v1"

    def on(self, said: str, final: Step, *, first: list[Step] | tuple[Step, ...] = ()) -> None:
        """When the caller's words contain `said` (any case), call `first` then answer `final`."""
        self.scripts.append((said.lower(), Script(final, tuple(first))))

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of every request received, in order."""
        return [json.loads(seen.body) for seen in self.requests]

    # --- the API ---------------------------------------------------------------------------

    def answer(self, request: SeenRequest) -> Reply:
        if request.method != "POST" or request.path != self.path:
            return openai_error(
                f"Invalid URL ({request.method} {request.path})",
                status=404,
                kind="invalid_request_error",
            )
        refused = self._authenticate(request.headers.get("authorization", ""))
        if refused is not None:
            return refused
        try:
            body = json.loads(request.body)
        except ValueError:
            return openai_error(
                "We could not parse the JSON body of your request.",
                status=400,
                kind="invalid_request_error",
            )
        invalid = self._invalid(body)
        if invalid is not None:
            return openai_error(invalid, status=400, kind="invalid_request_error")
        messages = body["messages"]
        self._record_tool_results(messages)
        last_user = max(i for i, m in enumerate(messages) if m.get("role") == "user")
        said = str(messages[last_user].get("content") or "")
        rounds = sum(1 for m in messages[last_user:] if m.get("role") == "assistant")
        script = self._script(said)
        step = script.first[rounds] if rounds < len(script.first) else script.final
        return Reply.json(self._completion(body, step))

    def _authenticate(self, header: str) -> Reply | None:
        if not self.api_key:
            return None
        if not header:
            return openai_error(
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                status=401,
                kind="invalid_request_error",
            )
        if header != f"Bearer {self.api_key}":
            given = header.removeprefix("Bearer ")
            return openai_error(
                f"Incorrect API key provided: {given[:3]}***{given[-4:]}.",
                status=401,
                kind="invalid_request_error",
                code="invalid_api_key",
            )
        return None

    @staticmethod
    def _invalid(body: Any) -> str | None:
        """What the real API would refuse with a 400, for the mistakes a client can make."""
        if not isinstance(body, dict):
            return "Invalid request body: expected an object."
        if not body.get("model"):
            return "you must provide a model parameter"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "Invalid 'messages': empty array. Expected an array with minimum length 1."
        if not any(m.get("role") == "user" for m in messages):
            return "Invalid 'messages': a user message is required."
        pending: list[str] = []
        for message in messages:
            role = message.get("role")
            if role == "tool":
                call_id = message.get("tool_call_id")
                if call_id not in pending:
                    return (
                        "Invalid parameter: messages with role 'tool' must be a response to a "
                        "preceeding message with 'tool_calls'."
                    )
                pending.remove(call_id)
                continue
            if pending:
                return (
                    "An assistant message with 'tool_calls' must be followed by tool messages "
                    "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                    f"response messages: {', '.join(pending)}"
                )
            if role == "assistant":
                pending = [call["id"] for call in message.get("tool_calls") or []]
        if pending:
            return f"tool_call_ids did not have response messages: {', '.join(pending)}"
        for tool in body.get("tools") or []:
            if tool.get("type") != "function" or not tool.get("function", {}).get("name"):
                return "Invalid 'tools': each tool must be a function with a name."
        return None

    def _record_tool_results(self, messages: list[dict[str, Any]]) -> None:
        """The tool messages that answer the latest assistant turn (the new ones)."""
        names = {}
        for message in messages:
            for call in message.get("tool_calls") or []:
                names[call["id"]] = call["function"]["name"]
        trailing = list(itertools.takewhile(lambda m: m.get("role") == "tool", reversed(messages)))
        for message in reversed(trailing):
            self.tool_results.append(
                {
                    "name": names[message["tool_call_id"]],
                    "tool_call_id": message["tool_call_id"],
                    "content": json.loads(message["content"]),
                }
            )

    def _script(self, said: str) -> Script:
        lowered = said.lower()
        for phrase, script in self.scripts:
            if phrase in lowered:
                return script
        return Script(heuristic(lowered))

    def _completion(self, body: dict[str, Any], step: Step) -> dict[str, Any]:
        number = next(self._ids)
        if isinstance(step, str):
            message: dict[str, Any] = {"role": "assistant", "content": step}
            finish = "stop"
        else:
            calls = step if isinstance(step, tuple) else (step,)
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_{number:020x}{n:04x}",
                        "type": "function",
                        "function": {
                            "name": call.name,
                            "arguments": call.arguments
                            if isinstance(call.arguments, str)
                            else json.dumps(call.arguments),
                        },
                    }
                    for n, call in enumerate(calls)
                ],
            }
            finish = "tool_calls"
        message.update({"refusal": None, "annotations": []})
        prompt_tokens = len(json.dumps(body["messages"])) // 4
        completion_tokens = len(json.dumps(message)) // 4
        return {
            "id": f"chatcmpl-fake{number:020d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_fake",
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


def heuristic(said: str) -> ToolCall:
    """The fake model's own reading when no script matches: a few keywords, nothing clever."""

    def has(*words: str) -> bool:
        return any(re.search(rf"\b{re.escape(w)}\b", said) for w in words)

    if has("person", "human", "representative", "operator"):
        return ToolCall("transfer", {"reason": "asked for a person"})
    if has("cancel"):
        return ToolCall("interpret", {"intent": "cancel", "confidence": 0.9})
    if has("bill", "invoice", "charged"):
        return ToolCall("interpret", {"intent": "billing", "confidence": 0.9})
    if has("no", "nope"):
        return ToolCall("interpret", {"intent": "no", "confidence": 0.9})
    if has("yes", "yeah", "sure"):
        return ToolCall("interpret", {"intent": "yes", "confidence": 0.9})
    if has("book", "schedule", "broken", "repair", "leak", "leaking"):
        return ToolCall("book", {})
    return ToolCall("interpret", {"intent": "unknown", "confidence": 0.2})
