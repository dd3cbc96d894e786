"""The dialogue's working memory: typed in one dataclass, stored as plain JSON in
`call.context["dialogue"]`, and tolerant of what an older (or newer) version stored."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re

from bookings.models import CallSession
from bookings.voice.dialogue.memory import DialogueMemory
from tests.voice.test_dialogue import ATTESTED, Call, _sid


def test_a_fresh_memory_is_stored_as_an_empty_object():
    assert DialogueMemory().to_dict() == {}
    assert DialogueMemory.from_dict(None) == DialogueMemory()
    assert DialogueMemory.from_dict({}) == DialogueMemory()


def test_the_memory_goes_to_plain_json_and_back_unchanged():
    memory = DialogueMemory(
        question="Which works best for you?",
        misses=1,
        full=True,
        phone="+15125550142",
        first_name="John",
        location_id=7,
        service_type_id=3,
        description="AC blowing warm air",
        offered=[{"technician": 2, "start": "2030-01-08T08:00:00-06:00", "label": "Tuesday"}],
        excluded=[[2, "2030-01-07T08:00:00-06:00"]],
        offered_later=True,
    )

    stored = json.loads(json.dumps(memory.to_dict()))

    assert stored == {
        "question": "Which works best for you?",
        "misses": 1,
        "full": True,
        "phone": "+15125550142",
        "first_name": "John",
        "location_id": 7,
        "service_type_id": 3,
        "description": "AC blowing warm air",
        "offered": [{"technician": 2, "start": "2030-01-08T08:00:00-06:00", "label": "Tuesday"}],
        "excluded": [[2, "2030-01-07T08:00:00-06:00"]],
        "offered_later": True,
    }
    assert DialogueMemory.from_dict(stored) == memory


def test_keys_this_version_does_not_know_are_kept_and_nulls_are_defaults():
    stored = {"first_name": None, "misses": 2, "greeting_variant": "b", "location_id": None}

    memory = DialogueMemory.from_dict(stored)

    assert memory.first_name == ""
    assert memory.misses == 2
    assert memory.location_id is None
    assert memory.to_dict() == {"misses": 2, "greeting_variant": "b"}


def test_every_field_is_typed_and_commented_where_it_is_declared():
    lines = inspect.getsource(DialogueMemory).splitlines()
    declared = {}
    for n, line in enumerate(lines):
        match = re.match(r"    (\w+): (.+?)(?: = .*)?$", line)
        if match and not line.strip().startswith("#"):
            declared[match.group(1)] = lines[n - 1].strip()

    fields = {f.name for f in dataclasses.fields(DialogueMemory)}
    assert declared.keys() == fields
    uncommented = [name for name, above in declared.items() if not above.startswith("#")]
    assert uncommented == []


def test_a_new_request_forgets_the_last_one_but_not_the_caller():
    memory = DialogueMemory(
        first_name="John",
        phone="+15125550142",
        location_id=7,
        service_type_id=3,
        description="AC",
        job_id=9,
        offered=[{"technician": 2, "start": "x", "label": "y"}],
        excluded=[[2, "x"]],
        mode="reschedule",
        appointment_id=4,
        emergency="gas",
        unserved="pool pump",
        after_booking=True,
    )

    memory.new_request()

    assert memory == DialogueMemory(
        first_name="John", phone="+15125550142", location_id=7, after_booking=True
    )


def test_a_call_stored_by_an_older_version_carries_on(shop, twilio, john):
    # given a call offered times, whose stored memory has a key this version does not know and
    # lacks some it does
    call = Call(twilio, sid=_sid(95), StirVerstat=ATTESTED)
    call.say("Yes, same place.")
    call.say("My air conditioner is blowing warm air.")
    record = call.record
    stored = record.context["dialogue"]
    stored["retired_flag"] = True
    del stored["question"]
    record.save(update_fields=["context"])

    # when the caller picks one, then the call books and the unknown key is kept
    assert "You're all set" in call.say("The first one works for me.")
    record = call.record
    assert record.outcome == CallSession.Outcome.BOOKED
    assert record.context["dialogue"]["retired_flag"] is True
    assert record.context["dialogue"]["after_booking"] is True
