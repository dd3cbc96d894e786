"""Offers and booking: the job, the slots offered, the caller's pick or decline, the booking and
its confirmation text."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from bookings.availability import Slot, slots_find
from bookings.models import Appointment, CallSession, Job, Technician
from bookings.preferences import preference_parse
from bookings.selectors import technician_get
from bookings.services import (
    SlotTaken,
    appointment_book,
    appointment_reschedule,
    job_create,
)
from bookings.voice import selectors, speech, twiml
from bookings.voice.brain import Understanding
from bookings.voice.dialogue.helpers import (
    _PICKS,
    _fits,
    _offer_dict,
    _ordinals,
)
from bookings.voice.dialogue.states import (
    LATER_OFFSET,
    SLOTS_OFFERED,
    TIME_CALLBACK_ASK,
)
from customers.models import Source
from dispatchnode.core.errors import ApplicationError, Conflict

logger = logging.getLogger(__name__)


class BookingStage:
    """Offers and booking."""

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
        if not memory.job_id and self.call.turn_effects.get("job_id"):
            memory.job_id = self.call.turn_effects["job_id"]  # an earlier try created it
        if memory.job_id:
            return selectors.call_job_get(organization=self.organization, pk=memory.job_id)
        customer = self.call.customer
        location = (
            selectors.call_location_get(
                organization=self.organization, customer=customer, pk=memory.location_id
            )
            if customer is not None
            else None
        )
        service = self._service(memory.service_type_id)
        if customer is None or location is None or service is None:
            return None
        job = job_create(
            organization=self.organization,
            customer=customer,
            location=location,
            service_type=service,
            description=memory.description,
            priority=Job.Priority.EMERGENCY if memory.emergency else Job.Priority.NORMAL,
            source=Source.AI_CALL,
        )
        memory.job_id = job.pk
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
        emergency = bool(self.memory.emergency)
        preference = None
        if preference_text:
            preference = preference_parse(preference_text, now=self.now, tz=self.tz)
        count = 1 if emergency else SLOTS_OFFERED
        slots = slots_find(
            organization=self.organization,
            job=job,
            count=count,
            preference=preference,
            exclude=self._excluded(),
            now=self.now,
        )
        lead = prefix
        if not slots and preference is not None:
            lead += f"I don't have anything open for {speech.preference_spoken(preference_text)}. "
            slots = slots_find(
                organization=self.organization,
                job=job,
                count=count,
                exclude=self._excluded(),
                now=self.now,
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
        self.memory.offered = offered
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
        offered = self.memory.offered
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
                if self.memory.asked_which:  # the same answer again: the earliest one
                    return self._book(fitting[0])
                self.memory.asked_which = True
                question = "Which one would you like: " + _ordinals(len(fitting)) + "?"
                return self._ask(f"They all are. {question}", state="choose", question=question)
            if fitting:
                self.memory.offered = fitting
                labels = " or ".join(o["label"] for o in fitting)
                question = "Which one would you like?" if len(fitting) > 1 else "Would that work?"
                return self._ask(f"I have {labels}. {question}", state="choose", question=question)
        if u.preference_text:
            self._exclude(offered)
            return self._offer(preference_text=u.preference_text)
        if u.intent == "no" and offered:
            self._exclude(offered)
            self.memory.offered = []
            if self.memory.offered_later:
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
        if self.memory.offered_later:
            return self._callback_offer(
                "I'm sorry I couldn't find a time that suits you.",
                reason="declined every time offered",
            )
        self.memory.offered_later = True
        job = self._job()
        slots = (
            slots_find(
                organization=self.organization,
                job=job,
                count=SLOTS_OFFERED,
                earliest=self.now + LATER_OFFSET,
                exclude=self._excluded(),
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

    def _callback_offer(self, lead: str, *, reason: str, question: str = TIME_CALLBACK_ASK) -> str:
        self.memory.callback_reason = reason
        return self._ask(f"{lead} {question}", state="callback_offer", question=question)

    def _on_callback_offer(self, u: Understanding, text: str, keys: str) -> str:
        unserved = self.memory.unserved
        if unserved and u.intent not in ("yes", "no") and (u.service_type_id or u.unserved):
            # "Oh, and my AC isn't cooling either": a new request, heard as one.
            self.memory.unserved = ""
            self.memory.wanted = ""
            return self._on_need(u, text, keys)
        if u.intent not in ("yes", "no"):
            return self._again("Sorry, was that a yes?", question=None)
        call = self.call
        call.state = "ended"
        if not call.outcome:  # a visit booked earlier in the call stays the call's outcome
            call.outcome = CallSession.Outcome.NO_BOOKING
            call.outcome_reason = (self.memory.callback_reason or "no time booked")[:300]
        number = self.memory.callback or self.memory.phone
        name = " ".join(part for part in (self.memory.first_name, self.memory.last_name) if part)
        thanks = f"Thank you for calling {self.organization.name}. Goodbye."
        reach = f" at {speech.digits_spoken(number)}" if number else ""
        if unserved:
            asked = f"asked about their {unserved}, which we don't service"
            callback_note, declined_note, purpose, parting = asked, asked, "", ""
        else:
            service = self._service(self.memory.service_type_id)
            wanted = service.name if service is not None else "a visit"
            callback_note = f"wants {wanted}; no offered time suited them"
            declined_note = f"wanted {wanted} but booked no time"
            purpose, parting = (
                " to find a time",
                "Whenever you'd like to book, just give us a call. ",
            )
        if u.intent == "yes":
            self._action(
                f"Call back {name or 'the caller'} at {number or 'the number they called from'}: "
                f"{callback_note}"
            )
            return twiml.goodbye(
                text=f"Okay. Someone from our office will call you back{reach}{purpose}. {thanks}"
            )
        self._action(f"{name or 'Caller'} {declined_note} (declined a call back)")
        return twiml.goodbye(text=f"Okay. {parting}{thanks}")

    def _excluded(self) -> list[tuple[int, dt.datetime]]:
        """The (technician, start) pairs not to offer again in this call."""
        return [(t, dt.datetime.fromisoformat(s)) for t, s in self.memory.excluded]

    def _exclude(self, offered: list[dict]) -> None:
        excluded = self.memory.excluded
        excluded.extend([o["technician"], o["start"]] for o in offered)
        del excluded[:-30]

    def _book(self, offer: dict, *, lead: str = "") -> str:
        job = self._job()
        technician = technician_get(organization=self.organization, pk=offer["technician"])
        if job is None or technician is None:
            return self._offer(prefix="Sorry, that time is no longer available. ")
        start = dt.datetime.fromisoformat(offer["start"])
        rescheduling = self.memory.mode == "reschedule"
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
        return selectors.job_active_appointment_at(
            organization=self.organization, job=job, technician=technician, start=start
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
        self.memory.after_booking = True
        self.memory.offered = []
        self.memory.appointment_id = appointment.pk
        sent = self._text_confirmation(appointment, technician, rescheduled=rescheduled)
        texted = " I've sent you a text to confirm." if sent else ""
        verb = "is now coming" if rescheduled else "will arrive"
        lead += "Help is on the way. " if self.memory.emergency else "You're all set. "
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

        to = self.memory.callback or self.memory.phone
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
            selectors.call_message_get(organization=self.organization, pk=queued)
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
