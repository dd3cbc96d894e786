"""The booking conversation: a state machine over `<Gather input="speech dtmf">` turns.

Each webhook turn builds a `Dialogue` around the locked `CallSession`, hands it what the caller
said, and gets back TwiML. The state is `call.state`; the working memory is a typed
`DialogueMemory` (`memory`), stored as plain JSON in `call.context["dialogue"]`, so a turn needs
nothing but the call row.

The shape of a call:

    greeting ─┬─ (attested or trusted) confirm_location ─┐
              ├─ (unattested) verify ─ verify_code ──────┤
              └─ (unknown caller) ───────────────────────┴─ need ─ clarify
    need ─ [name ─ address ─ confirm_address ─ callback] ─ choose ─ anything ─ goodbye

At any point: "person" or keypad 0 transfers; an emergency says the safety instructions first,
then transfers to the on-call technician or books the earliest emergency slot (per policy);
silence or speech we cannot read is asked again twice, then the office is offered.

What the brain understands is only an `Understanding`; every action (finding slots, booking,
transferring, reading anything back) is taken here with the domain services and the privacy
rules of `bookings.voice.context`, whichever brain is configured.

The package, by stage: `states` (the state table; read it first), `memory` (what a call
remembers between turns, every field typed and commented), `core` (entry points and the
shared moves), `greeting` (greeting and verification), `need` (need and triage, emergencies),
`price` (price questions, from the price book, in any state), `contact` (a new caller's name,
address and number), `booking` (offers and booking) and `wrapup`
(anything else, goodbye, cancel, reschedule, billing). Each state is answered by the handler its
row of `states.STATES` names; any other state is an error (`UnknownState`).
"""

from __future__ import annotations

from bookings.voice.dialogue.booking import BookingStage
from bookings.voice.dialogue.contact import ContactStage
from bookings.voice.dialogue.core import DialogueCore, brain_for_calls
from bookings.voice.dialogue.greeting import GreetingStage
from bookings.voice.dialogue.helpers import HeardBrain
from bookings.voice.dialogue.need import NeedStage
from bookings.voice.dialogue.price import PriceStage
from bookings.voice.dialogue.states import EXPECTING, HINTS, STATES, UnknownState
from bookings.voice.dialogue.wrapup import WrapUpStage

__all__ = [
    "EXPECTING",
    "HINTS",
    "STATES",
    "Dialogue",
    "HeardBrain",
    "UnknownState",
    "brain_for_calls",
]


class Dialogue(
    GreetingStage, NeedStage, PriceStage, ContactStage, BookingStage, WrapUpStage, DialogueCore
):
    """One turn of one call. `greet` answers the call; `respond` takes each later answer."""
