"""Pure helpers of the dialogue: the brain's answers asked ahead, the tools an LLM brain may call,
and small readers of what the caller said."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from bookings.availability import Slot, slots_find
from bookings.models import ServiceType
from bookings.preferences import Preference, preference_parse
from bookings.voice import prices, selectors, speech
from bookings.voice.brain import Brain, RuleBrain, Understanding
from bookings.voice.dialogue.memory import Offer
from bookings.voice.dialogue.states import (
    MIN_CONFIDENCE,
    SLOTS_OFFERED,
)

if TYPE_CHECKING:
    from bookings.voice.dialogue import Dialogue


_HOURS_QUESTION = re.compile(
    r"\b(?:hours|when (?:are|do) you (?:open|close)|what time do you (?:open|close)|"
    r"are you open)\b",
    re.IGNORECASE,
)
# "The afternoon one", "Friday works", "I'll take Monday": a pick, not a question.
_PICKS = re.compile(r"\b(?:one|works?|take|book|sounds|fine|good|perfect)\b", re.IGNORECASE)


class HeardBrain:
    """A brain's answers for one utterance, asked ahead (`Dialogue.understand_ahead`) and
    given again to the dialogue that responds to it. A question not asked ahead goes to the
    brain then (correct, only slower)."""

    def __init__(self, brain: Brain) -> None:
        self.brain = brain
        self.answers: dict[tuple, Understanding] = {}

    def understand(
        self,
        *,
        text: str,
        digits: str = "",
        expecting: str,
        organization: Any,
        catalogue: Any,
        offered: Any = (),
        tools: Any = None,
    ) -> Understanding:
        key = (text, digits, expecting, tuple(offered))
        if key not in self.answers:
            self.answers[key] = self.brain.understand(
                text=text,
                digits=digits,
                expecting=expecting,
                organization=organization,
                catalogue=catalogue,
                offered=offered,
                tools=tools,
            )
        return self.answers[key]


def _not_heard(text: str, keys: str, confidence: float | None) -> bool:
    """Silence, or speech the recogniser was not sure of: asked again, never interpreted."""
    unclear = bool(text) and not keys and confidence is not None and confidence < MIN_CONFIDENCE
    return (not text and not keys) or unclear


def _asks_for_code(text: str, keys: str) -> bool:
    said = f"{text} {keys}".lower()
    return "code" in said and re.search(r"\b(text|send|sms|message)\b", said) is not None


class _DialogueTools:
    """What an LLM brain may look up, through the same services and privacy rules."""

    def __init__(self, dialogue: Dialogue) -> None:
        self.dialogue = dialogue

    def lookup_caller(self) -> dict:
        dialogue = self.dialogue
        memory = dialogue.memory
        if not dialogue._may_disclose():
            first = memory.first_name
            return {"first_name": first} if first and not memory.unverified else {}
        context = dialogue._context()
        if context is None:
            return {}
        return {
            "first_name": context.first_name,
            "locations": [loc.spoken for loc in context.locations],
            "equipment": [e.spoken_kind for e in context.equipment],
            "upcoming": [
                speech.window_spoken(
                    (a.window_start or a.start).astimezone(dialogue.tz),
                    (a.window_end or a.start).astimezone(dialogue.tz),
                    today=dialogue.now.astimezone(dialogue.tz).date(),
                )
                for a in context.upcoming
            ],
        }

    def lookup_price(self, question: str) -> dict:
        """What the agent would say to the price question, from the price book: the model
        sees the price book's answer, never a number to repeat on its own."""
        dialogue = self.dialogue
        heard = RuleBrain().understand(  # which service it names, read like any need
            text=question,
            expecting="intent",
            organization=dialogue.organization,
            catalogue=dialogue.catalogue,
        )
        answer = prices.price_answer(
            organization=dialogue.organization,
            catalogue=dialogue.catalogue,
            words=question,
            service_type_id=heard.service_type_id,
            service_confidence=heard.service_confidence,
            current_service=dialogue.service_chosen(),
        )
        return {
            "found": answer.found,
            "answer": answer.text,
            "prices": [
                {
                    "name": prices.spoken_name(q.name),
                    "price": str(q.price),
                    "currency": q.currency,
                    "unit": q.unit,
                    "flat_rate": q.flat_rate,
                    "diagnostic_fee": q.diagnostic,
                }
                for q in answer.quotes
            ],
        }

    def find_slots(self, preference: str) -> list[str]:
        dialogue = self.dialogue
        job_id = dialogue.memory.job_id
        job = (
            selectors.call_job_get(organization=dialogue.organization, pk=job_id)
            if job_id
            else None
        )
        if job is None:
            return []
        parsed = (
            preference_parse(preference, now=dialogue.now, tz=dialogue.tz) if preference else None
        )
        slots = slots_find(
            organization=dialogue.organization,
            job=job,
            count=SLOTS_OFFERED,
            preference=parsed,
            now=dialogue.now,
        )
        return [dialogue._label(slot) for slot in slots]


def _fits(preference: Preference, offer: Offer, *, tz) -> bool:
    """Whether an offered slot is what the caller just asked for ("Friday", "the afternoon")."""
    start = dt.datetime.fromisoformat(offer["start"]).astimezone(tz)
    if preference.dates is not None and start.date() not in preference.dates:
        return False
    if preference.weekdays is not None and start.weekday() not in preference.weekdays:
        return False
    if preference.after is not None and start.time() < preference.after:
        return False
    return not (preference.before is not None and start.time() >= preference.before)


def _ordinals(n: int) -> str:
    words = ["the first", "the second", "the third", "the fourth", "the fifth"][:n]
    return ", ".join(words[:-1]) + f" or {words[-1]}"


def _offer_dict(slot: Slot, label: str) -> Offer:
    return {"technician": slot.technician_id, "start": slot.start.isoformat(), "label": label}


def _service_spoken(service: ServiceType) -> str:
    """ "Furnace tune-up" -> "a furnace tune-up"; an acronym stays ("an AC tune-up")."""
    name = service.name
    first = name.split()[0] if name.split() else name
    if not (len(first) > 1 and first[:2].isupper()):
        name = name[:1].lower() + name[1:]
    article = "an" if name[:1].lower() in "aeio" or first in ("AC", "HVAC", "EV") else "a"
    return f"{article} {name}"


def _as_said(upper: str, said: str) -> str:
    """A parsed (upper-case) name part in the caller's own spelling when it is there."""
    if not upper:
        return ""
    words = upper.split()
    found = []
    for word in words:
        match = re.search(rf"\b{re.escape(word)}\b", said, flags=re.IGNORECASE)
        text = match.group(0) if match else word
        found.append(text if not text.isupper() and not text.islower() else text.title())
    return " ".join(found)


def _last_sentence(text: str) -> str:
    parts = [p.strip() for p in re.split(r"(?<=[.?!])\s+", text.strip()) if p.strip()]
    return parts[-1] if parts else text
