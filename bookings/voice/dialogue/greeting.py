"""Greeting and verification: the first words, and proving who the caller is before anything
of their account is read back."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.conf import settings

from bookings.voice import speech
from bookings.voice.brain import UNSURE, Understanding
from bookings.voice.context import (
    CallerContext,
    account_readback,
    caller_context,
    greeting_location,
    greeting_text,
    verification_matches,
)
from bookings.voice.dialogue.helpers import (
    _asks_for_code,
    _last_sentence,
)
from bookings.voice.dialogue.states import (
    MAX_VERIFY_ATTEMPTS,
    NEED_PROMPT,
    PERSON_OFFER,
)


class GreetingStage:
    """Greeting and verification."""

    # --- the two entry points ----------------------------------------------------------------

    def _greet(self, *, context: CallerContext | None, full: bool) -> str:
        """The first thing the caller hears, as much as the privacy rules allow (see
        `greeting_text`), and the state that answer leads to."""
        memory = self.memory
        memory.full = full
        memory.phone = self._caller_phone()
        if context is not None and context.customer_id is not None:
            memory.first_name = context.first_name
            memory.last_name = context.last_name
        text = greeting_text(organization=self.organization, context=context, full=full)
        if context is None:
            memory.new_caller = True
            return self._ask(text, state="need", question=NEED_PROMPT)
        if context.do_not_service:
            hello = f"Hi {context.first_name}, thanks for calling {self.organization.name}."
            return self._transfer(
                f"{hello} Let me connect you with our office.",
                reason="do-not-service customer: the office takes the call",
            )
        if not full:
            return self._ask(text, state="verify", question=_last_sentence(text))
        if context.complaint:
            # A customer who complained before: say up front that a person is one word away.
            question = _last_sentence(text)
            text = f"{text[: -len(question)]}{PERSON_OFFER} {question}"
            self._action("Customer has a complaint on file: check how this call went")
        location = greeting_location(context)
        if location is None:
            return self._ask(text, state="need", question=NEED_PROMPT)
        memory.offered_location_id = location.id
        return self._ask(text, state="confirm_location", question="Is this for the same location?")

    # --- verification ----------------------------------------------------------------------

    def _on_verify(self, u: Understanding, text: str, keys: str) -> str:
        if _asks_for_code(text, keys):
            return self._send_code()
        context = self._context()
        if context is not None and verification_matches(context=context, answer=text or keys):
            return self._verified(context, method="zip_or_street")
        if self._verify_asks_need(text, keys, context=context, checked=True):
            u = self._understand(text, keys, "need")  # what they said instead of a ZIP
            if u.intent == "price":  # a price is no account detail: answered, then the ZIP
                return self._price(u, text)
        wants = u.intent in ("book", "cancel", "reschedule", "billing") or u.service_type_id
        if wants and not self.memory.asked_first:
            # They said what they need before answering: keep it, and ask once more.
            self.memory.asked_first = True
            self._pending(u, text)
            question = "What is the ZIP code of the service address?"
            return self._ask(
                f"I can help with that. First, to protect your privacy: {question}",
                state="verify",
                question=question,
            )
        return self._verify_failed("Sorry, that doesn't match what we have on file.")

    def _verify_asks_need(
        self, text: str, keys: str, *, context: CallerContext | None = None, checked: bool = False
    ) -> bool:
        """Whether an answer to the verification question is read again as a need: not a code
        request, no match (`checked`: already found not to match), and no digit in it."""
        if not checked:
            if _asks_for_code(text, keys):
                return False
            context = self._context()
            if context is not None and verification_matches(context=context, answer=text or keys):
                return False
        return not re.search(r"\d", f"{text} {keys}") and not self.memory.asked_first

    def _pending(self, u: Understanding, text: str) -> None:
        """Remember a need said before it could be served (during verification)."""
        if u.unserved:
            self._description_add(text)
            self.memory.pending_unserved = u.unserved
        elif u.service_type_id is not None and u.service_confidence >= UNSURE:
            self._description_add(text)
            self.memory.service_type_id = u.service_type_id
        elif u.intent in ("cancel", "reschedule", "billing"):
            self.memory.pending_intent = u.intent

    def _on_verify_code(self, u: Understanding, text: str, keys: str) -> str:
        digits = speech.phone_digits_from_speech(text, keys)
        expected = self.memory.code_digest
        if expected and hmac.compare_digest(self._digest(digits), expected):
            context = self._context()
            if context is not None:
                return self._verified(context, method="sms_code")
        return self._verify_failed("Sorry, that code doesn't match.")

    def _send_code(self) -> str:
        from customers.messaging import sms_queue

        code = f"{secrets.randbelow(10_000):04d}"
        self.memory.code_digest = self._digest(code)
        sms_queue(
            organization=self.organization,
            to=self.memory.phone,
            body=f"{self.organization.name}: your verification code is {code}. "
            "Never share it with anyone who calls you.",
            customer=self.call.customer,
            purpose="verification_code",
        )
        return self._ask(
            "I've texted a four-digit code to the number we have on file. "
            "When it arrives, please say it or key it in.",
            state="verify_code",
            question="Please say the code or key it in.",
        )

    def _digest(self, code: str) -> str:
        key = f"{settings.SECRET_KEY}:{self.call.call_sid}".encode()
        return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()

    def _verify_failed(self, sorry: str) -> str:
        attempts = self.memory.verify_attempts + 1
        self.memory.verify_attempts = attempts
        if attempts < MAX_VERIFY_ATTEMPTS:
            return self._ask(
                f"{sorry} You can try the ZIP code or the street name once more, or say "
                "'text me a code' and I'll text a code to the number on file.",
                state=self.call.state,
                question="What is the ZIP code of the service address?",
            )
        # Not verified: nothing of the account is said, and the caller is served as a new one.
        self.call.customer = None
        self.memory.new_caller = self.memory.unverified = True
        self.memory.first_name = self.memory.last_name = ""
        return self._ask(
            "I'm sorry, I couldn't verify the account, so I can't go over any account details. "
            "I can still book a visit for you, or connect you with our office. " + NEED_PROMPT,
            state="need",
            question=NEED_PROMPT,
        )

    def _verified(self, context: CallerContext, *, method: str) -> str:
        call = self.call
        call.verified = True
        call.verification_method = method[:20]
        if context.customer_id is not None:
            call.customer_id = context.customer_id
        readback = account_readback(organization=self.organization, context=context)
        self.memory.full = True
        self._disclose(
            ["address", "service history"] if readback else ["account found"],
            why=f"caller verified ({method.replace('_', ' ')})",
        )
        location = greeting_location(context)
        if location is None:
            return self._ask(
                f"Thank you, {context.first_name}, that matches our records. {NEED_PROMPT}",
                state="need",
                question=NEED_PROMPT,
            )
        self.memory.offered_location_id = location.id
        return self._ask(
            f"Thank you, {context.first_name}, that matches our records. {readback}",
            state="confirm_location",
            question="Is this for the same location?",
        )

    def _context(self) -> CallerContext | None:
        phone = self.memory.phone
        return caller_context(organization=self.organization, phone=phone) if phone else None
