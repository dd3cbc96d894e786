"""The dialogue's state table: dispatch goes through it only, and it agrees with the handlers the
stages define and with every state the stages ask in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bookings.voice.brain import EXPECTING as BRAIN_EXPECTING
from bookings.voice.brain import RuleBrain
from bookings.voice.dialogue import Dialogue
from bookings.voice.dialogue.core import DialogueCore
from bookings.voice.dialogue.states import (
    EXPECTING,
    FINAL_STATES,
    HINTS,
    STATES,
    State,
    StateTableError,
    UnknownState,
    state_of,
)
from tests import factories

DIALOGUE_DIR = Path(__file__).resolve().parents[2] / "bookings" / "voice" / "dialogue"


def test_a_call_in_a_state_the_table_does_not_list_is_an_error_naming_it(voice_org):
    # given a call stored in a state no version of the table has
    call = factories.CallSessionFactory(organization=voice_org, state="haggling")
    dialogue = Dialogue(call, brain=RuleBrain())

    # when the caller answers, then the turn fails loudly instead of guessing a state
    with pytest.raises(UnknownState, match=r"unknown dialogue state 'haggling'") as error:
        dialogue.respond(speech_text="My AC is blowing warm air.", digits="", confidence=0.9)

    assert error.value.state == "haggling"
    assert call.state == "haggling"
    assert call.context["dialogue"] == {}


def test_a_final_state_is_answered_with_a_goodbye_not_dispatched(voice_org):
    call = factories.CallSessionFactory(organization=voice_org, state="ended")

    reply = Dialogue(call, brain=RuleBrain()).respond(speech_text="Hello?", digits="", confidence=1)

    assert "Thank you for calling. Goodbye." in reply


def test_every_state_of_the_table_has_its_handler_and_every_handler_its_state():
    handlers = {attr for attr in dir(Dialogue) if attr.startswith("_on_")}

    assert handlers == {state.handler for state in STATES.values()}
    for name, state in STATES.items():
        assert callable(getattr(Dialogue, state.handler)), name
        assert state.expecting in BRAIN_EXPECTING, name
    assert not FINAL_STATES & STATES.keys()


def test_every_state_the_stages_ask_in_is_a_row_of_the_table():
    source = "\n".join(path.read_text() for path in sorted(DIALOGUE_DIR.glob("*.py")))
    asked = set(re.findall(r"\bstate=\"(\w+)\"", source))
    assigned = set(re.findall(r"\.state = \"(\w+)\"", source))

    assert asked
    assert asked <= STATES.keys()
    assert assigned <= FINAL_STATES
    assert EXPECTING.keys() == STATES.keys()
    assert HINTS.keys() <= STATES.keys()


def test_a_dialogue_class_without_a_handler_for_a_state_is_refused_when_created():
    with pytest.raises(StateTableError, match=r"no handler for anything -> _on_anything"):

        class Partial(DialogueCore):  # no stage answers "anything" (nor any other state)
            pass


def test_a_handler_the_table_does_not_name_is_refused_when_created():
    class Haggling:
        def _on_haggling(self, u, text, keys):
            return ""

    with pytest.raises(StateTableError, match=r"_on_haggling answers no state of STATES"):

        class WithAnOrphan(Haggling, Dialogue):
            pass


def test_state_of_gives_the_row_or_the_error():
    assert state_of("choose") == State(
        "_on_choose",
        "slot_choice",
        ("the first one", "the second one", "morning", "afternoon", "anything Friday"),
    )
    with pytest.raises(UnknownState, match="'choosing'"):
        state_of("choosing")
