"""A phone turn holds no lock while the brain thinks: the answer is understood outside any
transaction, the turn is claimed with a lease, and the booking services act as the outermost
transactions. Measured with a slow model (the local fake OpenAI server answering after 3 s) on
whichever database the suite runs on; Twilio's retries of a turn stay idempotent, during the turn
and after a crash."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from bookings.models import Appointment, Technician
from bookings.voice.llm_brain import _configured_brain
from tests.fakes.openai_chat import FakeOpenAIChat, ToolCall
from tests.voice.test_dialogue import ATTESTED, Call, _sid

MODEL_SECONDS = 3.0
WILLIAM_PHONE = "+15125550177"


@pytest.fixture
def slow_model(settings):
    """The LLM brain configured against a fake server that answers every request after 3 s."""
    server = FakeOpenAIChat().start()
    server.slow_seconds = MODEL_SECONDS
    _configured_brain.cache_clear()
    yield server
    server.stop()
    _configured_brain.cache_clear()


def _llm_brain_on(settings, server: FakeOpenAIChat) -> None:
    settings.VOICE_BRAIN = "llm"
    settings.LLM_BASE_URL = server.base_url
    settings.LLM_MODEL = "test-model"
    settings.LLM_API_KEY = ""
    settings.LLM_TIMEOUT_SECONDS = MODEL_SECONDS + 2


def _offered(call: Call, need: str) -> str:
    assert "what can i help" in call.say("Yes, same place.").lower()
    offer = call.say(need)
    assert offer.endswith("Which works best for you?"), offer
    return offer


@pytest.mark.django_db(transaction=True)
def test_a_turn_waiting_on_a_slow_model_does_not_hold_up_another_callers_booking(
    shop, twilio, john, settings, slow_model
):
    # given two callers offered the same technician's times (the rule brain, so far)
    Technician.objects.filter(first_name="Ana").update(is_active=False)
    mike = Technician.objects.get(first_name="Mike")
    john_call = Call(twilio, sid=_sid(71), StirVerstat=ATTESTED)
    _offered(john_call, "My air conditioner is blowing warm air and the house won't cool down.")
    william_call = Call(twilio, sid=_sid(72), StirVerstat=ATTESTED, From=WILLIAM_PHONE)
    _offered(william_call, "My air conditioner is blowing warm air and the house won't cool down.")
    # and the LLM brain, 3 s an answer, from now on
    _llm_brain_on(settings, slow_model)
    slow_model.on("first one", ToolCall("book", {"choice": 1}))
    slow_model.fail("slow")

    # when John picks the first time by voice (the model is asked) ...
    answers: dict[str, object] = {}

    def john_picks() -> None:
        started = time.monotonic()
        try:
            answers["john"] = john_call.say("The first one works for me.")
        except Exception as exc:
            answers["john"] = exc
        finally:
            answers["john_seconds"] = time.monotonic() - started
            connection.close()

    thread = threading.Thread(target=john_picks)
    thread.start()
    deadline = time.monotonic() + 5
    while not slow_model.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(slow_model.requests) == 1  # John's turn is waiting on the model
    # ... and William, meanwhile, presses 1 for the same time (keys are read by the rules)
    started = time.monotonic()
    william_booked = william_call.say(digits="1")
    william_seconds = time.monotonic() - started
    john_waiting = thread.is_alive()
    thread.join(timeout=15)

    # then William was booked at once, while John's turn was still waiting on the model
    john_seconds = answers["john_seconds"]
    print(f"\nWilliam booked in {william_seconds:.3f} s; John's turn took {john_seconds:.3f} s")
    assert john_waiting
    assert william_seconds < 1.0
    assert "You're all set" in william_booked
    assert "Mike will arrive" in william_booked
    # and John, answered after the model, hears that the time went to someone else
    john_heard = answers["john"]
    assert isinstance(john_heard, str), john_heard
    assert answers["john_seconds"] >= MODEL_SECONDS
    assert "that time was just taken by another caller" in john_heard
    assert john_heard.endswith("Which works best for you?")
    booked = Appointment.objects.filter(technician=mike)
    assert [a.job.customer.last_name for a in booked] == ["Jenkins"]
    assert john_call.record.turns.count() == 4
    assert william_call.record.turns.count() == 4


# --- the booking services are the outermost transaction --------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_booking_services_refuse_to_run_inside_a_wider_transaction(shop, john):
    # given a job of John's and a free time of Mike's
    from django.db import transaction

    from bookings.availability import slots_find
    from bookings.models import Job, ServiceType
    from bookings.services import appointment_book, appointment_cancel, job_create

    location = john.locations.get()
    service = ServiceType.objects.get(organization=john.organization, code="ac-tune-up")
    jobs_before = Job.objects.filter(customer=john).count()
    # when a caller wraps job_create in a transaction of its own, it is refused
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        job_create(
            organization=john.organization, customer=john, location=location, service_type=service
        )
    assert Job.objects.filter(customer=john).count() == jobs_before
    job = job_create(
        organization=john.organization, customer=john, location=location, service_type=service
    )
    slot = slots_find(organization=john.organization, job=job, count=1)[0]
    technician = Technician.objects.get(pk=slot.technician_id)
    # and so is a booking wrapped in one: nothing is booked
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        appointment_book(job=job, technician=technician, start=slot.start)
    assert not Appointment.objects.filter(job=job).exists()
    # while on its own it books, and a cancellation inside another transaction is refused too
    appointment = appointment_book(job=job, technician=technician, start=slot.start)
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        appointment_cancel(appointment=appointment)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED


# --- a Twilio retry of a turn stays idempotent -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_retry_of_a_turn_in_progress_waits_for_its_answer_and_books_once(
    shop, twilio, john, settings, slow_model
):
    # given John offered times, and the LLM brain answering after 3 s
    from customers.models import Message

    john_call = Call(twilio, sid=_sid(81), StirVerstat=ATTESTED)
    _offered(john_call, "My air conditioner is blowing warm air and the house won't cool down.")
    _llm_brain_on(settings, slow_model)
    slow_model.on("first one", ToolCall("book", {"choice": 1}))
    slow_model.fail("slow")
    action = john_call.action
    params = {
        **john_call.params,
        "CallStatus": "in-progress",
        "SpeechResult": "The first one works for me.",
        "Confidence": "0.92",
    }

    # when Twilio sends the turn, and sends it again while the first request is still running
    answers: dict[str, str] = {}

    def post(name: str) -> None:
        try:
            response = twilio.post(action, params)
            answers[name] = response.content.decode()
        finally:
            connection.close()

    first = threading.Thread(target=post, args=("first",))
    first.start()
    deadline = time.monotonic() + 5
    while not slow_model.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    retry = threading.Thread(target=post, args=("retry",))
    retry.start()
    first.join(timeout=20)
    retry.join(timeout=20)

    # then both requests hear the same answer, and the visit is booked and texted once
    assert "You're all set" in answers["first"], answers
    assert answers["retry"] == answers["first"]
    call = john_call.record
    assert Appointment.objects.filter(job__customer=john, job__calls=call).count() == 1
    assert call.outcome == call.Outcome.BOOKED
    assert Message.objects.filter(customer=john, purpose="booking_confirmation").count() == 1
    assert sorted(call.turns.values_list("sequence", flat=True)) == [0, 1, 2, 3]
    assert call.turn_lease_token == ""
    assert call.turn_effects == {}


@pytest.mark.django_db(transaction=True)
def test_a_turn_answered_again_after_a_crash_books_and_texts_once(shop, twilio, john):
    # given John offered times
    import datetime as dt

    from django.utils import timezone

    from bookings.models import CallSession, Job
    from bookings.voice.services import dialogue_turn
    from customers.models import Message

    john_call = Call(twilio, sid=_sid(82), StirVerstat=ATTESTED)
    _offered(john_call, "My air conditioner is blowing warm air and the house won't cool down.")
    record = john_call.record
    turn = record.context["webhook"]["next_turn"]
    # and a first try of his answer that acted (job, booking, text) and died before recording
    # the turn: its lease and its notes are on the call, the rest of the call is as it was
    CallSession.objects.filter(pk=record.pk).update(
        turn_lease_token="a-request-that-died",
        turn_lease_until=timezone.now() + dt.timedelta(seconds=60),
        turn_effects={"turn": turn},
    )
    dying = CallSession.objects.select_related("organization").get(pk=record.pk)
    said = dialogue_turn(call=dying, speech="The first one.", digits="", confidence=0.92)
    assert "You're all set" in said
    assert Appointment.objects.filter(job__customer=john).count() == 1
    CallSession.objects.filter(pk=record.pk).update(
        turn_lease_until=timezone.now() - dt.timedelta(seconds=1)  # its lease ran out
    )

    # when Twilio's retry of that turn arrives
    again = john_call.say("The first one.")

    # then John hears the booking, and there is still one job, one visit and one text
    assert "You're all set" in again
    assert "sent you a text" in again
    jobs = Job.objects.filter(customer=john, source="ai_call")
    assert jobs.count() == 1
    assert Appointment.objects.filter(job__customer=john).count() == 1
    assert Message.objects.filter(customer=john, purpose="booking_confirmation").count() == 1
    call = john_call.record
    assert call.job == jobs.get()
    assert call.outcome == CallSession.Outcome.BOOKED
    assert call.turn_effects == {}
    assert call.turn_lease_token == ""
