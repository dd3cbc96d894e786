"""The booking conversation: a state machine over `<Gather input="speech dtmf">` turns.

Each webhook turn builds a `Dialogue` around the locked `CallSession`, hands it what the caller
said, and gets back TwiML. The state is `call.state`; the working memory is
`call.context["dialogue"]` (plain JSON), so a turn needs nothing but the call row.

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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from typing import Any

from django.conf import settings
from django.utils import timezone

from bookings import selectors_callers
from bookings.availability import Slot, slots_find
from bookings.models import Appointment, CallSession, Job, OnCallShift, ServiceType, Technician
from bookings.preferences import Preference, preference_parse
from bookings.selectors import scheduling_policy_for
from bookings.services import (
    SlotTaken,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    job_create,
)
from bookings.voice import speech, twiml
from bookings.voice.brain import UNSURE, Brain, RuleBrain, Understanding, safety_instructions
from bookings.voice.context import (
    CallerContext,
    account_readback,
    caller_context,
    greeting_location,
    greeting_text,
    verification_matches,
)
from customers.hygiene.addresses import NormalizedAddress, address_normalize, address_spoken
from customers.hygiene.names import name_parse
from customers.intake import InvalidCustomer, customer_find_or_create
from customers.models import Message, Source
from customers.selectors import location_list
from dispatchnode.accounts.models import Organization
from dispatchnode.core.errors import ApplicationError, Conflict
from dispatchnode.core.phones import InvalidPhoneNumber, phone_to_e164

logger = logging.getLogger(__name__)

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


def brain_for_calls() -> Brain:
    """The brain the settings choose (`VOICE_BRAIN`): the rule brain unless an LLM is set up."""
    if getattr(settings, "VOICE_BRAIN", "rule") == "rule":
        return RuleBrain()
    from bookings.voice.llm_brain import brain_from_settings

    return brain_from_settings()


class Dialogue:
    """One turn of one call. `greet` answers the call; `respond` takes each later answer."""

    def __init__(
        self, call: CallSession, *, brain: Brain | None = None, now: dt.datetime | None = None
    ) -> None:
        self.call = call
        self.organization: Organization = call.organization
        self.memory: dict[str, Any] = call.context.setdefault("dialogue", {})
        self._brain = brain
        self.now = now or timezone.now()
        self.tz = self.organization.tzinfo
        self._catalogue: list[ServiceType] | None = None

    # --- the two entry points ----------------------------------------------------------------

    def greet(self, *, context: CallerContext | None, full: bool) -> str:
        """The first thing the caller hears, as much as the privacy rules allow (see
        `greeting_text`), and the state that answer leads to."""
        memory = self.memory
        memory["full"] = full
        memory["phone"] = self._caller_phone()
        if context is not None and context.customer_id is not None:
            memory["first_name"] = context.first_name
            memory["last_name"] = context.last_name
        text = greeting_text(organization=self.organization, context=context, full=full)
        if context is None:
            memory["new_caller"] = True
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
        memory["offered_location_id"] = location.id
        return self._ask(text, state="confirm_location", question="Is this for the same location?")

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

    def respond(self, *, speech_text: str, digits: str, confidence: float | None) -> str:
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
        handler = getattr(self, f"_on_{state}", None) or self._on_need
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
            self._catalogue = list(
                ServiceType.objects.filter(organization=self.organization, is_active=True).only(
                    "id", "code", "name", "category", "kind", "spoken_synonyms", "is_active"
                )
            )
        return self._catalogue

    def _understand(self, text: str, keys: str, state: str) -> Understanding:
        offered = [o["label"] for o in self.memory.get("offered", ())] if state == "choose" else []
        return self.brain.understand(
            text=text,
            digits=keys,
            expecting=EXPECTING.get(state, "intent"),
            organization=self.organization,
            catalogue=self.catalogue,
            offered=offered,
            tools=_DialogueTools(self),
        )

    def _intent(self, intent: str) -> None:
        self.call.context["turn_intent"] = intent

    # --- verification ----------------------------------------------------------------------

    def _on_verify(self, u: Understanding, text: str, keys: str) -> str:
        if _asks_for_code(text, keys):
            return self._send_code()
        context = self._context()
        if context is not None and verification_matches(context=context, answer=text or keys):
            return self._verified(context, method="zip_or_street")
        if self._verify_asks_need(text, keys, context=context, checked=True):
            u = self._understand(text, keys, "need")  # what they said instead of a ZIP
        wants = u.intent in ("book", "cancel", "reschedule", "billing") or u.service_type_id
        if wants and not self.memory.get("asked_first"):
            # They said what they need before answering: keep it, and ask once more.
            self.memory["asked_first"] = True
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
        return not re.search(r"\d", f"{text} {keys}") and not self.memory.get("asked_first")

    def _pending(self, u: Understanding, text: str) -> None:
        """Remember a need said before it could be served (during verification)."""
        if u.service_type_id is not None and u.service_confidence >= UNSURE:
            self._description_add(text)
            self.memory["service_type_id"] = u.service_type_id
        elif u.intent in ("cancel", "reschedule", "billing"):
            self.memory["pending_intent"] = u.intent

    def _on_verify_code(self, u: Understanding, text: str, keys: str) -> str:
        digits = speech.phone_digits_from_speech(text, keys)
        expected = self.memory.get("code_digest", "")
        if expected and hmac.compare_digest(self._digest(digits), expected):
            context = self._context()
            if context is not None:
                return self._verified(context, method="sms_code")
        return self._verify_failed("Sorry, that code doesn't match.")

    def _send_code(self) -> str:
        from customers.messaging import sms_queue

        code = f"{secrets.randbelow(10_000):04d}"
        self.memory["code_digest"] = self._digest(code)
        sms_queue(
            organization=self.organization,
            to=self.memory.get("phone", ""),
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
        attempts = int(self.memory.get("verify_attempts", 0)) + 1
        self.memory["verify_attempts"] = attempts
        if attempts < MAX_VERIFY_ATTEMPTS:
            return self._ask(
                f"{sorry} You can try the ZIP code or the street name once more, or say "
                "'text me a code' and I'll text a code to the number on file.",
                state=self.call.state,
                question="What is the ZIP code of the service address?",
            )
        # Not verified: nothing of the account is said, and the caller is served as a new one.
        self.call.customer = None
        self.memory.update(new_caller=True, unverified=True, first_name="", last_name="")
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
        self.memory["full"] = True
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
        self.memory["offered_location_id"] = location.id
        return self._ask(
            f"Thank you, {context.first_name}, that matches our records. {readback}",
            state="confirm_location",
            question="Is this for the same location?",
        )

    def _context(self) -> CallerContext | None:
        phone = self.memory.get("phone", "")
        return caller_context(organization=self.organization, phone=phone) if phone else None

    # --- location and need -------------------------------------------------------------------

    def _on_confirm_location(self, u: Understanding, text: str, keys: str) -> str:
        if u.intent in ("cancel", "reschedule", "billing"):
            self.memory["location_id"] = self.memory.get("offered_location_id")
            return self._on_need(u, text, keys)
        if u.intent == "yes" or u.service_type_id is not None:
            self.memory["location_id"] = self.memory.get("offered_location_id")
            if u.service_type_id is not None:
                return self._service_heard(u, text)
            pending = self.memory.pop("pending_intent", "")
            if pending:
                return self._on_need(Understanding(intent=pending, words=text), text, keys)
            return self._next(prefix="Great.")
        if u.intent == "no":
            if re.search(r"\b\d+\s+\w+", text):  # "No, it's for 55 Elm Street": take it now
                return self._on_address(u, re.sub(r"^\W*no\W+", "", text, flags=re.I), keys)
            return self._ask(
                "No problem. What's the address where you need the service?",
                state="address",
                question="What's the address where you need the service?",
            )
        return self._again("Sorry, I didn't get that.", reason="location not confirmed")

    def _on_need(self, u: Understanding, text: str, keys: str) -> str:
        if u.intent == "cancel":
            return self._cancel_start()
        if u.intent == "reschedule":
            return self._reschedule_start(u)
        if u.intent == "billing":
            return self._billing()
        if u.service_type_id is not None:
            return self._service_heard(u, text)
        if u.intent == "book":
            return self._ask(DESCRIBE_PROMPT, state="describe", question=DESCRIBE_PROMPT)
        if u.intent == "no" and self.memory.get("after_booking"):
            return self._goodbye()
        if _HOURS_QUESTION.search(text):
            hours = speech.business_hours_spoken(self.organization.business_hours or {})
            return self._ask(f"{hours} {NEED_PROMPT}", state="need", question=NEED_PROMPT)
        return self._again("Sorry, I'm not sure I understood.", question=HELP_PROMPT)

    def _on_describe(self, u: Understanding, text: str, keys: str) -> str:
        if u.service_type_id is not None:
            return self._service_heard(u, text)
        if u.intent in ("cancel", "reschedule", "billing"):
            return self._on_need(u, text, keys)
        # Two tries, then the job is booked as a general visit and the office reads the words.
        fallback = self._fallback_service()
        if int(self.memory.get("misses", 0)) >= 1 and fallback is not None:
            self._description_add(text)
            self.memory["service_type_id"] = fallback.pk
            self._action("Service unclear from the call: check the description and service type")
            return self._next(prefix="Thanks, I'll note that for the technician.")
        return self._again("Sorry, I didn't quite get that.", question=DESCRIBE_PROMPT)

    def _service_heard(self, u: Understanding, text: str) -> str:
        self._description_add(text)
        service = self._service(u.service_type_id)
        if service is None:
            return self._again("Sorry, I didn't quite get that.", question=DESCRIBE_PROMPT)
        if u.service_confidence < UNSURE and not self.memory.get("clarified"):
            self.memory["clarified"] = True
            self.memory["candidate_service_id"] = service.pk
            question = (
                f"Just so I send the right technician: is this for {_service_spoken(service)}?"
            )
            return self._ask(question, state="clarify", question=question)
        self.memory["service_type_id"] = service.pk
        return self._next(prefix="Okay.")

    def _on_clarify(self, u: Understanding, text: str, keys: str) -> str:
        candidate = self.memory.get("candidate_service_id")
        if u.intent == "yes" or (u.service_type_id == candidate and candidate is not None):
            self.memory["service_type_id"] = candidate
            return self._next(prefix="Great.")
        if u.service_type_id is not None:
            self._description_add(text)
            self.memory["service_type_id"] = u.service_type_id
            return self._next(prefix="Got it.")
        # Still unsure after one question: keep the best guess, the office double-checks.
        self._description_add(text)
        self.memory["service_type_id"] = candidate or getattr(self._fallback_service(), "pk", None)
        self._action("Service unclear from the call: check the description and service type")
        return self._next(prefix="Thanks, I'll note that for the technician.")

    def _description_add(self, text: str) -> None:
        words = " ".join(text.split())
        if words:
            said = self.memory.get("description", "")
            self.memory["description"] = f"{said} {words}".strip()[:1000]

    def service_chosen(self) -> ServiceType | None:
        """The service this call is about so far (None until the caller said)."""
        return self._service(self.memory.get("service_type_id"))

    def _service(self, pk: int | None) -> ServiceType | None:
        return next((s for s in self.catalogue if s.pk == pk), None)

    def _fallback_service(self) -> ServiceType | None:
        """For a need nobody could classify: an estimate/inspection visit, else any repair."""
        for kind in (ServiceType.Kind.INSPECTION, ServiceType.Kind.REPAIR):
            found = [s for s in self.catalogue if s.kind == kind]
            if found:
                return min(found, key=lambda s: s.pk)
        return self.catalogue[0] if self.catalogue else None

    # --- what is still missing --------------------------------------------------------------

    def _next(self, *, prefix: str = "") -> str:
        """Ask for the first thing the booking still lacks, or offer times."""
        memory = self.memory
        lead = f"{prefix} " if prefix else ""
        if not memory.get("service_type_id"):
            return self._ask(f"{lead}{NEED_PROMPT}", state="need", question=NEED_PROMPT)
        if memory.get("new_caller") and self.call.customer_id is None:
            if not memory.get("first_name"):
                return self._ask(
                    f"{lead}{NAME_PROMPT}", state="name", question="Can I have your name, please?"
                )
            if not memory.get("address_confirmed"):
                return self._ask_address(lead)
        if not memory.get("location_id") and not memory.get("address_confirmed"):
            return self._ask_address(lead)
        if memory.get("new_caller") and not memory.get("callback"):
            phone = memory.get("phone", "")
            if phone:
                question = f"Is {speech.digits_spoken(phone)} the best number to reach you?"
                return self._ask(f"{lead}{question}", state="callback", question=question)
            return self._ask(
                f"{lead}{CALLBACK_ASK}", state="callback_number", question=CALLBACK_ASK
            )
        return self._offer(prefix=lead)

    def _ask_address(self, lead: str) -> str:
        first = self.memory.get("first_name", "")
        thanks = f"Thanks, {first}. " if first and not lead else lead
        question = "What's the address where you need the service, with the ZIP code?"
        return self._ask(f"{thanks}{question}", state="address", question=question)

    # --- a new caller: name, address, callback number -------------------------------------

    def _on_name(self, u: Understanding, text: str, keys: str) -> str:
        said = speech.name_from_speech(text)
        parsed = name_parse(full=said) if said and not re.search(r"\d", said) else None
        if parsed is None or parsed.is_company or not (parsed.first or parsed.last):
            return self._again("Sorry, I didn't get your name.", question=NAME_PROMPT)
        first, last = _as_said(parsed.first, said), _as_said(parsed.last, said)
        if not first:  # a single word: take it as the first name and ask for the last
            self.memory["first_name"] = last
            return self._ask(
                f"Thanks, {last}. And your last name?",
                state="last_name",
                question="Your last name?",
            )
        self.memory.update(first_name=first, last_name=last)
        return self._next()

    def _on_last_name(self, u: Understanding, text: str, keys: str) -> str:
        said = speech.name_from_speech(text)
        if not said:
            return self._again("Sorry, I didn't get that.", question="What's your last name?")
        self.memory["last_name"] = said.split()[-1].strip(" ,.")
        return self._next()

    def _on_address(self, u: Understanding, text: str, keys: str) -> str:
        cleaned = speech.address_from_speech(text)
        address = address_normalize(cleaned) if cleaned else None
        if address is None or not address.components.get("AddressNumber") or not address.street:
            return self._again(ADDRESS_AGAIN, question=ADDRESS_AGAIN, count_towards_transfer=True)
        self.memory["address_text"] = cleaned
        if not address.postal_code and not address.city:
            question = "And what's the ZIP code there?"
            return self._ask(question, state="address_zip", question=question)
        return self._read_back_address(address)

    def _on_address_zip(self, u: Understanding, text: str, keys: str) -> str:
        extra = speech.address_from_speech(text or keys)
        combined = f"{self.memory.get('address_text', '')}, {extra}".strip(", ")
        address = address_normalize(combined)
        self.memory["address_text"] = combined
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
            self.memory["address_confirmed"] = True
            return self._intake()
        if u.intent == "no" and re.search(r"\d", text):
            return self._on_address(u, re.sub(r"^\W*no\W+", "", text, flags=re.I), keys)
        if u.intent == "no":
            tries = int(self.memory.get("address_tries", 0)) + 1
            self.memory["address_tries"] = tries
            if tries > MAX_REPROMPTS:  # keep the words as said; the office checks them
                self.memory["address_confirmed"] = True
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
                first_name=memory.get("first_name", ""),
                last_name=memory.get("last_name", ""),
                phone=memory.get("phone", ""),
                address=memory.get("address_text", ""),
                source=Source.AI_CALL,
                review_source="intake",
            )
        except InvalidCustomer:
            memory["first_name"] = ""
            return self._ask(NAME_PROMPT, state="name", question=NAME_PROMPT)
        except InvalidPhoneNumber:
            memory["phone"] = ""
            return self._intake()
        call = self.call
        call.customer = result.customer
        call.new_customer = result.created
        location = (
            result.location or result.customer.locations.order_by("-is_primary", "id").first()
        )
        memory["location_id"] = location.pk if location else None
        if result.review is not None:
            self._action("Possible duplicate customer queued for review")
        if result.problems:
            self._action("Check the address: " + "; ".join(result.problems)[:200])
        if known and not result.created:
            return self._next(prefix="Got it, I've added that address to your account.")
        if not result.created:
            # The caller named an existing customer; no account detail is read back for that.
            self._disclose(["account found"], why="caller gave name and address on file")
            first = memory.get("first_name", "")
            return self._next(prefix=f"Thanks, {first}, I found your account.")
        return self._next(prefix="Thank you.")

    def _on_callback(self, u: Understanding, text: str, keys: str) -> str:
        digits = speech.phone_digits_from_speech(text, keys)
        if len(digits) >= 10:
            return self._on_callback_number(u, text, keys)
        if u.intent == "yes":
            self.memory["callback"] = self.memory.get("phone", "")
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
        self.memory["callback_candidate"] = e164
        question = f"I have {speech.digits_spoken(e164)}. Is that right?"
        return self._ask(question, state="confirm_callback", question="Is that right?")

    def _on_confirm_callback(self, u: Understanding, text: str, keys: str) -> str:
        if u.intent == "yes":
            phone = self.memory.pop("callback_candidate", "")
            self.memory["callback"] = phone
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
            address=self.memory.get("address_text", ""),
            source=Source.AI_CALL,
        )

    # --- slots and booking ------------------------------------------------------------------

    def _note(self, **effects: Any) -> None:
        """Note on the call, committed at once, what this turn did that must not be done twice
        if the turn is answered again after a crash (`call.turn_effects`, see
        `voice_turn_receive`): it holds what an earlier try of this same turn did."""
        call = self.call
        call.turn_effects.update(effects)
        CallSession.objects.filter(pk=call.pk).update(turn_effects=call.turn_effects)

    def _job(self) -> Job | None:
        """The job this call books, created once (source `ai_call`, for revenue attribution)."""
        memory = self.memory
        if not memory.get("job_id") and self.call.turn_effects.get("job_id"):
            memory["job_id"] = self.call.turn_effects["job_id"]  # an earlier try created it
        if memory.get("job_id"):
            return Job.objects.filter(organization=self.organization, pk=memory["job_id"]).first()
        customer = self.call.customer
        location = (
            location_list(organization=self.organization)
            .filter(customer=customer, pk=memory.get("location_id"))
            .first()
            if customer is not None
            else None
        )
        service = self._service(memory.get("service_type_id"))
        if customer is None or location is None or service is None:
            return None
        job = job_create(
            organization=self.organization,
            customer=customer,
            location=location,
            service_type=service,
            description=memory.get("description", ""),
            priority=Job.Priority.EMERGENCY if memory.get("emergency") else Job.Priority.NORMAL,
            source=Source.AI_CALL,
        )
        memory["job_id"] = job.pk
        self.call.job = job
        self._note(job_id=job.pk)
        return job

    def _offer(self, *, prefix: str = "", preference_text: str = "") -> str:
        try:
            job = self._job()
        except ApplicationError as exc:
            return self._transfer(
                "Let me connect you with our office so they can help you with this.",
                reason=f"job could not be created: {exc}",
            )
        if job is None:
            return self._transfer(
                "Let me connect you with our office to finish this booking.",
                reason="missing customer, location or service",
            )
        emergency = bool(self.memory.get("emergency"))
        preference = None
        if preference_text:
            preference = preference_parse(preference_text, now=self.now, tz=self.tz)
        excluded = [(t, dt.datetime.fromisoformat(s)) for t, s in self.memory.get("excluded", ())]
        count = 1 if emergency else SLOTS_OFFERED
        slots = slots_find(
            organization=self.organization,
            job=job,
            count=count,
            preference=preference,
            exclude=excluded,
            now=self.now,
        )
        lead = prefix
        if not slots and preference is not None:
            lead += f"I don't have anything open for {speech.preference_spoken(preference_text)}. "
            slots = slots_find(
                organization=self.organization, job=job, count=count, exclude=excluded, now=self.now
            )
        if not slots:
            return self._callback_offer(
                f"{lead}I'm sorry, I don't have an opening I can book for you right now.",
                reason="no open times to offer",
            )
        if emergency:
            return self._book(_offer_dict(slots[0], self._label(slots[0])), lead=lead)
        return self._offer_slots(slots, lead=lead)

    def _offer_slots(self, slots: list[Slot], *, lead: str = "") -> str:
        # Chosen by score, said in time order: "Tuesday…, Wednesday…, or Thursday…".
        slots = sorted(slots, key=lambda slot: (slot.start, slot.technician_id))
        offered = [_offer_dict(slot, self._label(slot)) for slot in slots]
        self.memory["offered"] = offered
        labels = [o["label"] for o in offered]
        if len(labels) == 1:
            question = "Would that work for you?"
            text = f"{lead}The first opening I have is {labels[0]}. {question}"
        else:
            listed = ", ".join(labels[:-1]) + f", or {labels[-1]}"
            keys = ", ".join(str(i + 1) for i in range(len(labels) - 1)) + f" or {len(labels)}"
            question = "Which works best for you?"
            text = f"{lead}I have {listed}. You can also press {keys}. {question}"
        return self._ask(text.strip(), state="choose", question=question)

    def _label(self, slot: Slot) -> str:
        today = self.now.astimezone(self.tz).date()
        return speech.window_spoken(
            slot.arrival_window_start.astimezone(self.tz),
            slot.arrival_window_end.astimezone(self.tz),
            today=today,
        )

    def _on_choose(self, u: Understanding, text: str, keys: str) -> str:
        offered = self.memory.get("offered", [])
        if u.choice is not None and 0 <= u.choice < len(offered):
            return self._book(offered[u.choice])
        wanted = u.preference_text or (text if u.intent != "no" else "")
        preference = preference_parse(wanted, now=self.now, tz=self.tz) if wanted else None
        if preference is not None and offered:
            # "The afternoon one" when two of them are: narrow the offer, don't search again.
            fitting = [o for o in offered if _fits(preference, o, tz=self.tz)]
            picked = _PICKS.search(text) is not None
            if len(fitting) == 1 and picked:
                return self._book(fitting[0])
            if len(fitting) > 1 and len(fitting) == len(offered) and picked:
                if self.memory.get("asked_which"):  # the same answer again: the earliest one
                    return self._book(fitting[0])
                self.memory["asked_which"] = True
                question = "Which one would you like: " + _ordinals(len(fitting)) + "?"
                return self._ask(f"They all are. {question}", state="choose", question=question)
            if fitting:
                self.memory["offered"] = fitting
                labels = " or ".join(o["label"] for o in fitting)
                question = "Which one would you like?" if len(fitting) > 1 else "Would that work?"
                return self._ask(f"I have {labels}. {question}", state="choose", question=question)
        if u.preference_text:
            self._exclude(offered)
            return self._offer(preference_text=u.preference_text)
        if u.intent == "no" and offered:
            self._exclude(offered)
            self.memory["offered"] = []
            if self.memory.get("offered_later"):
                return self._callback_offer(
                    "I'm sorry none of those work.", reason="declined every time offered"
                )
            question = "What day and time would work better for you?"
            return self._ask(f"No problem. {question}", state="choose", question=question)
        if u.intent == "no":
            # "None of those work" and no day given: further ahead, then a call back.
            return self._offer_later()
        if preference_parse(text, now=self.now, tz=self.tz) is not None:
            self._exclude(offered)
            return self._offer(preference_text=text)
        if u.intent in ("cancel", "billing"):
            return self._on_need(u, text, keys)
        if not offered:  # no day to go by
            return self._offer_later()
        return self._again("Sorry, which one would you like?", question=None)

    def _offer_later(self) -> str:
        """After a decline with no day to go by: the first openings from a week out, once;
        then a call back from the office."""
        if self.memory.get("offered_later"):
            return self._callback_offer(
                "I'm sorry I couldn't find a time that suits you.",
                reason="declined every time offered",
            )
        self.memory["offered_later"] = True
        job = self._job()
        excluded = [(t, dt.datetime.fromisoformat(s)) for t, s in self.memory.get("excluded", ())]
        slots = (
            slots_find(
                organization=self.organization,
                job=job,
                count=SLOTS_OFFERED,
                earliest=self.now + LATER_OFFSET,
                exclude=excluded,
                now=self.now,
            )
            if job is not None
            else []
        )
        if not slots:
            return self._callback_offer(
                "I'm sorry, I don't have other openings to offer.", reason="no later times"
            )
        return self._offer_slots(slots, lead="No problem. Looking further ahead, ")

    def _callback_offer(self, lead: str, *, reason: str) -> str:
        self.memory["callback_reason"] = reason
        question = "Would you like someone from our office to call you back to find a time?"
        return self._ask(f"{lead} {question}", state="callback_offer", question=question)

    def _on_callback_offer(self, u: Understanding, text: str, keys: str) -> str:
        if u.intent not in ("yes", "no"):
            return self._again("Sorry, was that a yes?", question=None)
        call = self.call
        call.state = "ended"
        call.outcome = CallSession.Outcome.NO_BOOKING
        call.outcome_reason = self.memory.get("callback_reason", "no time booked")[:300]
        service = self._service(self.memory.get("service_type_id"))
        wanted = service.name if service is not None else "a visit"
        number = self.memory.get("callback") or self.memory.get("phone", "")
        name = " ".join(
            part for part in (self.memory.get("first_name"), self.memory.get("last_name")) if part
        )
        thanks = f"Thank you for calling {self.organization.name}. Goodbye."
        if u.intent == "yes":
            self._action(
                f"Call back {name or 'the caller'} at {number or 'the number they called from'}: "
                f"wants {wanted}; no offered time suited them"
            )
            reach = f" at {speech.digits_spoken(number)}" if number else ""
            return twiml.goodbye(
                text=f"Okay. Someone from our office will call you back{reach} to find a time. "
                + thanks
            )
        self._action(
            f"{name or 'Caller'} wanted {wanted} but booked no time (declined a call back)"
        )
        return twiml.goodbye(
            text=f"Okay. Whenever you'd like to book, just give us a call. {thanks}"
        )

    def _exclude(self, offered: list[dict]) -> None:
        excluded = self.memory.setdefault("excluded", [])
        excluded.extend([o["technician"], o["start"]] for o in offered)
        del excluded[:-30]

    def _book(self, offer: dict, *, lead: str = "") -> str:
        job = self._job()
        technician = Technician.objects.filter(
            organization=self.organization, pk=offer["technician"]
        ).first()
        if job is None or technician is None:
            return self._offer(prefix="Sorry, that time is no longer available. ")
        start = dt.datetime.fromisoformat(offer["start"])
        rescheduling = self.memory.get("mode") == "reschedule"
        try:
            if rescheduling:
                appointment = appointment_reschedule(
                    appointment=self._appointment(),
                    start=start,
                    technician=technician,
                    now=self.now,
                )
            else:
                appointment = appointment_book(
                    job=job, technician=technician, start=start, now=self.now
                )
        except SlotTaken as taken:
            self._exclude([offer])
            if taken.alternatives:
                return self._offer_slots(
                    taken.alternatives[:SLOTS_OFFERED],
                    lead="I'm sorry, that time was just taken by another caller. ",
                )
            return self._offer(prefix="I'm sorry, that time was just taken. ")
        except Conflict as exc:
            appointment = self._booked_before(exc, job=job, technician=technician, start=start)
            if appointment is None:
                logger.info("voice booking refused: %s", exc)
                self._exclude([offer])
                return self._offer(prefix="Sorry, that time is no longer available. ")
        except ApplicationError as exc:
            logger.info("voice booking refused: %s", exc)
            self._exclude([offer])
            return self._offer(prefix="Sorry, that time is no longer available. ")
        return self._booked(appointment, technician, rescheduled=rescheduling, lead=lead)

    def _booked_before(
        self, refused: Conflict, *, job: Job, technician: Technician, start: dt.datetime
    ) -> Appointment | None:
        """The visit an earlier try of this turn booked, when the booking service refuses to
        book the job again because it holds exactly the visit the caller chose."""
        if refused.code != "already_booked":
            return None
        return (
            job.appointments.select_related("job", "technician")
            .filter(status__in=Appointment.ACTIVE_STATUSES, technician=technician, start=start)
            .first()
        )

    def _booked(
        self,
        appointment: Appointment,
        technician: Technician,
        *,
        rescheduled: bool,
        lead: str = "",
    ) -> str:
        call = self.call
        call.outcome = (
            CallSession.Outcome.RESCHEDULED if rescheduled else CallSession.Outcome.BOOKED
        )
        call.job = appointment.job
        window = self._appointment_window(appointment)
        call.outcome_reason = (
            f"{'Moved' if rescheduled else 'Booked'} {appointment.job.number} with "
            f"{technician.first_name} {window}"
        )[:300]
        self.memory.update(after_booking=True, offered=[], appointment_id=appointment.pk)
        sent = self._text_confirmation(appointment, technician, rescheduled=rescheduled)
        texted = " I've sent you a text to confirm." if sent else ""
        verb = "is now coming" if rescheduled else "will arrive"
        lead += "Help is on the way. " if self.memory.get("emergency") else "You're all set. "
        question = "Is there anything else I can do for you?"
        return self._ask(
            f"{lead}{technician.first_name} {verb} {window}.{texted} {question}",
            state="anything",
            question=question,
        )

    def _appointment_window(self, appointment: Appointment) -> str:
        start = (appointment.arrival_window_start or appointment.start).astimezone(self.tz)
        end = (appointment.arrival_window_end or appointment.end).astimezone(self.tz)
        return speech.window_spoken(start, end, today=self.now.astimezone(self.tz).date())

    def _text_confirmation(
        self, appointment: Appointment, technician: Technician, *, rescheduled: bool
    ) -> bool:
        from customers.messaging import sms_queue

        to = self.memory.get("callback") or self.memory.get("phone", "")
        if not to:
            self._action("No phone number for the confirmation text: confirm by phone or email")
            return False
        start = (appointment.arrival_window_start or appointment.start).astimezone(self.tz)
        end = (appointment.arrival_window_end or appointment.end).astimezone(self.tz)
        job = appointment.job
        what = "moved to" if rescheduled else "booked for"
        body = (
            f"{self.organization.name}: your visit ({job.service_type.name}, {job.number}) is "
            f"{what} {speech.window_written(start, end)}. {technician.first_name} will be your "
            "technician. Reply STOP to opt out."
        )
        queued = self.call.turn_effects.get("confirmation_message_id")
        message = (
            Message.objects.filter(organization=self.organization, pk=queued).first()
            if queued
            else None
        )
        if message is None:  # not already queued by an earlier try of this turn
            message = sms_queue(
                organization=self.organization,
                to=to,
                body=body,
                customer=self.call.customer,
                job=job,
                purpose="booking_confirmation",
            )
            self._note(confirmation_message_id=message.pk)
        return message.status not in ("failed", "suppressed")

    # --- after a booking, and goodbye -------------------------------------------------------

    def _on_anything(self, u: Understanding, text: str, keys: str) -> str:
        if u.intent in ("cancel", "reschedule", "billing") or u.service_type_id is not None:
            self._new_request()
            return self._on_need(u, text, keys)
        if u.intent == "yes" or u.intent == "book":
            self._new_request()
            return self._ask(
                "Sure. What else can I do for you?", state="need", question=NEED_PROMPT
            )
        return self._goodbye()

    def _new_request(self) -> None:
        for key in (
            "service_type_id",
            "description",
            "job_id",
            "offered",
            "excluded",
            "clarified",
            "candidate_service_id",
            "mode",
            "appointment_id",
            "emergency",
            "asked_which",
        ):
            self.memory.pop(key, None)

    def _goodbye(self) -> str:
        call = self.call
        call.state = "ended"
        if not call.outcome:
            call.outcome = CallSession.Outcome.NO_BOOKING
            call.outcome_reason = call.outcome_reason or "caller ended without a booking"
        return twiml.goodbye(
            text=f"Thank you for calling {self.organization.name}. Have a great day. Goodbye."
        )

    # --- cancel, reschedule, billing ---------------------------------------------------------

    def _may_disclose(self) -> bool:
        return (
            bool(self.memory.get("full") or self.call.verified)
            and self.call.customer_id is not None
        )

    def _next_appointment(self) -> Appointment | None:
        upcoming = selectors_callers.caller_upcoming(
            organization=self.organization, customer=self.call.customer, now=self.now
        )
        return upcoming[0] if upcoming else None

    def _appointment(self) -> Appointment:
        return Appointment.objects.select_related("job", "technician").get(
            organization=self.organization, pk=self.memory["appointment_id"]
        )

    def _cancel_start(self) -> str:
        self.memory["wanted"] = "cancel"
        if not self._may_disclose():
            return self._transfer(
                "I'll connect you with our office to find your appointment.",
                reason="cancellation request from a caller not verified",
            )
        appointment = self._next_appointment()
        if appointment is None:
            question = "Is there anything else I can do for you?"
            return self._ask(
                f"I don't see any upcoming visits on your account. {question}",
                state="anything",
                question=question,
            )
        self.memory["appointment_id"] = appointment.pk
        self._disclose(["upcoming appointment"], why=self._why())
        question = "Would you like me to cancel it?"
        return self._ask(
            f"Your next visit is {self._appointment_window(appointment)}. {question}",
            state="confirm_cancel",
            question=question,
        )

    def _on_confirm_cancel(self, u: Understanding, text: str, keys: str) -> str:
        question = "Is there anything else I can do for you?"
        if u.intent == "yes":
            appointment = self._appointment()
            appointment_cancel(
                appointment=appointment,
                reason="Cancelled by the customer on a call with the phone agent",
                cancel_job=True,
            )
            call = self.call
            call.outcome = CallSession.Outcome.CANCELLED
            call.outcome_reason = f"Cancelled {appointment.job.number}"
            call.job = appointment.job
            self.memory["after_booking"] = True
            return self._ask(
                f"Done, that visit is cancelled. {question}", state="anything", question=question
            )
        if u.intent == "no":
            return self._ask(
                f"Okay, I'll leave it as it is. {question}", state="anything", question=question
            )
        return self._again("Sorry, was that a yes?", question="Would you like me to cancel it?")

    def _reschedule_start(self, u: Understanding) -> str:
        if not self._may_disclose():
            return self._transfer(
                "I'll connect you with our office to find your appointment.",
                reason="reschedule request from a caller not verified",
            )
        appointment = self._next_appointment()
        if appointment is None:
            self.memory["service_type_id"] = None
            question = "If you'd like a new visit, can you describe what's going on?"
            return self._ask(
                f"I don't see any upcoming visits on your account. {question}",
                state="describe",
                question=question,
            )
        self._disclose(["upcoming appointment"], why=self._why())
        self.memory.update(
            mode="reschedule",
            appointment_id=appointment.pk,
            job_id=appointment.job_id,
            service_type_id=appointment.job.service_type_id,
            location_id=appointment.job.location_id,
        )
        self.call.job = appointment.job
        self._exclude(
            [{"technician": appointment.technician_id, "start": appointment.start.isoformat()}]
        )
        window = self._appointment_window(appointment)
        lead = f"Your next visit is {window}. Let me find another time. "
        return self._offer(prefix=lead, preference_text=u.preference_text)

    def _billing(self) -> str:
        self.memory["wanted"] = "billing"
        if not self._may_disclose():
            return self._transfer(
                "For billing questions, let me connect you with our office.",
                reason="billing question from a caller not verified",
            )
        balance = selectors_callers.caller_balance(
            organization=self.organization,
            customer=self.call.customer,
            today=self.now.astimezone(self.tz).date(),
        )
        self._disclose(["balance"], why=self._why())
        if not balance.open_balance:
            question = "Is there anything else I can do for you?"
            return self._ask(
                f"You don't have an open balance with us. {question}",
                state="anything",
                question=question,
            )
        late = balance.overdue_invoices
        overdue = f", and {late} invoice{'s are' if late > 1 else ' is'} past due" if late else ""
        question = "Would you like me to connect you with our office about it?"
        amount = speech.money_spoken(balance.open_balance, self.organization.currency)
        return self._ask(
            f"Your open balance is {amount}{overdue}. {question}",
            state="billing_offer",
            question=question,
        )

    def _on_billing_offer(self, u: Understanding, text: str, keys: str) -> str:
        if u.intent == "yes":
            return self._transfer("Connecting you with our office now.", reason="billing question")
        question = "Is there anything else I can do for you?"
        return self._ask(f"Okay. {question}", state="anything", question=question)

    def _why(self) -> str:
        if self.call.verified:
            return f"caller verified ({self.call.verification_method.replace('_', ' ')})"
        if self.organization.caller_privacy == Organization.CallerPrivacy.TRUST_CALLER_ID:
            return "organisation policy: trust caller ID"
        return "STIR/SHAKEN A attestation"

    # --- emergencies ------------------------------------------------------------------------

    def _emergency(self, u: Understanding) -> str:
        call = self.call
        memory = self.memory
        memory["emergency"] = u.emergency
        call.priority = Job.Priority.EMERGENCY
        self._description_add(u.words)
        if u.service_type_id is not None:
            memory["service_type_id"] = u.service_type_id
        elif not memory.get("service_type_id"):
            memory["service_type_id"] = getattr(self._emergency_service(u.emergency), "pk", None)
        safety = safety_instructions(u.emergency)
        policy = scheduling_policy_for(organization=self.organization)
        book = policy.emergency_call_handling == policy.EmergencyHandling.BOOK
        number, who = self._emergency_number()
        if memory.get("offered_location_id") and not memory.get("location_id"):
            memory["location_id"] = memory["offered_location_id"]  # the greeting's location
        if book or not number:
            if call.customer_id is not None and memory.get("location_id"):
                return self._offer(prefix=f"{safety} ")
            return self._next(prefix=f"{safety} I'll get someone out to you as fast as possible.")
        with contextlib.suppress(ApplicationError):
            self._job()  # on the board for the dispatcher even while the call is transferred
        self._action(
            f"Emergency ({u.emergency.replace('_', ' ')}): make sure the caller was reached"
        )
        return self._transfer(
            f"{safety} I'm connecting you with {who} right now. Please stay on the line.",
            reason=f"emergency ({u.emergency.replace('_', ' ')}): transferred to {who}",
            number=number,
        )

    def _emergency_service(self, emergency: str) -> ServiceType | None:
        category = {"flooding": "plumbing", "electrical_fire": "electrical"}.get(emergency, "hvac")
        if emergency == "gas":
            gas = [
                s
                for s in self.catalogue
                if s.kind == ServiceType.Kind.EMERGENCY and "gas" in s.name.lower()
            ]
            if gas:
                return gas[0]
        found = [
            s
            for s in self.catalogue
            if s.kind == ServiceType.Kind.EMERGENCY and s.category == category
        ]
        return found[0] if found else self._fallback_service()

    def _emergency_number(self) -> tuple[str, str]:
        """Who takes an emergency now: the on-call technician with a phone, else the office."""
        shift = (
            OnCallShift.objects.filter(
                organization=self.organization,
                start__lte=self.now,
                end__gt=self.now,
                technician__is_active=True,
            )
            .exclude(technician__phone="")
            .select_related("technician")
            .order_by("start", "id")
            .first()
        )
        if shift is not None:
            return shift.technician.phone, "our on-call technician"
        if self.organization.office_phone:
            return self.organization.office_phone, "our team"
        return "", ""

    # --- shared moves -----------------------------------------------------------------------

    def _ask(self, text: str, *, state: str, question: str | None) -> str:
        call = self.call
        if state != call.state:
            self.memory["misses"] = 0
        call.state = state
        self.memory["question"] = question or _last_sentence(text)
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
        misses = int(self.memory.get("misses", 0)) + 1
        self.memory["misses"] = misses
        if count_towards_transfer and misses > MAX_REPROMPTS:
            return self._transfer(
                "I'm sorry, I'm having trouble understanding. "
                "Let me connect you with someone in our office.",
                reason=reason,
            )
        if question is None and self.call.state == "choose":
            return self._repeat_offer(sorry)
        question = question or self.memory.get("question") or HELP_PROMPT
        repeated = sorry.rstrip().lower().endswith(question.lower())
        text = sorry if repeated else f"{sorry} {question}"
        self.memory["question"] = question
        return twiml.ask(
            text=text,
            call_sid=self.call.call_sid,
            turn=self._next_turn(),
            hints=HINTS.get(self.call.state, ()),
        )

    def _repeat_offer(self, sorry: str) -> str:
        labels = [o["label"] for o in self.memory.get("offered", ())]
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
            first = memory.get("first_name", "")
            return {"first_name": first} if first and not memory.get("unverified") else {}
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

    def find_slots(self, preference: str) -> list[str]:
        dialogue = self.dialogue
        job_id = dialogue.memory.get("job_id")
        job = (
            Job.objects.filter(organization=dialogue.organization, pk=job_id).first()
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


def _fits(preference: Preference, offer: dict, *, tz) -> bool:
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


def _offer_dict(slot: Slot, label: str) -> dict:
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
