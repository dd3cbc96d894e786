"""A phone turn holds no lock while the brain thinks: the answer is understood outside any
transaction, then acted on and recorded in a short one. Measured with a slow model (the local
fake OpenAI server answering after 3 s) on whichever database the suite runs on."""

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
