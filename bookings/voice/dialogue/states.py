"""The dialogue's states, read first: the table `STATES` lists every state the agent listens in,
the stage method that answers the caller in it, what it expects from the caller (for the brain)
and what the speech recogniser should favour; then the prompts and limits the stages share.

Dispatch is by the table only: a call in a state it does not list is an error (`UnknownState`),
and the dialogue class is checked against it when it is created (`handlers_check`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bookings.voice.brain import EXPECTING as BRAIN_EXPECTING

# Below this Twilio speech confidence an utterance is treated as not understood.
MIN_CONFIDENCE = 0.1
# Silence or unintelligible speech is asked again this many times, then a person is offered.
MAX_REPROMPTS = 2
# Wrong ZIP/street or code answers before the caller is treated as unverified.
MAX_VERIFY_ATTEMPTS = 2
SLOTS_OFFERED = 3
FINAL_STATES = frozenset({"transferred", "voicemail", "ended"})
STIR_ATTESTED_A = "TN-Validation-Passed-A"

HELP_PROMPT = (
    "I can book, reschedule or cancel a visit, help with a billing question, "
    "or connect you with our office. What can I help you with today?"
)
NEED_PROMPT = "What can I help you with today?"
DESCRIBE_PROMPT = "Sure, I can get that booked. Can you describe what's going on?"
NAME_PROMPT = "I can help with that. Can I have your first and last name, please?"
ADDRESS_AGAIN = (
    "Sorry, I didn't get the street address. Please say the house number and street, "
    "and the ZIP code."
)
CALLBACK_ASK = "What's the best number to reach you?"
# The call-back offers: when no time suited the caller, and for what the company does not do.
TIME_CALLBACK_ASK = "Would you like someone from our office to call you back to find a time?"
UNSERVED_CALLBACK_ASK = "Would you like someone from our office to call you back about it?"
# Where the search goes on when a caller declines the first offers and names no other day.
LATER_OFFSET = dt.timedelta(days=7)
PERSON_OFFER = "If you'd rather speak with someone in our office at any point, just say so."

# --- The state table ---------------------------------------------------------------------------


class UnknownState(LookupError):
    """A call in a state the table does not list: a bug (a typo in a stage, or a stored call from
    a version with a state since removed), never something a caller can cause."""

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(
            f"unknown dialogue state {state!r}: every state the agent listens in is a row of "
            "STATES in bookings/voice/dialogue/states.py"
        )


class StateTableError(TypeError):
    """The state table and the dialogue's handlers disagree (raised at import)."""


@dataclass(frozen=True)
class State:
    """One row of the table: how the agent listens in a state."""

    handler: str  # the stage method that answers the caller: (understanding, text, keys) -> TwiML
    expecting: str = "intent"  # what the brain is told the agent asked (one of brain.EXPECTING)
    hints: tuple[str, ...] = ()  # what the speech recogniser should favour


# Every state the agent listens in, in the order a call meets them, with its handler. The final
# states (FINAL_STATES) listen to nothing: the call is over.
STATES: dict[str, State] = {
    # The row's default, before the greeting is stored: served like "need".
    "start": State("_on_need"),
    # Greeting and verification (greeting.py).
    "verify": State("_on_verify", "verification", ("zip code", "text me a code")),
    "verify_code": State("_on_verify_code", "verification", ("one two three four",)),
    "confirm_location": State(
        "_on_confirm_location", "yes_no", ("same place", "different address")
    ),
    # Need and triage (need.py).
    "need": State(
        "_on_need",
        "intent",
        ("air conditioner", "furnace", "water heater", "leak", "drain", "breaker", "outlet"),
    ),
    "describe": State(
        "_on_describe", "service", ("not cooling", "no heat", "leaking", "clogged", "tripping")
    ),
    "clarify": State("_on_clarify", "yes_no"),
    # A price was said (price.py): "Would you like me to book that?"
    "price_offer": State("_on_price_offer", "yes_no", ("yes please", "no thanks")),
    # A new caller's name, address and number (contact.py).
    "name": State("_on_name", "name"),
    "last_name": State("_on_last_name", "name"),
    "address": State("_on_address", "address"),
    "address_zip": State("_on_address_zip", "address"),
    "confirm_address": State("_on_confirm_address", "yes_no"),
    "callback": State("_on_callback", "yes_no"),
    "callback_number": State("_on_callback_number", "verification"),
    "confirm_callback": State("_on_confirm_callback", "yes_no"),
    # Offers and booking (booking.py).
    "choose": State(
        "_on_choose",
        "slot_choice",
        ("the first one", "the second one", "morning", "afternoon", "anything Friday"),
    ),
    "callback_offer": State("_on_callback_offer", "yes_no"),
    # Anything else, cancel, billing (wrapup.py).
    "confirm_cancel": State("_on_confirm_cancel", "yes_no"),
    "billing_offer": State("_on_billing_offer", "yes_no"),
    "anything": State("_on_anything", "anything", ("no thanks", "that's all")),
}

# What each state expects from the caller, for the brain, and what the recogniser should favour.
EXPECTING = {name: state.expecting for name, state in STATES.items()}
HINTS = {name: state.hints for name, state in STATES.items() if state.hints}


def state_of(name: str) -> State:
    """The row of a state the agent listens in; `UnknownState` for any other."""
    try:
        return STATES[name]
    except KeyError:
        raise UnknownState(name) from None


def handlers_check(cls: type) -> None:
    """That `cls` answers every state of the table and has no handler the table does not name
    (a `_on_*` method nobody dispatches to). Called when the dialogue class is created."""
    named = {state.handler for state in STATES.values()}
    missing = sorted(
        f"{name} -> {state.handler}"
        for name, state in STATES.items()
        if not callable(getattr(cls, state.handler, None))
    )
    orphans = sorted(attr for attr in dir(cls) if attr.startswith("_on_") and attr not in named)
    problems = [f"no handler for {row}" for row in missing]
    problems += [f"{attr} answers no state of STATES" for attr in orphans]
    if problems:
        raise StateTableError(f"{cls.__name__}: " + "; ".join(problems))


def _table_check() -> None:
    problems = [
        f"{name}: expecting {state.expecting!r} is not one of brain.EXPECTING"
        for name, state in STATES.items()
        if state.expecting not in BRAIN_EXPECTING
    ]
    problems += [f"{name} is final and listens too" for name in FINAL_STATES & STATES.keys()]
    if problems:
        raise StateTableError("; ".join(problems))


_table_check()
