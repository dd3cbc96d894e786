"""The dialogue's states, read first: what each state expects from the caller (for the brain),
what the speech recogniser should favour in it, and the prompts and limits the stages share.

A state `s` is answered by the `_on_s` method of its stage (see `bookings.voice.dialogue`)."""

from __future__ import annotations

import datetime as dt

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

# What each state expects from the caller, for the brain (see `brain.EXPECTING`).
EXPECTING = {
    "verify": "verification",
    "verify_code": "verification",
    "confirm_location": "yes_no",
    "need": "intent",
    "describe": "service",
    "clarify": "yes_no",
    "name": "name",
    "last_name": "name",
    "address": "address",
    "address_zip": "address",
    "confirm_address": "yes_no",
    "callback": "yes_no",
    "callback_number": "verification",
    "confirm_callback": "yes_no",
    "choose": "slot_choice",
    "confirm_cancel": "yes_no",
    "billing_offer": "yes_no",
    "callback_offer": "yes_no",
    "anything": "anything",
}

# Per state, what the speech recogniser should favour.
HINTS = {
    "verify": ("zip code", "text me a code"),
    "verify_code": ("one two three four",),
    "confirm_location": ("same place", "different address"),
    "need": ("air conditioner", "furnace", "water heater", "leak", "drain", "breaker", "outlet"),
    "describe": ("not cooling", "no heat", "leaking", "clogged", "tripping"),
    "choose": ("the first one", "the second one", "morning", "afternoon", "anything Friday"),
    "anything": ("no thanks", "that's all"),
}
