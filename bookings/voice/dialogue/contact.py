"""Address and contact: a new caller's name, service address and callback number, and filing
them under the customer they most likely are."""

from __future__ import annotations

import re

from bookings.voice import selectors, speech
from bookings.voice.brain import Understanding
from bookings.voice.dialogue.helpers import (
    _as_said,
)
from bookings.voice.dialogue.states import (
    ADDRESS_AGAIN,
    CALLBACK_ASK,
    MAX_REPROMPTS,
    NAME_PROMPT,
)
from customers.hygiene.addresses import NormalizedAddress, address_normalize, address_spoken
from customers.hygiene.names import name_parse
from customers.intake import InvalidCustomer, customer_find_or_create
from customers.models import Source
from dispatchnode.core.phones import InvalidPhoneNumber, phone_to_e164


class ContactStage:
    """Address and contact."""

    # --- a new caller: name, address, callback number -------------------------------------

    def _on_name(self, u: Understanding, text: str, keys: str) -> str:
        said = speech.name_from_speech(text)
        parsed = name_parse(full=said) if said and not re.search(r"\d", said) else None
        if parsed is None or parsed.is_company or not (parsed.first or parsed.last):
            return self._again("Sorry, I didn't get your name.", question=NAME_PROMPT)
        first, last = _as_said(parsed.first, said), _as_said(parsed.last, said)
        if not first:  # a single word: take it as the first name and ask for the last
            self.memory.first_name = last
            return self._ask(
                f"Thanks, {last}. And your last name?",
                state="last_name",
                question="Your last name?",
            )
        self.memory.first_name, self.memory.last_name = first, last
        return self._next()

    def _on_last_name(self, u: Understanding, text: str, keys: str) -> str:
        said = speech.name_from_speech(text)
        if not said:
            return self._again("Sorry, I didn't get that.", question="What's your last name?")
        self.memory.last_name = said.split()[-1].strip(" ,.")
        return self._next()

    def _on_address(self, u: Understanding, text: str, keys: str) -> str:
        cleaned = speech.address_from_speech(text)
        address = address_normalize(cleaned) if cleaned else None
        if address is None or not address.components.get("AddressNumber") or not address.street:
            return self._again(ADDRESS_AGAIN, question=ADDRESS_AGAIN, count_towards_transfer=True)
        self.memory.address_text = cleaned
        if not address.postal_code and not address.city:
            question = "And what's the ZIP code there?"
            return self._ask(question, state="address_zip", question=question)
        return self._read_back_address(address)

    def _on_address_zip(self, u: Understanding, text: str, keys: str) -> str:
        extra = speech.address_from_speech(text or keys)
        combined = f"{self.memory.address_text}, {extra}".strip(", ")
        address = address_normalize(combined)
        self.memory.address_text = combined
        return self._read_back_address(address)

    def _read_back_address(self, address: NormalizedAddress) -> str:
        said = address_spoken(address)
        if address.postal_code:
            said += f", {speech.zip_spoken(address.postal_code)}"
        return self._ask(
            f"I have {said}. Is that right?", state="confirm_address", question="Is that right?"
        )

    def _on_confirm_address(self, u: Understanding, text: str, keys: str) -> str:
        if u.intent == "yes":
            self.memory.address_confirmed = True
            return self._intake()
        if u.intent == "no" and re.search(r"\d", text):
            return self._on_address(u, re.sub(r"^\W*no\W+", "", text, flags=re.I), keys)
        if u.intent == "no":
            tries = self.memory.address_tries + 1
            self.memory.address_tries = tries
            if tries > MAX_REPROMPTS:  # keep the words as said; the office checks them
                self.memory.address_confirmed = True
                self._action("Address not confirmed on the call: check it before dispatch")
                return self._intake()
            return self._ask(
                "Sorry about that. Please say the full street address again, with the ZIP code.",
                state="address",
                question="Please say the full street address, with the ZIP code.",
            )
        return self._again("Sorry, was that a yes?", question="Is that right?")

    def _intake(self) -> str:
        """File the caller under the customer they most likely are, or a new one (the customer
        matcher: "Bill Jenkins, 123 Oak St" from a new phone is William Jenkins)."""
        memory = self.memory
        known = self.call.customer_id is not None
        try:
            result = customer_find_or_create(
                organization=self.organization,
                first_name=memory.first_name,
                last_name=memory.last_name,
                phone=memory.phone,
                address=memory.address_text,
                source=Source.AI_CALL,
                review_source="intake",
            )
        except InvalidCustomer:
            memory.first_name = ""
            return self._ask(NAME_PROMPT, state="name", question=NAME_PROMPT)
        except InvalidPhoneNumber:
            memory.phone = ""
            return self._intake()
        call = self.call
        call.customer = result.customer
        call.new_customer = result.created
        location = result.location or selectors.customer_first_location(
            organization=self.organization, customer=result.customer
        )
        memory.location_id = location.pk if location else None
        if result.review is not None:
            self._action("Possible duplicate customer queued for review")
        if result.problems:
            self._action("Check the address: " + "; ".join(result.problems)[:200])
        if known and not result.created:
            return self._next(prefix="Got it, I've added that address to your account.")
        if not result.created:
            # The caller named an existing customer; no account detail is read back for that.
            self._disclose(["account found"], why="caller gave name and address on file")
            first = memory.first_name
            return self._next(prefix=f"Thanks, {first}, I found your account.")
        return self._next(prefix="Thank you.")

    def _on_callback(self, u: Understanding, text: str, keys: str) -> str:
        digits = speech.phone_digits_from_speech(text, keys)
        if len(digits) >= 10:
            return self._on_callback_number(u, text, keys)
        if u.intent == "yes":
            self.memory.callback = self.memory.phone
            return self._next(prefix="Great.")
        if u.intent == "no":
            return self._ask(CALLBACK_ASK, state="callback_number", question=CALLBACK_ASK)
        return self._again(
            "Sorry, was that a yes?", question="Is that the best number to reach you?"
        )

    def _on_callback_number(self, u: Understanding, text: str, keys: str) -> str:
        digits = speech.phone_digits_from_speech(text, keys)
        try:
            e164 = phone_to_e164(digits, region=self.organization.country or "US")
        except InvalidPhoneNumber:
            return self._again(
                "Sorry, I didn't get a full phone number.",
                question="Please say or key in the ten-digit number.",
            )
        self.memory.callback_candidate = e164
        question = f"I have {speech.digits_spoken(e164)}. Is that right?"
        return self._ask(question, state="confirm_callback", question="Is that right?")

    def _on_confirm_callback(self, u: Understanding, text: str, keys: str) -> str:
        if u.intent == "yes":
            phone, self.memory.callback_candidate = self.memory.callback_candidate, ""
            self.memory.callback = phone
            self._phone_add(phone)
            return self._next(prefix="Thanks.")
        if u.intent == "no":
            return self._ask(CALLBACK_ASK, state="callback_number", question=CALLBACK_ASK)
        return self._again("Sorry, was that a yes?", question="Is that right?")

    def _phone_add(self, phone: str) -> None:
        customer = self.call.customer
        if customer is None or not phone:
            return
        customer_find_or_create(
            organization=self.organization,
            first_name=customer.first_name,
            last_name=customer.last_name,
            phone=phone,
            address=self.memory.address_text,
            source=Source.AI_CALL,
        )
