"""Price questions on the phone: told apart from balance questions, answered from the
organisation's price book (never a made-up number), then back to the booking, through the signed
Twilio webhooks."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from bookings.models import CallSession
from bookings.voice.brain import RuleBrain
from invoicing.models import PriceBookItem
from tests import factories
from tests.voice.test_brain import CATALOGUE, OFFERED, hear
from tests.voice.test_dialogue import ATTESTED, Call

DOLLARS = re.compile(r"\$\s?\d")

# --- Price or balance: the words alone ---------------------------------------------------------

PRICE_QUESTIONS = [
    "How much is a tune-up?",
    "What's your service call fee?",
    "How much do you charge to fix an AC?",
    "What does a water heater install cost?",
    "How much would it cost to replace my water heater?",
    "What do you guys charge for a furnace tune up?",
    "What are your prices for drain cleaning?",
    "How much is it just to come out and look at it?",
    "Do you charge a diagnostic fee?",
    "What's the cost of a new thermostat?",
    "Roughly how much for an EV charger installation?",
    "How expensive is a panel upgrade?",
    "What's the price of an AC tune-up?",
    "Can you tell me your rates?",
    "What will a water heater flush run me?",
    "How much is the Comfort Club membership?",
    "Is there a trip charge?",
    "Ballpark, what would a new AC system cost?",
    "How much do I need to pay for a tune-up?",
]
BALANCE_QUESTIONS = [
    "How much do I owe?",
    "What's my balance?",
    "How much is my bill?",
    "Do I have an outstanding balance?",
    "How much do we owe you?",
    "I have a question about my bill.",
    "Why was I charged twice?",
    "How much was I charged for the last visit?",
    "What do I still owe on my invoice?",
    "I want to pay my bill.",
    "Is my account past due?",
    "How much did the last repair cost me?",
    "I was overcharged on my invoice.",
    "Can I make a payment?",
    "What's the balance on my account?",
    "What are the charges on my statement?",
    "How much do I have to pay?",
    "There's a late fee on my bill, what is it for?",
]


@pytest.mark.parametrize("said", PRICE_QUESTIONS)
def test_a_price_question_is_a_price_question(said):
    # When the caller asks what something costs, in any state that listens to a question
    # Then the brain hears a price question, never billing
    for expecting in ("intent", "service", "yes_no", "slot_choice", "anything"):
        assert hear(said, expecting).intent == "price", (said, expecting)


@pytest.mark.parametrize("said", BALANCE_QUESTIONS)
def test_a_balance_question_stays_billing(said):
    # When the caller asks about their own bill or balance
    # Then it is billing, never a price question the price book would answer
    assert hear(said, "intent").intent == "billing", said
    assert hear(said, "anything").intent == "billing", said


def test_the_tables_hold_at_least_fifteen_phrasings_each_way():
    assert len(set(PRICE_QUESTIONS)) >= 15
    assert len(set(BALANCE_QUESTIONS)) >= 15


def test_a_price_question_while_choosing_a_time_picks_nothing():
    # Given three times offered
    # When the caller asks what "the first one" costs
    understood = hear("How much is the first one?", "slot_choice", offered=OFFERED)
    # Then that is a question, not a pick
    assert (understood.intent, understood.choice) == ("price", None)


def test_a_price_question_names_its_service():
    by_id = {s.id: s.code for s in CATALOGUE}
    assert by_id[hear("How much do you charge to fix an AC?", "intent").service_type_id] == (
        "ac-repair"
    )
    assert by_id[hear("What does a water heater install cost?", "intent").service_type_id] == (
        "water-heater-install"
    )
    assert hear("What's your service call fee?", "intent").service_type_id is None
    assert hear("How much to clean my pool?", "intent").unserved == "pool"


def test_words_that_only_look_like_a_price_question_are_not_one():
    brain = RuleBrain()
    for said in (
        "How much longer will the technician be?",
        "My AC is blowing warm air.",
        "I don't know how much water is on the floor, the water heater is leaking.",
        "The AC is costing me a fortune and still not cooling.",
    ):
        understood = brain.understand(text=said, expecting="intent", catalogue=CATALOGUE)
        assert understood.intent != "price", said


# --- The price book behind the webhooks ---------------------------------------------------------


@pytest.fixture
def price_book(shop, voice_org):
    """The demo price book for the shop's catalogue: every entry of the demo's company file."""
    from dispatchnode.demo import data

    items = {}
    for spec in data.PRICE_BOOK:
        items[spec.code] = factories.PriceBookItemFactory(
            organization=voice_org,
            code=spec.code,
            name=spec.name,
            kind=spec.kind,
            category=spec.category,
            unit=spec.unit,
            unit_price=spec.price,
            taxable=spec.taxable,
            service_type=shop.get(spec.service_type),
        )
    return items


def _sid(n: int) -> str:
    return f"CA{0xFEED0000 + n:032x}"


def _new_caller(twilio, n: int) -> Call:
    return Call(twilio, sid=_sid(n), From=f"+1512555{n:04d}", StirVerstat=ATTESTED)


def test_a_flat_rate_price_is_the_price_books_and_follows_it(price_book, twilio):
    # Given the price book says $129 for the AC tune-up
    # When a new caller asks what it costs
    reply = _new_caller(twilio, 1).say("How much is an AC tune-up?")
    # Then the agent quotes the price book's price, flat rate, and offers to book it
    assert reply == "An AC tune-up is $129, flat rate. Would you like me to book that?"

    # Given the office changes the price
    item = price_book["TUNE-AC"]
    item.unit_price = Decimal("99.50")
    item.save()
    # Then the next caller hears the new price, not the old one
    reply = _new_caller(twilio, 2).say("how much do you guys charge for an AC tune up")
    assert "$99.50" in reply
    assert "$129" not in reply


def test_a_repair_depends_on_the_diagnosis_and_the_diagnostic_fee_is_quoted(price_book, twilio):
    reply = _new_caller(twilio, 3).say("How much do you charge to fix an AC?")
    assert reply.startswith("The price of an AC repair depends on what the technician finds.")
    assert "AC diagnostic visit is $89." in reply
    assert reply.endswith("Would you like me to book that?")


def test_the_service_call_fee_is_the_price_books_general_fee(price_book, twilio):
    price_book["SVC-CALL"].unit_price = Decimal("79.00")
    price_book["SVC-CALL"].save()
    reply = _new_caller(twilio, 4).say("What's your service call fee?")
    assert "Our service call and diagnostic fee is $79." in reply
    assert "depends on what the technician finds" in reply


def test_an_installation_is_quoted_with_its_price_book_entry(price_book, twilio):
    reply = _new_caller(twilio, 5).say("What does a water heater install cost?")
    assert reply.startswith("A water heater replacement is $2,150, flat rate")
    assert "50-gallon gas water heater" in reply


def test_an_ambiguous_tune_up_quotes_both_and_asks_which_to_book(price_book, twilio):
    call = _new_caller(twilio, 6)
    reply = call.say("How much is a tune-up?")
    assert "$129" in reply
    assert "$119" in reply
    assert "is this for an AC tune-up?" in call.say("Yes please.")
    # "No": the other one priced, not a guess
    call.say("No, the furnace.")
    assert (
        call.record.context["dialogue"]["service_type_id"]
        == price_book["TUNE-FURN"].service_type_id
    )


@pytest.mark.parametrize(
    "said",
    [
        "How much do you charge to build a deck?",
        "What's the price of a hot tub cover?",
        "How much would a whole-house water filter cost?",
    ],
)
def test_nothing_in_the_price_book_gets_no_number(price_book, twilio, said):
    reply = _new_caller(twilio, 7).say(said)
    assert DOLLARS.search(reply) is None, reply
    assert "can't quote" in reply or "don't handle" in reply


def test_without_a_price_book_nothing_is_quoted(shop, twilio):
    # Given an organisation with a catalogue but an empty price book
    reply = _new_caller(twilio, 8).say("How much is an AC tune-up?")
    # Then no amount is said: the agent offers a visit or the office
    assert DOLLARS.search(reply) is None
    assert "can't quote a price for that over the phone" in reply
    assert reply.endswith("Would you like me to book a visit?")


def test_a_price_then_the_booking_through_the_webhooks(price_book, twilio):
    # Given a new caller who asks a price first
    call = _new_caller(twilio, 9)
    assert "$129" in call.say("How much is an AC tune-up?")
    # When they take the offer, then answer the booking questions
    assert "name" in call.say("Yes, please book it.")
    call.say("Nora Quinn.")
    assert "7 8 7 0 4" in call.say("1900 Barton Springs Road, Austin 78704.")
    assert "best number" in call.say("That's right.")
    offer = call.say("Yes.")
    assert "Which works best" in offer
    booked = call.say("The first one.")
    # Then the tune-up is booked as if they had asked for it
    assert "You're all set" in booked
    record = call.record
    assert record.outcome == CallSession.Outcome.BOOKED
    assert record.job.service_type.code == "ac-tune-up"
    assert "asked about prices (AC tune-up $129)" in record.summary


def test_a_price_while_choosing_a_time_resumes_the_offer(price_book, twilio, john):
    # Given John is being offered times for an AC repair
    call = Call(twilio, sid=_sid(10), StirVerstat=ATTESTED)
    call.say("Yes, same place.")
    offer = call.say("My AC is blowing warm air.")
    offered = call.record.context["dialogue"]["offered"]
    # When he asks what it will cost
    reply = call.say("How much is that going to cost?")
    # Then the price is said and the same times offered again
    assert "depends on what the technician finds" in reply
    assert "$89" in reply
    assert all(o["label"] in reply for o in offered)
    assert reply.endswith("Which of those times works for you?")
    assert offer != reply
    # And he still books the first of them
    assert "You're all set" in call.say("The first one.")
    assert call.record.outcome == CallSession.Outcome.BOOKED


def test_a_price_from_a_caller_with_a_balance_never_reads_the_balance(
    price_book, twilio, john, voice_org
):
    factories.InvoiceFactory(
        organization=voice_org, customer=john, subtotal="240.00", tax_total="0", total="240.00"
    )
    call = Call(twilio, sid=_sid(11), StirVerstat=ATTESTED)
    reply = call.say("How much is a tune-up for my AC?")
    assert "$129" in reply
    assert "$240" not in reply
    assert "balance" not in reply.lower()
    assert reply.endswith("Is this for the same location?")
    assert all("balance" not in d["what"] for d in call.record.disclosures)
    # Once the location is confirmed, the tune-up priced is offered
    assert "book that?" in call.say("Yes.")


def test_how_much_do_i_owe_is_still_the_balance(price_book, twilio, john, voice_org):
    factories.InvoiceFactory(
        organization=voice_org, customer=john, subtotal="240.00", tax_total="0", total="240.00"
    )
    call = Call(twilio, sid=_sid(12), StirVerstat=ATTESTED)
    reply = call.say("How much do I owe?")
    assert "Your open balance is $240" in reply
    assert "flat rate" not in reply
    assert call.record.disclosures[-1]["what"] == ["balance"]


def test_an_unverified_caller_gets_the_price_and_no_balance(price_book, twilio, john, voice_org):
    factories.InvoiceFactory(
        organization=voice_org, customer=john, subtotal="240.00", tax_total="0", total="240.00"
    )
    call = Call(twilio, sid=_sid(13), StirVerstat="")
    reply = call.say("How much is an AC tune-up?")
    # A price is no account detail: said, then the verification question again
    assert "$129" in reply
    assert "$240" not in reply
    assert reply.startswith("An AC tune-up is $129, flat rate.")
    assert reply.endswith("the ZIP code of the service address?")
    # A balance question from the same caller is still gated
    reply = call.say("And how much do I owe?")
    assert "$" not in reply


# --- The LLM brain ------------------------------------------------------------------------------


@pytest.fixture
def chat(settings):
    from bookings.voice.llm_brain import _configured_brain
    from tests.fakes.openai_chat import FakeOpenAIChat

    server = FakeOpenAIChat().start()
    settings.VOICE_BRAIN = "llm"
    settings.LLM_BASE_URL = server.base_url
    _configured_brain.cache_clear()
    yield server
    server.stop()
    _configured_brain.cache_clear()


def test_llm_a_model_that_reads_a_price_as_billing_is_overruled(
    price_book, twilio, john, voice_org, chat
):
    from tests.fakes.openai_chat import ToolCall

    factories.InvoiceFactory(
        organization=voice_org, customer=john, subtotal="240.00", tax_total="0", total="240.00"
    )
    # Given a model that hears "how much" as a billing question
    chat.on("how much", ToolCall("interpret", {"intent": "billing", "confidence": 0.9}))
    call = Call(twilio, sid=_sid(14), StirVerstat=ATTESTED)
    call.say("Yes, same place.")
    reply = call.say("How much is an AC tune-up?")
    # Then the rules decide: a price from the price book, no balance
    assert "$129" in reply
    assert "$240" not in reply
    assert len(chat.requests) >= 1


def test_llm_looks_up_the_price_book_and_the_dialogue_says_its_price(price_book, twilio, chat):
    from tests.fakes.openai_chat import ToolCall

    # Given a model that asks the price book before answering
    chat.on(
        "what do you ask",
        ToolCall("interpret", {"intent": "price", "service_code": "ac-tune-up", "confidence": 1}),
        first=[ToolCall("lookup_price", {"question": "what do you ask for an AC tune-up"})],
    )
    reply = _new_caller(twilio, 15).say("What do you ask for an AC tune-up?")
    # Then the model was given the price book's own answer, and the caller hears that price
    (result,) = [r for r in chat.tool_results if r["name"] == "lookup_price"]
    assert result["content"]["found"] is True
    assert result["content"]["prices"][0]["price"] == "129.00"
    assert "$129" in result["content"]["answer"]
    assert reply == "An AC tune-up is $129, flat rate. Would you like me to book that?"


def test_llm_the_price_tool_quotes_nothing_it_does_not_find(price_book, twilio, chat):
    from tests.fakes.openai_chat import ToolCall

    chat.on(
        "deck",
        ToolCall("interpret", {"intent": "price", "confidence": 0.9}),
        first=[ToolCall("lookup_price", {"question": "how much to build a deck"})],
    )
    reply = _new_caller(twilio, 16).say("What would you want to build a deck?")
    (result,) = [r for r in chat.tool_results if r["name"] == "lookup_price"]
    assert result["content"] == {
        "found": False,
        "answer": result["content"]["answer"],
        "prices": [],
    }
    assert DOLLARS.search(result["content"]["answer"]) is None
    assert DOLLARS.search(reply) is None


def test_the_price_book_reader_reads_one_organisation_only(price_book, voice_org, shop):
    from bookings.selectors_prices import price_quotes

    other = factories.OrganizationFactory()
    factories.PriceBookItemFactory(
        organization=other, code="TUNE-X", name="AC tune-up", unit_price="1.00"
    )
    quotes = price_quotes(organization=voice_org, names=["tune-up"])
    assert {q.code for q in quotes} == {"TUNE-AC", "TUNE-FURN"}
    assert all(q.currency == "USD" for q in quotes)
    inactive = price_book["TUNE-AC"]
    inactive.is_active = False
    inactive.save()
    assert {q.code for q in price_quotes(organization=voice_org, names=["tune-up"])} == {
        "TUNE-FURN"
    }
    assert PriceBookItem.objects.filter(code="TUNE-X").exists()


def test_llm_a_balance_question_the_model_calls_a_price_stays_billing(chat):
    from bookings.voice.llm_brain import LlmBrain
    from tests.fakes.openai_chat import ToolCall

    # Given a model that hears "how much do I owe?" as a price question
    chat.on("owe", ToolCall("interpret", {"intent": "price", "confidence": 0.9}))
    brain = LlmBrain(base_url=chat.base_url, model="test-model", timeout=2.0)
    try:
        understood = brain.understand(
            text="How much do I owe?", expecting="intent", catalogue=CATALOGUE
        )
    finally:
        brain.close()
    # Then the rules decide: billing, so only a disclosed caller hears a balance
    assert understood.intent == "billing"
    assert len(chat.requests) == 1


def test_a_price_turn_costs_the_same_queries_whatever_the_size_of_the_price_book(
    price_book, twilio, voice_org
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def price_turn(n: int) -> int:
        call = _new_caller(twilio, 20 + n)
        with CaptureQueriesContext(connection) as seen:
            assert "$129" in call.say("How much is an AC tune-up?")
        return len(seen.captured_queries)

    before = price_turn(0)
    # Given 300 more parts in the price book, many sharing a word with the question
    factories.PriceBookItemFactory.create_batch(
        300, organization=voice_org, name="AC tune-up kit part", kind="part"
    )
    # Then the price turn reads the price book in as many queries as before
    assert price_turn(1) == before


def test_a_price_asked_with_nothing_named_asks_what_for(price_book, twilio):
    call = _new_caller(twilio, 30)
    assert call.say("How much is it?") == "Sure. What would you like a price for?"
    reply = call.say("A furnace tune-up.")
    assert reply == (
        "A furnace tune-up is $119, flat rate: that's our furnace safety inspection and "
        "tune-up. Would you like me to book that?"
    )


def test_a_part_is_quoted_by_its_price_book_name(price_book, twilio):
    reply = _new_caller(twilio, 31).say("How much is a flame sensor?")
    assert reply == "A flame sensor is $125. Would you like me to book a visit?"


def test_labour_is_quoted_by_the_hour(price_book, twilio):
    reply = _new_caller(twilio, 32).say("What's your HVAC labour rate?")
    assert reply.startswith("HVAC labour is $125 an hour.")
