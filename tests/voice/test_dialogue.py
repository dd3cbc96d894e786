"""The booking dialogue, call by call, through the signed Twilio webhooks: what the caller hears,
what ends up in the database (customer, job, appointment, messages, call record)."""

from __future__ import annotations

import datetime as dt
import re
import threading
from xml.etree import ElementTree

import pytest
from django.db import connection

from bookings.models import Appointment, CallSession, Job
from customers.models import Customer, Message
from tests import factories
from tests.voice.conftest import JOHN_PHONE, call_params

ATTESTED = "TN-Validation-Passed-A"


class Call:
    """One phone call played against the webhooks: `hear()` is the last thing said, `say()`
    answers the open `<Gather>` and returns what the agent says back."""

    def __init__(self, twilio, *, sid: str, **params: str) -> None:
        self.twilio = twilio
        self.sid = sid
        self.heard: list[str] = []
        self.twiml = ""
        self.params = call_params(sid, **params)
        self._respond(twilio.post("/twilio/voice/incoming", self.params))

    def _respond(self, response) -> str:
        assert response.status_code == 200, response.content
        self.twiml = response.content.decode()
        said = " ".join((e.text or "").strip() for e in _parse(self.twiml).iter("Say"))
        self.heard.append(said)
        return said

    @property
    def action(self) -> str | None:
        gather = _parse(self.twiml).find("Gather")
        return gather.get("action") if gather is not None else None

    @property
    def dialled(self) -> str | None:
        dial = _parse(self.twiml).find("Dial")
        return (dial.text or "").strip() if dial is not None else None

    def hear(self) -> str:
        return self.heard[-1]

    def say(self, text: str = "", *, digits: str = "", confidence: str = "0.92") -> str:
        assert self.action, f"the agent is not listening: {self.twiml}"
        params = {**self.params, "CallStatus": "in-progress"}
        if text:
            params.update(SpeechResult=text, Confidence=confidence)
        if digits:
            params["Digits"] = digits
        return self._respond(self.twilio.post(self.action, params))

    @property
    def record(self) -> CallSession:
        return CallSession.objects.get(call_sid=self.sid)


def _parse(twiml: str) -> ElementTree.Element:
    return ElementTree.fromstring(twiml)  # noqa: S314 - our own app's TwiML


def _sid(n: int) -> str:
    return f"CA{n:032x}"


def test_returning_customer_books_and_gets_a_confirmation_text(shop, twilio, john):
    call = Call(twilio, sid=_sid(1), StirVerstat=ATTESTED)
    greeting = call.hear()
    assert "John" in greeting
    assert "123 Main" in greeting
    assert "October" in greeting
    assert "air conditioner" in greeting
    assert "what can i help" in call.say("Yes, same place.").lower()
    offer = call.say("My air conditioner is blowing warm air and the house won't cool down.")
    assert offer.endswith("Which works best for you?")
    assert offer.count(" between ") == 3
    booked = call.say("The first one works for me.")
    assert "You're all set" in booked
    assert "anything else" in booked
    goodbye = call.say("No, that's everything. Thanks.")
    assert "Goodbye" in goodbye
    assert call.action is None

    record = call.record
    assert record.outcome == CallSession.Outcome.BOOKED
    assert record.customer == john
    assert not record.new_customer
    job = record.job
    assert job.source == "ai_call"
    assert job.service_type.code == "ac-repair"
    assert job.service_type.category == "hvac"
    assert "blowing warm air" in job.description
    appointment = job.appointments.get()
    assert appointment.status == Appointment.Status.SCHEDULED
    sms = Message.objects.get(customer=john, purpose="booking_confirmation")
    assert sms.to_address == JOHN_PHONE
    assert job.number in sms.body
    assert record.summary
    assert "AC repair" in record.summary
    assert record.lead_score
    assert record.lead_score >= 50
    assert [d["why"] for d in record.disclosures] == ["STIR/SHAKEN A attestation"]
    assert record.turns.count() == 5


def test_unattested_caller_is_verified_before_anything_is_read_back(shop, twilio, john):
    call = Call(twilio, sid=_sid(2), StirVerstat="TN-Validation-Failed")
    greeting = call.hear()
    assert "John" in greeting
    assert "ZIP" in greeting
    assert "123 Main" not in greeting
    assert "October" not in greeting
    assert "Smith" not in greeting
    verified = call.say("7 8 7 0 1")
    assert "123 Main" in verified
    assert "same location" in verified
    assert call.say("Yes.").endswith("What can I help you with today?")
    offer = call.say("I need my yearly furnace tune-up.")
    assert "Which works best" in offer
    call.say("The first one.")
    record = call.record
    assert record.outcome == CallSession.Outcome.BOOKED
    assert record.verified
    assert record.verification_method == "zip_or_street"
    assert record.job.service_type.code == "furnace-tune-up"
    assert record.disclosures[-1]["why"] == "caller verified (zip or street)"


def test_failed_verification_discloses_nothing_and_books_as_a_new_caller(shop, twilio, john):
    call = Call(twilio, sid=_sid(3), StirVerstat="TN-Validation-Failed")
    first_try = call.say("9 0 2 1 0")
    assert "doesn't match" in first_try
    second = call.say("Beverly Hills")
    assert "couldn't verify" in second
    assert "123 Main" not in second
    record = call.record
    assert record.customer is None
    assert not record.verified
    assert all("address" not in d["what"] for d in record.disclosures)
    asked_name = call.say("My kitchen sink is clogged.")
    assert "name" in asked_name.lower()


def test_verification_by_texted_code(shop, twilio, john, settings):
    call = Call(twilio, sid=_sid(4), StirVerstat="")
    reply = call.say("Can you text me a code instead?")
    assert "texted a four-digit code" in reply
    sms = Message.objects.get(purpose="verification_code")
    assert sms.to_address == JOHN_PHONE
    code = re.search(r"\b(\d{4})\b", sms.body).group(1)  # "0731" too: only a lone 0 transfers
    assert "123 Main" in call.say(digits=code)
    assert call.record.verified
    assert call.record.verification_method == "sms_code"


def test_new_caller_gives_name_address_and_number_and_books(shop, twilio):
    call = Call(twilio, sid=_sid(5), From="+15125550911", StirVerstat=ATTESTED)
    assert "welcome back" not in call.hear().lower()
    assert "name" in call.say("My water heater is leaking from the bottom.").lower()
    assert "address" in call.say("Maria Garcia.").lower()
    readback = call.say("4500 Duval Street, Austin, Texas 78751.")
    assert "4500 Duval Street" in readback
    assert "7 8 7 5 1" in readback
    callback = call.say("Yes, that's right.")
    assert "5 1 2, 5 5 5, 0 9 1 1" in callback
    offer = call.say("Yes, this number is fine.")
    assert "Which works best" in offer
    assert "You're all set" in call.say("The second one, please.")
    record = call.record
    maria = record.customer
    assert (maria.first_name, maria.last_name) == ("Maria", "Garcia")
    assert record.new_customer
    assert maria.source == "ai_call"
    location = record.job.location
    assert location.postal_code == "78751"
    assert location.street == "4500 DUVAL ST"
    assert record.job.service_type.category == "plumbing"
    assert Message.objects.filter(customer=maria, purpose="booking_confirmation").exists()


def test_nickname_from_a_new_number_is_the_existing_customer(shop, twilio):
    william = Customer.objects.get(first_name="William", last_name="Jenkins")
    call = Call(twilio, sid=_sid(6), From="+15125550888", StirVerstat=ATTESTED)
    call.say("The kitchen sink is clogged.")
    call.say("Bill Jenkins.")
    call.say("123 Oak St, Austin 78702.")
    found = call.say("Yes.")
    assert "found your account" in found
    call.say("Yes.")
    call.say("The first one.")
    record = call.record
    assert record.customer == william
    assert not record.new_customer
    assert record.outcome == CallSession.Outcome.BOOKED
    assert Customer.objects.filter(last_name="Jenkins").count() == 1
    assert william.contacts.filter(value="+15125550888").exists()


@pytest.mark.parametrize(
    ("address", "zip_said"),
    [
        ("One twenty three Oak Street", "seven eight seven oh two"),
        ("one hundred twenty three Oak Street", "seventy eight seven oh two"),
        ("one two three Oak Street", "7 8 7 0 2"),
    ],
)
def test_a_house_number_said_as_words_is_the_existing_customer(shop, twilio, address, zip_said):
    # given William Jenkins at 123 Oak Street, 78702, calling from a new number
    william = Customer.objects.get(first_name="William", last_name="Jenkins")
    call = Call(twilio, sid=_sid(61), From="+15125550889", StirVerstat=ATTESTED)
    call.say("The kitchen sink is clogged.")
    call.say("Bill Jenkins.")
    # when he says the house number and the ZIP code in words, as recognisers write them
    ask_zip = call.say(f"{address}.")
    assert "zip" in ask_zip.lower()
    readback = call.say(f"{zip_said}.")
    # then the agent reads back the digits and files the call under William
    assert "I have 123 Oak Street" in readback
    assert "7 8 7 0 2" in readback
    assert "found your account" in call.say("Yes.")
    call.say("Yes.")
    assert "You're all set" in call.say("The first one.")
    record = call.record
    assert record.customer == william
    assert not record.new_customer
    assert Customer.objects.filter(last_name="Jenkins").count() == 1


def test_a_caller_who_declines_every_offer_is_offered_a_call_back_not_a_transfer(
    shop, twilio, john
):
    # given John offered three times
    call = Call(twilio, sid=_sid(62), StirVerstat=ATTESTED)
    call.say("Yes, same place.")
    first = call.say("My air conditioner is blowing warm air.")
    assert first.endswith("Which works best for you?")
    # when he declines them, names no other day, and declines the later ones too
    asked = call.say("No, none of those work for me.")
    assert asked == "No problem. What day and time would work better for you?"
    later = call.say("No, none of those work for me.")
    assert later.startswith("No problem. Looking further ahead, I have")
    assert later.count("Which works best for you?") == 1
    offer = call.say("No, none of those work for me either.")
    assert offer.endswith("call you back to find a time?")
    goodbye = call.say("Yes, please.")

    # then the call ends politely with a call back promised, no transfer, and the lead kept
    assert "call you back at 5 1 2, 5 5 5, 0 1 4 2" in goodbye
    assert call.dialled is None
    assert call.action is None
    record = call.record
    assert record.outcome == CallSession.Outcome.NO_BOOKING
    assert record.outcome_reason == "declined every time offered"
    assert any(
        item.startswith("Call back John Smith at +15125550142: wants AC repair")
        for item in record.action_items
    ), record.action_items
    assert record.job.status == Job.Status.REQUESTED
    assert not Appointment.objects.filter(job=record.job).exists()


def test_with_no_opening_to_offer_the_caller_is_offered_a_call_back(shop, twilio, john):
    # given no technician works any more
    from bookings.models import Technician

    Technician.objects.update(is_active=False)
    call = Call(twilio, sid=_sid(63), StirVerstat=ATTESTED)
    call.say("Yes, same place.")
    # when John asks for a visit
    offer = call.say("My air conditioner is blowing warm air.")
    # then he hears it plainly and is offered a call back, and no means a polite goodbye
    assert "I don't have an opening I can book for you right now" in offer
    assert offer.endswith("call you back to find a time?")
    goodbye = call.say("No thanks.")
    assert "Whenever you'd like to book, just give us a call" in goodbye
    assert call.dialled is None
    record = call.record
    assert record.outcome == CallSession.Outcome.NO_BOOKING
    assert record.outcome_reason == "no open times to offer"


def test_a_request_the_company_does_not_serve_is_said_plainly_and_a_call_back_offered(
    shop, twilio, john
):
    # given John at his usual address
    call = Call(twilio, sid=_sid(90), StirVerstat=ATTESTED)
    call.say("Yes, same place.")
    # when he asks about something the catalogue has nothing for
    offer = call.say("My water softener stopped working yesterday.")
    # then he hears plainly that it is not done here, is offered a call back, and nothing is booked
    assert offer == (
        "I'm sorry, we don't handle water softeners or water treatment, so I can't book a visit "
        "for that. Would you like someone from our office to call you back about it?"
    )
    goodbye = call.say("Yes, please.")
    assert goodbye == (
        "Okay. Someone from our office will call you back at 5 1 2, 5 5 5, 0 1 4 2. "
        "Thank you for calling Demo Heating & Air. Goodbye."
    )
    assert call.dialled is None
    assert call.action is None
    record = call.record
    assert record.outcome == CallSession.Outcome.NO_BOOKING
    assert record.outcome_reason == "not a service we offer: water softener"
    assert (
        "Call back John Smith at +15125550142: asked about their water softener, "
        "which we don't service"
    ) in record.action_items
    assert record.customer == john
    assert record.job is None
    assert not Job.objects.filter(organization=record.organization, source="ai_call").exists()
    assert not Appointment.objects.filter(job__customer=john, status="scheduled").exists()
    assert 'My water softener stopped working yesterday."' in record.summary


def test_a_new_caller_asking_for_unserved_work_who_declines_a_call_back_is_let_go(shop, twilio):
    call = Call(twilio, sid=_sid(91), From="+15125550931", StirVerstat=ATTESTED)
    customers = Customer.objects.count()

    offer = call.say("Hi, do you guys service pool pumps?")
    assert offer.startswith("I'm sorry, we don't handle pools, hot tubs or their equipment")
    goodbye = call.say("No, that's okay.")

    assert goodbye == "Okay. Thank you for calling Demo Heating & Air. Goodbye."
    assert call.action is None
    record = call.record
    assert record.outcome == CallSession.Outcome.NO_BOOKING
    assert record.action_items == [
        "Caller asked about their pool pump, which we don't service (declined a call back)"
    ]
    assert record.customer is None
    assert Customer.objects.count() == customers
    assert not Job.objects.filter(source="ai_call").exists()


def test_unserved_work_asked_for_before_verifying_is_answered_once_verified(shop, twilio, john):
    call = Call(twilio, sid=_sid(96), StirVerstat="TN-Validation-Failed")
    asked = call.say("Hi, my pool pump stopped working.")
    assert asked.endswith(
        "First, to protect your privacy: What is the ZIP code of the service address?"
    )
    assert "same location" in call.say("7 8 7 0 1")

    offer = call.say("Yes.")

    assert offer.startswith("I'm sorry, we don't handle pools, hot tubs or their equipment")
    assert offer.endswith("call you back about it?")
    call.say("Yes, please.")
    record = call.record
    assert record.outcome_reason == "not a service we offer: pool pump"
    assert record.job is None
    assert "my pool pump stopped working" in record.summary


def test_unserved_work_asked_for_after_a_booking_leaves_the_booking_the_outcome(shop, twilio, john):
    call = Call(twilio, sid=_sid(97), StirVerstat=ATTESTED)
    call.say("Yes, same place.")
    call.say("My air conditioner is blowing warm air.")
    assert "You're all set" in call.say("The first one works for me.")

    offer = call.say("Yes, can you also fix my garage door opener?")
    assert offer.startswith("I'm sorry, we don't handle garage doors")
    call.say("Yes, please.")

    record = call.record
    assert record.outcome == CallSession.Outcome.BOOKED
    assert record.outcome_reason.startswith(f"Booked {record.job.number} with ")
    assert record.job.service_type.code == "ac-repair"
    assert (
        "Call back John Smith at +15125550142: asked about their garage door opener, "
        "which we don't service"
    ) in record.action_items


def test_a_vague_need_still_books_as_before(shop, twilio, john):
    call = Call(twilio, sid=_sid(92), StirVerstat=ATTESTED)
    call.say("Yes, same place.")

    asked = call.say("Something's wrong with my heating.")
    assert asked == "Just so I send the right technician: is this for a furnace repair?"
    offer = call.say("Yes.")
    assert offer.endswith("Which works best for you?")
    assert "You're all set" in call.say("The first one.")

    record = call.record
    assert record.outcome == CallSession.Outcome.BOOKED
    assert record.job.service_type.code == "furnace-repair"


def test_after_an_unserved_request_a_need_we_serve_is_booked(shop, twilio, john):
    call = Call(twilio, sid=_sid(93), StirVerstat=ATTESTED)
    call.say("Yes, same place.")
    assert call.say("Can you look at my solar panels?").endswith("call you back about it?")

    offer = call.say("Oh, and my air conditioner is blowing warm air.")
    assert offer.endswith("Which works best for you?")
    assert "You're all set" in call.say("The first one works for me.")

    record = call.record
    assert record.outcome == CallSession.Outcome.BOOKED
    assert record.job.service_type.code == "ac-repair"
    assert "solar" not in record.outcome_reason


def test_what_is_served_is_the_organisations_own_catalogue(shop, twilio, john, voice_org):
    # given this company does water softeners after all
    factories.ServiceTypeFactory(
        organization=voice_org,
        code="softener-service",
        name="Water softener service",
        category="plumbing",
        kind="repair",
        spoken_synonyms=["water softener stopped working"],
    )
    call = Call(twilio, sid=_sid(94), StirVerstat=ATTESTED)
    call.say("Yes, same place.")

    offer = call.say("My water softener stopped working yesterday.")

    assert offer.endswith("Which works best for you?")
    assert call.record.job.service_type.code == "softener-service"


def test_gas_smell_gets_safety_instructions_then_a_transfer(shop, twilio, john, voice_org):
    call = Call(twilio, sid=_sid(7), StirVerstat=ATTESTED)
    call.say("Yes.")
    reply = call.say("I smell gas near my furnace, it's really strong.")
    assert reply.index("leave the house") < reply.index("connecting you")
    assert "911" in reply
    assert call.dialled == voice_org.office_phone
    record = call.record
    assert record.outcome == CallSession.Outcome.TRANSFERRED
    assert record.priority == Job.Priority.EMERGENCY
    assert record.job.priority == Job.Priority.EMERGENCY


def test_emergency_rings_the_on_call_technician_when_one_is_on_shift(shop, twilio, john):
    import datetime as dt

    from django.utils import timezone

    from bookings.models import Technician

    technician = Technician.objects.get(first_name="Ana")
    now = timezone.now()
    factories.OnCallShiftFactory(
        technician=technician, start=now - dt.timedelta(hours=1), end=now + dt.timedelta(hours=6)
    )
    call = Call(twilio, sid=_sid(8), StirVerstat=ATTESTED)
    reply = call.say("There's water everywhere, a pipe burst in the basement!")
    assert "main water valve" in reply
    assert "on-call technician" in reply
    assert call.dialled == technician.phone


def test_emergency_policy_book_takes_the_earliest_slot(shop, twilio, john, voice_org):
    from bookings.models import SchedulingPolicy

    SchedulingPolicy.objects.create(
        organization=voice_org,
        emergency_call_handling=SchedulingPolicy.EmergencyHandling.BOOK,
    )
    call = Call(twilio, sid=_sid(9), StirVerstat=ATTESTED)
    call.say("Yes.")
    reply = call.say("My carbon monoxide alarm is going off.")
    assert reply.index("fresh air") < reply.index("Help is on the way")
    record = call.record
    assert record.outcome == CallSession.Outcome.BOOKED
    assert record.job.priority == Job.Priority.EMERGENCY


def test_asking_for_another_day_searches_it_and_a_part_of_day_picks(shop, twilio, john):
    from django.utils import timezone

    tz = john.organization.tzinfo
    day = timezone.now().astimezone(tz).date() + dt.timedelta(days=6)  # never in the first offer
    call = Call(twilio, sid=_sid(10), StirVerstat=ATTESTED)
    call.say("Yes.")
    call.say("My AC is not cooling.")
    first = call.record.context["dialogue"]["offered"]
    assert all(dt.datetime.fromisoformat(o["start"]).astimezone(tz).date() < day for o in first)

    again = call.say(f"Do you have anything {day:%A}?")

    offered = call.record.context["dialogue"]["offered"]
    assert again.endswith("Which works best for you?")
    assert {dt.datetime.fromisoformat(o["start"]).astimezone(tz).date() for o in offered} == {day}
    parts = [o for o in offered if "afternoon" in o["label"]]
    reply = call.say("The afternoon one.")
    if len(parts) > 1:
        assert "Which one would you like" in reply
        reply = call.say("The first one.")
    assert "You're all set" in reply
    booked = call.record.job.appointments.get().start.astimezone(tz)
    assert booked.date() == day
    assert 12 <= booked.hour < 17 or not parts


def test_keypad_pick_and_person_at_any_time(shop, twilio, john, voice_org):
    call = Call(twilio, sid=_sid(11), StirVerstat=ATTESTED)
    call.say("Yes.")
    call.say("The breaker keeps tripping in the kitchen.")
    assert "You're all set" in call.say(digits="2")
    assert call.record.job.service_type.category == "electrical"
    other = Call(twilio, sid=_sid(12), StirVerstat=ATTESTED)
    other.say("I'd rather talk to a real person, please.")
    assert other.dialled == voice_org.office_phone
    assert other.record.outcome == CallSession.Outcome.TRANSFERRED


def _two_calls_offered_the_same_slot(twilio) -> tuple[Call, Call]:
    first = Call(twilio, sid=_sid(13), StirVerstat=ATTESTED)
    second = Call(twilio, sid=_sid(14), StirVerstat=ATTESTED)
    for call in (first, second):
        call.say("Yes.")
        call.say("My AC is blowing warm air.")
    offered = [c.record.context["dialogue"]["offered"][0] for c in (first, second)]
    assert offered[0] == offered[1]
    return first, second


def test_a_lost_race_offers_fresh_slots_in_the_same_call(shop, twilio, john):
    first, second = _two_calls_offered_the_same_slot(twilio)
    assert "You're all set" in first.say("The first one.")

    reply = second.say("The first one.")

    assert "just taken by another caller" in reply
    assert reply.endswith("Which works best for you?")
    assert second.record.outcome == ""
    assert second.action is not None
    assert "You're all set" in second.say("The first one.")
    jobs = [first.record.job, second.record.job]
    slots = {(a.technician_id, a.start) for a in Appointment.objects.filter(job__in=jobs)}
    assert len(slots) == 2


@pytest.mark.django_db(transaction=True)
def test_two_calls_racing_for_one_slot_at_the_same_moment(shop, twilio, john):
    first, second = _two_calls_offered_the_same_slot(twilio)
    barrier = threading.Barrier(2)
    replies: dict[str, str] = {}

    def pick(call: Call) -> None:
        try:
            barrier.wait(timeout=30)
            replies[call.sid] = call.say("The first one.")
        finally:
            connection.close()

    threads = [threading.Thread(target=pick, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    outcomes = sorted("set" if "You're all set" in r else "taken" for r in replies.values())
    assert outcomes == ["set", "taken"], replies
    loser = first if "just taken" in replies[first.sid] else second
    assert "You're all set" in loser.say("The first one.")
    jobs = [first.record.job, second.record.job]
    assert Appointment.objects.filter(job__in=jobs).count() == 2


def test_silence_is_asked_again_twice_then_a_person(shop, twilio, voice_org):
    call = Call(twilio, sid=_sid(15), From="+15125550999")
    assert "didn't catch" in call.say()
    assert "didn't catch" in call.say()
    call.say()
    assert call.dialled == voice_org.office_phone
    record = call.record
    assert record.outcome == CallSession.Outcome.TRANSFERRED
    assert [t.intent for t in record.turns.order_by("sequence")][1:] == ["no_input"] * 3


def test_cancel_and_reschedule_the_next_visit(shop, twilio, john):
    booking = Call(twilio, sid=_sid(16), StirVerstat=ATTESTED)
    booking.say("Yes.")
    booking.say("I need an AC tune-up.")
    booking.say("The first one.")
    job = booking.record.job

    moving = Call(twilio, sid=_sid(17), StirVerstat=ATTESTED)
    reply = moving.say("I need to reschedule my appointment.")
    assert "Your next visit is" in reply
    assert "Which works best" in reply
    moving.say("The second one.")
    assert moving.record.outcome == CallSession.Outcome.RESCHEDULED
    assert job.appointments.get().status == Appointment.Status.SCHEDULED

    cancelling = Call(twilio, sid=_sid(18), StirVerstat=ATTESTED)
    assert "cancel it?" in cancelling.say("I want to cancel my appointment.")
    assert "cancelled" in cancelling.say("Yes please.")
    job.refresh_from_db()
    assert cancelling.record.outcome == CallSession.Outcome.CANCELLED
    assert job.status == Job.Status.CANCELLED


def test_billing_balance_is_read_only_to_a_verified_caller(shop, twilio, john, voice_org):
    factories.InvoiceFactory(
        organization=voice_org, customer=john, subtotal="240.00", tax_total="0", total="240.00"
    )
    call = Call(twilio, sid=_sid(19), StirVerstat="")
    reply = call.say("I have a question about my bill.")
    assert "$" not in reply
    assert "ZIP code" in reply
    assert "123 Main" in call.say("It's 78701.")
    balance = call.say("Yes.")
    assert "$240" in balance
    assert "connect you with our office" in balance
    assert call.record.disclosures[-1]["what"] == ["balance"]
    call.say("Yes please.")
    assert call.dialled == voice_org.office_phone


def test_unverified_billing_question_goes_to_the_office(shop, twilio, john, voice_org):
    call = Call(twilio, sid=_sid(20), StirVerstat="")
    call.say("I don't know it.")
    call.say("No idea.")
    reply = call.say("I have a question about my bill.")
    assert "$" not in reply
    assert call.dialled == voice_org.office_phone


def test_a_unit_number_is_read_back_and_kept(shop, twilio):
    call = Call(twilio, sid=_sid(21), From="+15125550912", StirVerstat=ATTESTED)
    call.say("My toilet won't stop running.")
    call.say("Hannah Okafor.")
    readback = call.say("1900 Barton Springs Road, apartment 4B, Austin 78704.")
    assert "apartment 4B" in readback
    call.say("Yes.")
    call.say("Yes.")
    call.say("The first one.")
    location = call.record.job.location
    assert location.unit == "APT 4B"
    assert location.street == "1900 BARTON SPRINGS RD"


def test_a_pick_by_part_of_day_narrows_an_ambiguous_offer(shop, twilio, john):
    import datetime as dt

    from bookings.availability import slots_find
    from bookings.preferences import Preference

    call = Call(twilio, sid=_sid(22), StirVerstat=ATTESTED)
    call.say("Yes.")
    call.say("My AC is not cooling.")
    # As a busy calendar would: the offer is three afternoons.
    record = call.record
    afternoons = slots_find(
        organization=record.organization,
        job=record.job,
        count=3,
        preference=Preference(after=dt.time(12), before=dt.time(17)),
    )
    offered = [
        {"technician": s.technician_id, "start": s.start.isoformat(), "label": f"slot {i}"}
        for i, s in enumerate(afternoons)
    ]
    record.context["dialogue"]["offered"] = offered
    record.save(update_fields=["context"])

    asked = call.say("The afternoon one, please.")
    assert "the first, the second or the third" in asked
    assert "You're all set" in call.say("The afternoon one.")
    booked = call.record.job.appointments.get()
    assert booked.start == afternoons[0].start


def test_a_customer_with_a_complaint_is_offered_a_person_up_front(shop, twilio, john):
    from customers.models import CustomerNote

    factories.CustomerNoteFactory(
        customer=john, kind=CustomerNote.Kind.COMPLAINT, body="Tech was late twice"
    )
    call = Call(twilio, sid=_sid(24), StirVerstat=ATTESTED)
    greeting = call.hear()
    assert "speak with someone in our office" in greeting
    assert greeting.endswith("Is this for the same location?")
    assert "Tech was late" not in greeting
    assert any("complaint" in item for item in call.record.action_items)


def test_another_address_said_with_the_no_is_read_back_and_added(shop, twilio, john):
    call = Call(twilio, sid=_sid(25), StirVerstat=ATTESTED)
    readback = call.say("No, it's for my rental at 55 Elm Street apartment 2, Austin 78701")
    assert readback.startswith("I have 55 Elm Street, apartment 2, Austin, 7 8 7 0 1.")
    assert "added that address" in call.say("Yes.")
    call.say("I need a new water heater installed.")
    call.say("The first one.")
    record = call.record
    assert record.customer == john
    assert not record.new_customer
    assert record.job.location.unit == "APT 2"
    assert john.locations.count() == 2
    assert record.job.service_type.code == "water-heater-install"


def test_business_hours_are_answered_then_the_agent_carries_on(shop, twilio, voice_org):
    reply = Call(twilio, sid=_sid(26), From="+15125550936").say("What are your hours?")
    assert reply == (
        "We're open Monday to Friday from 8 in the morning to 5 in the afternoon. "
        "What can I help you with today?"
    )


def test_an_address_given_for_a_name_is_not_taken_as_one(shop, twilio):
    call = Call(twilio, sid=_sid(27), From="+15125550937", StirVerstat=ATTESTED)
    call.say("My furnace needs maintenance.")
    assert "didn't get your name" in call.say("4500 Duval, Austin")
    assert call.record.context["dialogue"].get("first_name", "") == ""


def test_with_the_llm_brain_the_same_dialogue_books(shop, twilio, john, settings):
    """VOICE_BRAIN=llm end to end: the model (a local fake of an OpenAI-compatible server)
    reads words the rules do not know; the dialogue books through the same services."""
    from bookings.voice.llm_brain import _configured_brain
    from tests.fakes.openai_chat import FakeOpenAIChat, ToolCall

    chat = FakeOpenAIChat().start()
    try:
        settings.VOICE_BRAIN = "llm"
        settings.LLM_BASE_URL = chat.base_url
        chat.on("cold air", ToolCall("book", {"service_code": "ac-repair"}))
        chat.on("second", ToolCall("book", {"choice": 2}))
        call = Call(twilio, sid=_sid(28), StirVerstat=ATTESTED)
        call.say("Yes.")
        offer = call.say("The thing on the wall stopped making cold air.")
        assert "Which works best" in offer
        second = call.record.context["dialogue"]["offered"][1]
        assert "You're all set" in call.say("Let's do the second.")
        record = call.record
        assert record.job.service_type.code == "ac-repair"
        booked = record.job.appointments.get().start
        assert booked == dt.datetime.fromisoformat(second["start"])
        assert len(chat.requests) >= 2
    finally:
        chat.stop()
        _configured_brain.cache_clear()
