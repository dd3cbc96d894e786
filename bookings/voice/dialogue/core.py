"""The dialogue's core: a turn's entry points (`understand_ahead`, `respond`), what the caller
meant, and the moves every stage makes (ask, ask again, transfer, disclose, note an action)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

from bookings.models import CallSession, ServiceType
from bookings.voice import selectors, twiml
from bookings.voice.brain import Brain, RuleBrain, Understanding
from bookings.voice.context import CallerContext
from bookings.voice.dialogue.helpers import (
    HeardBrain,
    _DialogueTools,
    _last_sentence,
    _not_heard,
)
from bookings.voice.dialogue.memory import DialogueMemory
from bookings.voice.dialogue.states import (
    FINAL_STATES,
    HELP_PROMPT,
    HINTS,
    MAX_REPROMPTS,
    handlers_check,
    state_of,
)
from dispatchnode.accounts.models import Organization
from dispatchnode.core.phones import InvalidPhoneNumber, phone_to_e164


def brain_for_calls() -> Brain:
    """The brain the settings choose (`VOICE_BRAIN`): the rule brain unless an LLM is set up."""
    if getattr(settings, "VOICE_BRAIN", "rule") == "rule":
        return RuleBrain()
    from bookings.voice.llm_brain import brain_from_settings

    return brain_from_settings()


class DialogueCore:
    """What every stage stands on: the call, its memory, the brain, and the shared moves."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers_check(cls)  # the class answers every state of the table, and no other

    def __init__(
        self, call: CallSession, *, brain: Brain | None = None, now: dt.datetime | None = None
    ) -> None:
        self.call = call
        self.organization: Organization = call.organization
        self.memory = DialogueMemory.from_dict(call.context.get("dialogue"))
        self._brain = brain
        self.now = now or timezone.now()
        self.tz = self.organization.tzinfo
        self._catalogue: list[ServiceType] | None = None

    def understand_ahead(
        self, *, speech_text: str, digits: str, confidence: float | None
    ) -> HeardBrain:
        """Ask the brain now everything `respond` will ask it about this answer, and return the
        answers as a brain for the `Dialogue` that responds. Reads only: the webhook calls this
        outside any transaction, because an LLM brain may think for seconds."""
        heard = HeardBrain(self.brain)
        self._brain = heard
        text = (speech_text or "").strip()
        keys = (digits or "").strip()
        state = self.call.state
        if state in FINAL_STATES or _not_heard(text, keys, confidence):
            return heard
        first = self._understand(text, keys, state)
        handled = first.intent != "person" and not first.emergency
        if state == "verify" and handled and self._verify_asks_need(text, keys):
            self._understand(text, keys, "need")
        return heard

    def greet(self, *, context: CallerContext | None, full: bool) -> str:
        """The first thing the caller hears (see `GreetingStage._greet`)."""
        try:
            return self._greet(context=context, full=full)
        finally:
            self._memory_store()

    def respond(self, *, speech_text: str, digits: str, confidence: float | None) -> str:
        """The answer to what the caller said or keyed in the current state."""
        try:
            return self._respond(speech_text=speech_text, digits=digits, confidence=confidence)
        finally:
            self._memory_store()

    def _memory_store(self) -> None:
        """The working memory written back into the call row, as plain JSON (the turn saves
        the row)."""
        self.call.context["dialogue"] = self.memory.to_dict()

    def _respond(self, *, speech_text: str, digits: str, confidence: float | None) -> str:
        text = (speech_text or "").strip()
        keys = (digits or "").strip()
        state = self.call.state
        if state in FINAL_STATES:
            return twiml.goodbye(text="Thank you for calling. Goodbye.")
        heard_nothing = not text and not keys
        if _not_heard(text, keys, confidence):
            self._intent("no_input" if heard_nothing else "unintelligible")
            if state == "anything":
                return self._goodbye()
            return self._again("Sorry, I didn't catch that.", reason="no input or unclear speech")
        understanding = self._understand(text, keys, state)
        self._intent(understanding.intent)
        if understanding.intent == "person":
            return self._transfer(
                "Of course. Connecting you with our office now.", reason="caller asked for a person"
            )
        if understanding.emergency:
            return self._emergency(understanding)
        if understanding.intent == "price":
            return self._price(understanding, text)
        handler = getattr(self, state_of(state).handler)
        return handler(understanding, text, keys)

    # --- understanding ---------------------------------------------------------------------

    @property
    def brain(self) -> Brain:
        if self._brain is None:
            self._brain = brain_for_calls()
        return self._brain

    @property
    def catalogue(self) -> list[ServiceType]:
        if self._catalogue is None:
            self._catalogue = selectors.call_catalogue(organization=self.organization)
        return self._catalogue

    def _understand(self, text: str, keys: str, state: str) -> Understanding:
        offered = [o["label"] for o in self.memory.offered] if state == "choose" else []
        return self.brain.understand(
            text=text,
            digits=keys,
            expecting=state_of(state).expecting,
            organization=self.organization,
            catalogue=self.catalogue,
            offered=offered,
            tools=_DialogueTools(self),
        )

    def _intent(self, intent: str) -> None:
        self.call.context["turn_intent"] = intent

    # --- shared moves -----------------------------------------------------------------------

    def _ask(self, text: str, *, state: str, question: str | None) -> str:
        call = self.call
        state_of(state)  # only a state of the table is asked in
        if state != call.state:
            self.memory.misses = 0
        call.state = state
        self.memory.question = question or _last_sentence(text)
        return twiml.ask(
            text=text, call_sid=call.call_sid, turn=self._next_turn(), hints=HINTS.get(state, ())
        )

    def _again(
        self,
        sorry: str,
        *,
        question: str | None = None,
        reason: str = "caller not understood",
        count_towards_transfer: bool = True,
    ) -> str:
        """Ask the current question again; after too many misses, hand over to a person."""
        misses = self.memory.misses + 1
        self.memory.misses = misses
        if count_towards_transfer and misses > MAX_REPROMPTS:
            return self._transfer(
                "I'm sorry, I'm having trouble understanding. "
                "Let me connect you with someone in our office.",
                reason=reason,
            )
        if question is None and self.call.state == "choose":
            return self._repeat_offer(sorry)
        question = question or self.memory.question or HELP_PROMPT
        repeated = sorry.rstrip().lower().endswith(question.lower())
        text = sorry if repeated else f"{sorry} {question}"
        self.memory.question = question
        return twiml.ask(
            text=text,
            call_sid=self.call.call_sid,
            turn=self._next_turn(),
            hints=HINTS.get(self.call.state, ()),
        )

    def _repeat_offer(self, sorry: str) -> str:
        labels = [o["label"] for o in self.memory.offered]
        listed = ", or ".join(labels)
        return twiml.ask(
            text=f"{sorry} I have {listed}. Which works best for you?",
            call_sid=self.call.call_sid,
            turn=self._next_turn(),
            hints=HINTS["choose"],
        )

    def _transfer(self, text: str, *, reason: str, number: str = "") -> str:
        """Hand the caller to a person (the office unless `number`), or to voicemail when there
        is nobody to ring."""
        call = self.call
        number = number or self.organization.office_phone
        if number:
            call.state = "transferred"
            if call.outcome not in (CallSession.Outcome.BOOKED, CallSession.Outcome.RESCHEDULED):
                call.outcome = CallSession.Outcome.TRANSFERRED
                call.outcome_reason = reason[:300]
            return twiml.transfer(text=text, number=number)
        call.state = "voicemail"
        if not call.outcome:
            call.outcome = CallSession.Outcome.NO_BOOKING
            call.outcome_reason = f"{reason}; voicemail offered (no office phone)"[:300]
        self._action("Listen to the voicemail and call back")
        return twiml.voicemail(
            text="Nobody from our office can take your call right now. "
            "Please leave your name, number and what you need after the tone, "
            "and we will call you back."
        )

    def _disclose(self, what: list[str], *, why: str) -> None:
        self.call.disclosures.append(
            {
                "turn": int(self.call.context.get("webhook", {}).get("turn", 0)),
                "what": what,
                "why": why,
                "at": timezone.now().isoformat(),
            }
        )

    def _action(self, item: str) -> None:
        if item not in self.call.action_items:
            self.call.action_items = [*self.call.action_items, item]

    def _next_turn(self) -> int:
        return int(self.call.context.get("webhook", {}).get("turn", 0)) + 1

    def _caller_phone(self) -> str:
        try:
            return phone_to_e164(self.call.from_number, region=self.organization.country or "US")
        except InvalidPhoneNumber:
            return ""
