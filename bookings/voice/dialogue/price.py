"""Price questions: answered from the price book (`bookings.voice.prices`) in whatever state the
call is, then back to the booking: "Would you like me to book that?" at the start of a call, the
same offer of times again while choosing one, the open question again anywhere else."""

from __future__ import annotations

from bookings.voice import prices
from bookings.voice.brain import Understanding
from bookings.voice.dialogue.helpers import _service_spoken
from bookings.voice.dialogue.states import DESCRIBE_PROMPT

# States where a price question starts something: the answer offers to book what was priced.
OFFERING_STATES = frozenset({"start", "need", "describe", "price_offer"})
BOOK_IT = "Would you like me to book that?"
BOOK_A_VISIT = "Would you like me to book a visit?"
ANYTHING_ELSE = "Is there anything else I can do for you?"
MAX_PRICE_NOTES = 5


class PriceStage:
    """Price questions."""

    def _price(self, u: Understanding, text: str) -> str:
        """Answer a price question (intent "price") and carry on with the call."""
        memory = self.memory
        if u.unserved:
            return self._unserved(u, text)
        answer = prices.price_answer(
            organization=self.organization,
            catalogue=self.catalogue,
            words=text,
            service_type_id=u.service_type_id,
            service_confidence=u.service_confidence,
            current_service=self.service_chosen(),
        )
        memory.wanted = memory.wanted or "price"
        self._price_note(answer)
        state = self.call.state
        if answer.asked_nothing:
            if state in OFFERING_STATES or state == "anything":
                memory.price_asked = True
                return self._ask(answer.text, state="need", question=answer.text)
            return self._resume(prices.NO_QUOTE)
        if state == "choose" and memory.offered:
            labels = ", or ".join(o["label"] for o in memory.offered)
            question = "Which of those times works for you?"
            return self._ask(
                f"{answer.text} I have {labels}. {question}", state="choose", question=question
            )
        if state == "anything":
            return self._ask(f"{answer.text} {ANYTHING_ELSE}", state="anything", question=None)
        if state not in OFFERING_STATES:
            if state == "confirm_location" and answer.service_type_ids:
                memory.price_service_ids = list(answer.service_type_ids)
                memory.price_confidence = answer.service_confidence
            return self._resume(answer.text)
        memory.price_service_ids = list(answer.service_type_ids)
        memory.price_confidence = answer.service_confidence
        question = BOOK_IT if answer.found and answer.service_type_ids else BOOK_A_VISIT
        return self._ask(f"{answer.text} {question}", state="price_offer", question=question)

    def _resume(self, said: str) -> str:
        """The answer, then the question the caller was asked, in the same state."""
        question = self.memory.question
        return self._ask(f"{said} {question}".strip(), state=self.call.state, question=question)

    def _price_note(self, answer: prices.PriceAnswer) -> None:
        """What was quoted, for the call's summary ("AC tune-up $129")."""
        notes = self.memory.prices_said
        for quote in answer.quotes:
            note = f"{prices.spoken_name(quote.name)} {prices.amount_spoken(quote)}"
            if note not in notes:
                notes.append(note)
        if not answer.found and not answer.asked_nothing and "no price quoted" not in notes:
            notes.append("no price quoted")
        del notes[:-MAX_PRICE_NOTES]

    def _on_price_offer(self, u: Understanding, text: str, keys: str) -> str:
        memory = self.memory
        wanted, memory.price_service_ids = memory.price_service_ids, []
        memory.price_confidence = 0.0
        if u.intent == "yes" or (u.intent == "book" and u.service_type_id is None):
            return self._book_priced(wanted)
        if u.intent == "no":
            return self._ask(f"Okay. {ANYTHING_ELSE}", state="anything", question=ANYTHING_ELSE)
        return self._on_need(u, text, keys)

    def _book_priced(self, wanted: list[int]) -> str:
        """Book what was just priced: the service (asked which when the price named two), or
        ask what's going on when no service was priced."""
        memory = self.memory
        services = [s for s in (self._service(pk) for pk in wanted) if s is not None]
        if not services:
            return self._ask(DESCRIBE_PROMPT, state="describe", question=DESCRIBE_PROMPT)
        if len(services) > 1:
            # "A tune-up": the AC's or the furnace's. Asked once; "no" is the other one.
            memory.clarified = True
            memory.candidate_service_id = services[0].pk
            memory.price_alternative_id = services[1].pk
            question = (
                f"Just so I send the right technician: is this for {_service_spoken(services[0])}?"
            )
            return self._ask(question, state="clarify", question=question)
        return self._service_heard(
            Understanding(intent="book", service_type_id=services[0].pk, service_confidence=1.0),
            "",
        )
