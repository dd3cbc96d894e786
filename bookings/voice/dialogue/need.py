"""Need and triage: the location, what the caller needs, which service that is, what is still
missing, and emergencies."""

from __future__ import annotations

import contextlib
import re

from bookings.models import Job, ServiceType
from bookings.selectors import scheduling_policy_for
from bookings.voice import selectors, speech
from bookings.voice.brain import UNSURE, Understanding, safety_instructions, unserved_spoken
from bookings.voice.dialogue.helpers import (
    _HOURS_QUESTION,
    _service_spoken,
)
from bookings.voice.dialogue.price import BOOK_IT as PRICE_BOOK_IT
from bookings.voice.dialogue.states import (
    CALLBACK_ASK,
    DESCRIBE_PROMPT,
    HELP_PROMPT,
    NAME_PROMPT,
    NEED_PROMPT,
    UNSERVED_CALLBACK_ASK,
)
from dispatchnode.core.errors import ApplicationError


class NeedStage:
    """Need and triage."""

    # --- location and need -------------------------------------------------------------------

    def _on_confirm_location(self, u: Understanding, text: str, keys: str) -> str:
        if u.intent in ("cancel", "reschedule", "billing"):
            self.memory.location_id = self.memory.offered_location_id
            return self._on_need(u, text, keys)
        if u.unserved:
            self.memory.location_id = self.memory.offered_location_id
            return self._unserved(u, text)
        if u.intent == "yes" or u.service_type_id is not None:
            self.memory.location_id = self.memory.offered_location_id
            if u.service_type_id is not None:
                return self._service_heard(u, text)
            if self.memory.price_service_ids:  # a price asked instead of answering: book it?
                return self._ask(
                    f"Great. {PRICE_BOOK_IT}", state="price_offer", question=PRICE_BOOK_IT
                )
            pending, self.memory.pending_intent = self.memory.pending_intent, ""
            if pending:
                return self._on_need(Understanding(intent=pending, words=text), text, keys)
            unserved, self.memory.pending_unserved = self.memory.pending_unserved, ""
            if unserved:
                return self._unserved(Understanding(intent="book", unserved=unserved), "")
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
        if self.memory.price_asked:
            # The answer to "what would you like a price for?" is a price question.
            self.memory.price_asked = False
            if u.intent in ("book", "unknown") and not u.unserved:
                return self._price(
                    Understanding(
                        intent="price",
                        service_type_id=u.service_type_id,
                        service_confidence=u.service_confidence,
                        words=u.words,
                    ),
                    text,
                )
        if u.intent == "cancel":
            return self._cancel_start()
        if u.intent == "reschedule":
            return self._reschedule_start(u)
        if u.intent == "billing":
            return self._billing()
        if u.unserved:
            return self._unserved(u, text)
        if u.service_type_id is not None:
            return self._service_heard(u, text)
        if u.intent == "book":
            return self._ask(DESCRIBE_PROMPT, state="describe", question=DESCRIBE_PROMPT)
        if u.intent == "no" and self.memory.after_booking:
            return self._goodbye()
        if _HOURS_QUESTION.search(text):
            hours = speech.business_hours_spoken(self.organization.business_hours or {})
            return self._ask(f"{hours} {NEED_PROMPT}", state="need", question=NEED_PROMPT)
        return self._again("Sorry, I'm not sure I understood.", question=HELP_PROMPT)

    def _on_describe(self, u: Understanding, text: str, keys: str) -> str:
        if u.unserved:
            return self._unserved(u, text)
        if u.service_type_id is not None:
            return self._service_heard(u, text)
        if u.intent in ("cancel", "reschedule", "billing"):
            return self._on_need(u, text, keys)
        # Two tries, then the job is booked as a general visit and the office reads the words.
        fallback = self._fallback_service()
        if self.memory.misses >= 1 and fallback is not None:
            self._description_add(text)
            self.memory.service_type_id = fallback.pk
            self._action("Service unclear from the call: check the description and service type")
            return self._next(prefix="Thanks, I'll note that for the technician.")
        return self._again("Sorry, I didn't quite get that.", question=DESCRIBE_PROMPT)

    def _unserved(self, u: Understanding, text: str) -> str:
        """Something the organisation does not serve: said plainly, never booked as something
        else; the office can call back (the call-back offer of a caller who declines every
        time)."""
        self._description_add(text)
        self.memory.unserved = u.unserved
        self.memory.wanted = "unserved"
        return self._callback_offer(
            f"I'm sorry, we don't handle {unserved_spoken(u.unserved)}, "
            "so I can't book a visit for that.",
            reason=f"not a service we offer: {u.unserved}",
            question=UNSERVED_CALLBACK_ASK,
        )

    def _service_heard(self, u: Understanding, text: str) -> str:
        self._description_add(text)
        service = self._service(u.service_type_id)
        if service is None:
            return self._again("Sorry, I didn't quite get that.", question=DESCRIBE_PROMPT)
        if u.service_confidence < UNSURE and not self.memory.clarified:
            self.memory.clarified = True
            self.memory.candidate_service_id = service.pk
            question = (
                f"Just so I send the right technician: is this for {_service_spoken(service)}?"
            )
            return self._ask(question, state="clarify", question=question)
        self.memory.service_type_id = service.pk
        return self._next(prefix="Okay.")

    def _on_clarify(self, u: Understanding, text: str, keys: str) -> str:
        candidate = self.memory.candidate_service_id
        if u.intent == "yes" or (u.service_type_id == candidate and candidate is not None):
            self.memory.service_type_id = candidate
            return self._next(prefix="Great.")
        if u.service_type_id is not None:
            self._description_add(text)
            self.memory.service_type_id = u.service_type_id
            return self._next(prefix="Got it.")
        alternative, self.memory.price_alternative_id = self.memory.price_alternative_id, None
        if u.intent == "no" and alternative is not None:
            # The price named two services and it is not the first: the other one.
            self.memory.service_type_id = alternative
            return self._next(prefix="Got it.")
        # Still unsure after one question: keep the best guess, the office double-checks.
        self._description_add(text)
        self.memory.service_type_id = candidate or getattr(self._fallback_service(), "pk", None)
        self._action("Service unclear from the call: check the description and service type")
        return self._next(prefix="Thanks, I'll note that for the technician.")

    def _description_add(self, text: str) -> None:
        words = " ".join(text.split())
        if words:
            said = self.memory.description
            self.memory.description = f"{said} {words}".strip()[:1000]

    def service_chosen(self) -> ServiceType | None:
        """The service this call is about so far (None until the caller said)."""
        return self._service(self.memory.service_type_id)

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
        if not memory.service_type_id:
            return self._ask(f"{lead}{NEED_PROMPT}", state="need", question=NEED_PROMPT)
        if memory.new_caller and self.call.customer_id is None:
            if not memory.first_name:
                return self._ask(
                    f"{lead}{NAME_PROMPT}", state="name", question="Can I have your name, please?"
                )
            if not memory.address_confirmed:
                return self._ask_address(lead)
        if not memory.location_id and not memory.address_confirmed:
            return self._ask_address(lead)
        if memory.new_caller and not memory.callback:
            phone = memory.phone
            if phone:
                question = f"Is {speech.digits_spoken(phone)} the best number to reach you?"
                return self._ask(f"{lead}{question}", state="callback", question=question)
            return self._ask(
                f"{lead}{CALLBACK_ASK}", state="callback_number", question=CALLBACK_ASK
            )
        return self._offer(prefix=lead)

    def _ask_address(self, lead: str) -> str:
        first = self.memory.first_name
        thanks = f"Thanks, {first}. " if first and not lead else lead
        question = "What's the address where you need the service, with the ZIP code?"
        return self._ask(f"{thanks}{question}", state="address", question=question)

    # --- emergencies ------------------------------------------------------------------------

    def _emergency(self, u: Understanding) -> str:
        call = self.call
        memory = self.memory
        memory.emergency = u.emergency
        call.priority = Job.Priority.EMERGENCY
        self._description_add(u.words)
        if u.service_type_id is not None:
            memory.service_type_id = u.service_type_id
        elif not memory.service_type_id:
            memory.service_type_id = getattr(self._emergency_service(u.emergency), "pk", None)
        safety = safety_instructions(u.emergency)
        policy = scheduling_policy_for(organization=self.organization)
        book = policy.emergency_call_handling == policy.EmergencyHandling.BOOK
        number, who = self._emergency_number()
        if memory.offered_location_id and not memory.location_id:
            memory.location_id = memory.offered_location_id  # the greeting's location
        if book or not number:
            if call.customer_id is not None and memory.location_id:
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
        shift = selectors.on_call_shift_now(organization=self.organization, now=self.now)
        if shift is not None:
            return shift.technician.phone, "our on-call technician"
        if self.organization.office_phone:
            return self.organization.office_phone, "our team"
        return "", ""
