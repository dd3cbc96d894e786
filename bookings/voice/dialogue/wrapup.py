"""Wrap-up: anything else, goodbye, and the requests about an existing visit or bill (cancel,
reschedule, billing)."""

from __future__ import annotations

from bookings import selectors_callers
from bookings.models import Appointment, CallSession
from bookings.services import (
    appointment_cancel,
)
from bookings.voice import selectors, speech, twiml
from bookings.voice.brain import Understanding
from bookings.voice.dialogue.states import (
    NEED_PROMPT,
)
from dispatchnode.accounts.models import Organization


class WrapUpStage:
    """Wrap-up."""

    # --- after a booking, and goodbye -------------------------------------------------------

    def _on_anything(self, u: Understanding, text: str, keys: str) -> str:
        if (
            u.intent in ("cancel", "reschedule", "billing")
            or u.service_type_id is not None
            or u.unserved
        ):
            self.memory.new_request()
            return self._on_need(u, text, keys)
        if u.intent == "yes" or u.intent == "book":
            self.memory.new_request()
            return self._ask(
                "Sure. What else can I do for you?", state="need", question=NEED_PROMPT
            )
        return self._goodbye()

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
        return bool(self.memory.full or self.call.verified) and self.call.customer_id is not None

    def _next_appointment(self) -> Appointment | None:
        upcoming = selectors_callers.caller_upcoming(
            organization=self.organization, customer=self.call.customer, now=self.now
        )
        return upcoming[0] if upcoming else None

    def _appointment(self) -> Appointment:
        return selectors.call_appointment_get(
            organization=self.organization, pk=self.memory.appointment_id
        )

    def _cancel_start(self) -> str:
        self.memory.wanted = "cancel"
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
        self.memory.appointment_id = appointment.pk
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
            self.memory.after_booking = True
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
            self.memory.service_type_id = None
            question = "If you'd like a new visit, can you describe what's going on?"
            return self._ask(
                f"I don't see any upcoming visits on your account. {question}",
                state="describe",
                question=question,
            )
        self._disclose(["upcoming appointment"], why=self._why())
        memory = self.memory
        memory.mode = "reschedule"
        memory.appointment_id = appointment.pk
        memory.job_id = appointment.job_id
        memory.service_type_id = appointment.job.service_type_id
        memory.location_id = appointment.job.location_id
        self.call.job = appointment.job
        self._exclude(
            [{"technician": appointment.technician_id, "start": appointment.start.isoformat()}]
        )
        window = self._appointment_window(appointment)
        lead = f"Your next visit is {window}. Let me find another time. "
        return self._offer(prefix=lead, preference_text=u.preference_text)

    def _billing(self) -> str:
        self.memory.wanted = "billing"
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
