"""The rule brain, table-driven: every caller sentence of the phone scenarios, then paraphrases
of the same needs, read against the real demo catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bookings.voice.brain import RuleBrain, Understanding, safety_instructions, unserved_spoken
from dispatchnode.demo import data

# The shared scenarios, as copied into the repo (ours, 1x_*, are played whole in test_scenarios).
SCENARIOS = Path(__file__).resolve().parent / "scenarios"


@dataclass(frozen=True)
class Service:
    id: int
    code: str
    name: str
    category: str
    kind: str
    spoken_synonyms: tuple[str, ...]
    is_active: bool = True


CATALOGUE = tuple(
    Service(n, spec.code, spec.name, spec.category, spec.kind, spec.synonyms)
    for n, spec in enumerate(data.SERVICE_TYPES, start=1)
)
BY_CODE = {service.code: service.id for service in CATALOGUE}
OFFERED = (
    "Tuesday between 8 and 10 in the morning",
    "Wednesday between 1 and 3 in the afternoon",
    "Thursday between 5 and 7 in the evening",
)
brain = RuleBrain()


def hear(text: str, expecting: str, *, digits: str = "", offered=OFFERED) -> Understanding:
    return brain.understand(
        text=text,
        digits=digits,
        expecting=expecting,
        organization=None,
        catalogue=CATALOGUE,
        offered=offered,
    )


# --- The scenarios, as callers say them -------------------------------------------------------

# What each scenario answer means, by the prompt it answers (the rule's `when` words).
SCENARIO_EXPECTED = {
    "Yes, same place.": ("yes_no", "yes"),
    "My air conditioner is blowing warm air and the house won't cool down.": ("service", "book"),
    "The first one works for me.": ("slot_choice", "yes"),
    "No, that's everything. Thanks.": ("yes_no", "no"),
    "Yes.": ("yes_no", "yes"),
    "Maria Garcia.": ("name", "unknown"),
    "4500 Duval Street, Austin, Texas 78751.": ("address", "unknown"),
    "Yes, that's right.": ("yes_no", "yes"),
    "My water heater is leaking from the bottom.": ("service", "book"),
    "The second one, please.": ("slot_choice", "yes"),
    "Yes, this number is fine.": ("yes_no", "yes"),
    "No, thank you.": ("yes_no", "no"),
    "I smell gas near my furnace, it's really strong.": ("service", "emergency"),
    "7 8 7 0 1": ("verification", "unknown"),
    "I need my yearly furnace tune-up.": ("service", "book"),
    "The first one.": ("slot_choice", "yes"),
    "No.": ("yes_no", "no"),
    "Bill Jenkins.": ("name", "unknown"),
    "123 Oak St, Austin 78702.": ("address", "unknown"),
    "The kitchen sink is clogged.": ("service", "book"),
    "I'd rather talk to a real person, please.": ("yes_no", "person"),
    "Can I speak to someone in the office?": ("service", "person"),
    "A person, please.": ("anything", "person"),
    "": ("anything", "unknown"),
}


def _scenario_sentences() -> list[str]:
    said: set[str] = set()
    for path in sorted(SCENARIOS.glob("0*.yaml")):
        scenario = yaml.safe_load(path.read_text())
        caller = scenario.get("caller", {})
        said.add(caller.get("default", "") or "")
        said.update(rule["say"] for rule in caller.get("rules", []) if "say" in rule)
    return sorted(said)


def test_every_scenario_sentence_has_an_expectation():
    assert len(_scenario_sentences()) >= 20
    assert set(_scenario_sentences()) <= set(SCENARIO_EXPECTED)


@pytest.mark.parametrize("sentence", _scenario_sentences())
def test_scenario_sentences(sentence):
    expecting, intent = SCENARIO_EXPECTED[sentence]

    understood = hear(sentence, expecting)

    assert understood.intent == intent
    assert understood.words == sentence.strip()


def test_scenario_services_land_in_the_expected_category():
    cases = {
        "My air conditioner is blowing warm air and the house won't cool down.": "ac-repair",
        "My water heater is leaking from the bottom.": "water-heater-repair",
        "I need my yearly furnace tune-up.": "furnace-tune-up",
        "The kitchen sink is clogged.": "drain-cleaning",
    }
    for sentence, code in cases.items():
        understood = hear(sentence, "service")
        assert (understood.service_type_id, sentence) == (BY_CODE[code], sentence)
        assert understood.service_confidence >= 0.6, sentence


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("Hi, I'd like to schedule maintenance for my furnace", "furnace-tune-up"),
        ("Can someone check my AC before summer?", "ac-tune-up"),
        ("My heater is making a banging noise", "furnace-repair"),
        ("I want a new AC installed", "hvac-install"),
    ],
)
def test_the_equipment_named_picks_between_look_alike_services(sentence, code):
    assert hear(sentence, "service").service_type_id == BY_CODE[code]


def test_scenario_gas_smell_is_a_gas_emergency_with_instructions():
    understood = hear("I smell gas near my furnace, it's really strong.", "service")

    assert (understood.intent, understood.emergency) == ("emergency", "gas")
    assert understood.service_type_id == BY_CODE["gas-leak-emergency"]
    text = safety_instructions(understood.emergency).lower()
    assert "leave the house" in text
    assert "gas company or 911" in text


def test_scenario_slot_choices():
    assert hear("The first one works for me.", "slot_choice").choice == 0
    assert hear("The second one, please.", "slot_choice").choice == 1


# --- Paraphrases --------------------------------------------------------------------------------

INTENT_CASES = [
    # book
    ("intent", "my AC is blowing warm air", "book"),
    ("intent", "I need someone to look at my furnace", "book"),
    ("intent", "I'd like to schedule a tune-up", "book"),
    ("intent", "can you send a plumber out", "book"),
    ("intent", "my toilet won't stop running", "book"),
    ("intent", "the breaker keeps tripping in the kitchen", "book"),
    ("intent", "I want to book an appointment", "book"),
    ("intent", "there's no hot water", "book"),
    ("intent", "the furnace is banging when it kicks on", "book"),
    ("intent", "I want a quote for a new air conditioner", "book"),
    # reschedule
    ("intent", "I need to move my appointment", "reschedule"),
    ("intent", "can we do Thursday instead", "reschedule"),
    ("intent", "I need to reschedule", "reschedule"),
    ("intent", "I won't be home tomorrow, can you come another day", "reschedule"),
    ("intent", "could we change the appointment to a different time", "reschedule"),
    # cancel
    ("intent", "I want to cancel my appointment", "cancel"),
    ("intent", "please cancel the visit on Friday", "cancel"),
    ("intent", "we no longer need the service", "cancel"),
    # billing
    ("intent", "I have a question about my bill", "billing"),
    ("intent", "I was charged twice", "billing"),
    ("intent", "I'd like to pay my invoice", "billing"),
    ("intent", "why is my balance so high", "billing"),
    # person
    ("intent", "representative", "person"),
    ("intent", "let me talk to a human", "person"),
    ("intent", "operator", "person"),
    ("intent", "can I speak with somebody please", "person"),
    ("slot_choice", "I want a real person", "person"),
    ("name", "just transfer me", "person"),
    # yes / no
    ("yes_no", "yeah", "yes"),
    ("yes_no", "yep", "yes"),
    ("yes_no", "that's right", "yes"),
    ("yes_no", "uh huh", "yes"),
    ("yes_no", "sure, go ahead", "yes"),
    ("yes_no", "correct", "yes"),
    ("yes_no", "yes it is", "yes"),
    ("yes_no", "nope", "no"),
    ("yes_no", "not really", "no"),
    ("yes_no", "no, that's not right", "no"),
    ("yes_no", "that's not correct", "no"),
    ("yes_no", "it's a different address", "no"),
    ("yes_no", "nah I'm good", "no"),
    ("yes_no", "that's all, thanks", "no"),
    ("address", "No, that's wrong", "no"),
    ("yes_no", "actually I need to cancel", "cancel"),
    ("service", "no", "no"),
    ("intent", "no heat", "book"),
    ("intent", "hi I'm calling because my air conditioning quit", "book"),
    # unknown
    ("intent", "blah blah blah", "unknown"),
    ("intent", "purple monkey dishwasher", "unknown"),
    ("service", "hmm", "unknown"),
]


@pytest.mark.parametrize(("expecting", "text", "intent"), INTENT_CASES)
def test_intents(expecting, text, intent):
    assert hear(text, expecting).intent == intent


SERVICE_CASES = [
    ("my AC is blowing warm air", "ac-repair"),
    ("the air conditioner isn't cooling the house", "ac-repair"),
    ("the ac is running but not cooling", "ac-repair"),
    ("there's ice on the ac lines", "ac-repair"),
    ("my furnace won't turn on", "furnace-repair"),
    ("the heater is blowing cold air", "furnace-repair"),
    ("the furnace is making a loud noise", "furnace-repair"),
    ("I'd like an ac tune up before summer", "ac-tune-up"),
    ("get my heat checked before winter", "furnace-tune-up"),
    ("I want to replace my ac with a new system", "hvac-install"),
    ("can you install a nest thermostat", "thermostat-install"),
    ("no hot water since this morning", "water-heater-repair"),
    ("the pilot light won't stay lit", "water-heater-repair"),
    ("my shower won't drain", "drain-cleaning"),
    ("the toilet is clogged", "drain-cleaning"),
    ("clogged drain in the bathroom", "drain-cleaning"),
    ("there's water under the sink", "leak-repair"),
    ("my faucet is dripping", "leak-repair"),
    ("the breaker keeps tripping", "electrical-repair"),
    ("the lights are flickering", "electrical-repair"),
    ("an outlet isn't working", "electrical-repair"),
    ("I want an ev charger in the garage", "ev-charger-install"),
    ("I need a panel upgrade to 200 amp", "panel-upgrade"),
    ("install a ceiling fan in the bedroom", "fixture-wiring"),
    ("my generac generator won't start", "generator-maintenance"),
]


@pytest.mark.parametrize(("text", "code"), SERVICE_CASES)
def test_services(text, code):
    understood = hear(text, "service")

    assert understood.intent == "book"
    assert understood.service_type_id == BY_CODE[code]
    assert understood.service_confidence >= 0.6


@pytest.mark.parametrize(
    "text", ["my furnace", "the ac", "schedule a tune-up", "something is wrong", "it's the thing"]
)
def test_vague_service_is_unsure(text):
    assert hear(text, "service").service_confidence < 0.6


UNSERVED_CASES = [
    ("My water softener is broken", "water softener"),
    ("my pool pump stopped working", "pool pump"),
    ("I need someone to look at my solar panels", "solar panels"),
    ("the septic tank is backing up into the yard", "septic tank"),
    ("do you service hot tubs?", "hot tub"),
    ("our hot tub heater quit", "hot tub heater"),
    ("my garage door opener won't open", "garage door opener"),
    ("can you fix my dishwasher", "dishwasher"),
    ("there's a roof leak over the kitchen", "roof"),  # no roofing in the demo catalogue
]


@pytest.mark.parametrize(("text", "thing"), UNSERVED_CASES)
def test_a_thing_the_catalogue_does_not_cover_is_unserved_not_a_look_alike(text, thing):
    understood = hear(text, "intent")

    assert understood.intent == "book"
    assert understood.unserved == thing
    assert understood.service_type_id is None
    assert understood.service_confidence == 0.0


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("something's wrong with my heating", "furnace-repair"),  # vague, but heating is ours
        ("the outlet by the pool is dead", "electrical-repair"),  # an outlet is ours
        ("the breaker for the solar panels keeps tripping", "electrical-repair"),
        ("my tub is leaking", "leak-repair"),  # a tub, not a hot tub
    ],
)
def test_a_served_thing_named_with_an_unserved_one_is_served(text, code):
    understood = hear(text, "intent")

    assert understood.unserved == ""
    assert understood.service_type_id == BY_CODE[code]


@pytest.mark.parametrize(
    "text", ["it's making a weird noise", "I need someone to come out", "purple monkey dishwasher"]
)
def test_a_request_that_names_nothing_recognisable_is_not_unserved(text):
    assert hear(text, "intent").unserved == ""


def test_a_pool_of_water_is_no_swimming_pool():
    understood = hear("there's a pool of water in the basement", "service")

    assert understood.unserved == ""


def test_the_catalogue_decides_what_is_served():
    softeners = Service(99, "softener", "Water softener service", "plumbing", "maintenance", ())
    pools = Service(98, "pool", "Pool service", "general", "repair", ("pool pump",))
    roofs = Service(97, "roof", "Roof repair", "roofing", "repair", ())

    def unserved(text, catalogue):
        return brain.understand(text=text, expecting="intent", catalogue=catalogue).unserved

    assert unserved("my water softener is broken", (*CATALOGUE, softeners)) == ""
    assert unserved("my pool heater stopped working", (*CATALOGUE, pools)) == ""  # its trade
    assert unserved("there's a roof leak over the kitchen", (*CATALOGUE, roofs)) == ""
    inactive = Service(96, "x", "Solar panel cleaning", "general", "maintenance", (), False)
    assert unserved("my solar panels are broken", (*CATALOGUE, inactive)) == "solar panels"
    assert unserved("my water softener is broken", ()) == ""  # no catalogue to decide by


def test_a_bare_thing_is_unserved_only_as_the_description_asked_for():
    assert hear("the water softener", "service").unserved == "water softener"
    assert hear("the water softener", "intent").unserved == ""
    assert hear("the water softener", "intent").intent == "unknown"


def test_how_an_unserved_trade_is_said():
    assert unserved_spoken("water softener") == "water softeners or water treatment"
    assert unserved_spoken("roof") == "roofs or gutters"
    assert unserved_spoken("anything") == "that kind of work"


EMERGENCY_CASES = [
    ("I smell gas in the kitchen", "gas"),
    ("there's a gas leak by the meter", "gas"),
    ("it smells like rotten eggs in here", "gas"),
    ("the gas line is hissing", "gas"),
    ("my carbon monoxide alarm is going off", "carbon_monoxide"),
    ("the CO detector keeps beeping", "carbon_monoxide"),
    ("a pipe burst in the garage", "flooding"),
    ("there's water everywhere", "flooding"),
    ("the basement is flooding", "flooding"),
    ("water is pouring through the ceiling", "flooding"),
    ("the outlet is sparking", "electrical_fire"),
    ("there's a burning smell from the panel", "electrical_fire"),
    ("smoke is coming from the breaker box", "electrical_fire"),
    ("it smells like something is burning behind the outlet", "electrical_fire"),
    ("no heat and it's 20 degrees", "no_heat_freezing"),
    ("our furnace is not working and it's freezing in here", "no_heat_freezing"),
    ("the heat is out and it's below zero tonight", "no_heat_freezing"),
]


@pytest.mark.parametrize(("text", "code"), EMERGENCY_CASES)
def test_emergencies(text, code):
    understood = hear(text, "intent")

    assert (understood.intent, understood.emergency) == ("emergency", code)
    assert safety_instructions(code)


@pytest.mark.parametrize(
    "text",
    [
        "I don't smell gas, the furnace just won't start",
        "no heat but it's 75 degrees so no rush",
        "the outlet sparked once last week and now it's dead",
        "my freezer isn't freezing",
    ],
)
def test_not_emergencies(text):
    assert hear(text, "intent").emergency == ""


def test_safety_instructions_for_no_emergency_is_empty():
    assert safety_instructions("") == ""
    assert safety_instructions("meteor") == ""


CHOICE_CASES = [
    ("the first one", 0),
    ("first", 0),
    ("second", 1),
    ("the last one", 2),
    ("the third one please", 2),
    ("Wednesday", 1),
    ("Wednesday works", 1),
    ("the afternoon one", 1),
    ("in the morning", 0),
    ("the evening please", 2),
    ("Tuesday morning is great", 0),
    ("the 8 o'clock one", 0),
    ("number two", 1),
    ("2", 1),
    ("one", 0),
    ("I'll take the Thursday", 2),
    ("the later one", 2),
    ("either one is fine", 0),
]


@pytest.mark.parametrize(("text", "choice"), CHOICE_CASES)
def test_slot_choice(text, choice):
    understood = hear(text, "slot_choice")

    assert (understood.intent, understood.choice) == ("yes", choice)


@pytest.mark.parametrize(
    "text",
    [
        "No, none of those work for me either.",
        "Neither of them, sorry.",
        "Those don't work for me either.",
        "I can't do any of those.",
    ],
)
def test_a_refusal_that_says_either_or_any_is_no_pick(text):
    understood = hear(text, "slot_choice")

    assert (understood.intent, understood.choice) == ("no", None)


def test_doesnt_matter_is_still_the_first_offer():
    assert hear("It doesn't matter, whichever.", "slot_choice").choice == 0


def test_an_answer_that_fits_two_offers_is_no_pick():
    offered = ("Tuesday between 8 and 10", "Thursday between 10 and 12")

    understood = hear("morning", "slot_choice", offered=offered)

    assert understood.choice is None
    assert understood.preference_text == "morning"


@pytest.mark.parametrize(("digits", "choice"), [("1", 0), ("2", 1), ("3", 2)])
def test_slot_choice_on_keypad(digits, choice):
    assert hear("", "slot_choice", digits=digits).choice == choice


def test_keypad_digit_beyond_the_offer_is_no_choice():
    understood = hear("", "slot_choice", digits="7")

    assert (understood.intent, understood.choice) == ("unknown", None)


@pytest.mark.parametrize(
    ("text", "preference"),
    [
        ("anything Friday?", "friday"),
        ("do you have something next week", "next week"),
        ("is there anything Monday afternoon", "monday afternoon"),
        ("got anything after 3", "after 3"),
        ("anything on Wednesday?", "on wednesday"),
    ],
)
def test_slot_preference_asks_for_a_new_search(text, preference):
    understood = hear(text, "slot_choice")

    assert (understood.intent, understood.choice) == ("no", None)
    assert understood.preference_text == preference


def test_none_of_those_is_no():
    understood = hear("none of those work for me", "slot_choice")

    assert (understood.intent, understood.choice, understood.preference_text) == ("no", None, "")


def test_reschedule_carries_the_preference():
    understood = hear("can we do Thursday instead", "intent")

    assert (understood.intent, understood.preference_text) == ("reschedule", "thursday")


@pytest.mark.parametrize("expecting", ["intent", "yes_no", "slot_choice", "name", "service"])
def test_zero_on_the_keypad_is_a_person_at_any_time(expecting):
    assert hear("", expecting, digits="0").intent == "person"
    assert hear("", expecting, digits="0#").intent == "person"
    assert hear("", expecting, digits="0731").intent != "person"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!!???",
        "ümlaut ßtraße 東京",
        "a" * 5000,
        "12345678901234567890",
        "'''---'''",
        "(((",
        "\\d+[",
    ],
)
@pytest.mark.parametrize("expecting", ["intent", "service", "yes_no", "slot_choice", "name"])
def test_garbage_never_raises(text, expecting):
    understood = hear(text, expecting, digits="#*9")

    assert understood.intent in {"unknown", "yes", "no", "book"}


def test_garbage_with_an_empty_catalogue_and_no_offer():
    understood = brain.understand(
        text="my ac is broken", expecting="slot_choice", organization=None, catalogue=[]
    )

    assert (understood.service_type_id, understood.choice) == (None, None)


def test_unknown_expecting_is_a_programming_error():
    with pytest.raises(ValueError, match="expecting"):
        hear("yes", "whatever")
