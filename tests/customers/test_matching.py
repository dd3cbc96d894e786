"""The matcher's judgement of pairs: what must match, what must never match, and the evidence."""

from __future__ import annotations

import pytest

from customers.hygiene.addresses import address_normalize
from customers.matching import (
    FIELD_PAIRS,
    LEVELS,
    compare,
    match_model,
    match_record,
    pair_key,
)


def person(first="", last="", *, phone="", email="", address="", company=""):
    return match_record(
        first_name=first,
        last_name=last,
        company_name=company,
        phones=[phone] if phone else [],
        emails=[email] if email else [],
        addresses=[address_normalize(address)] if address else [],
    )


AUTO = 0.95
REVIEW = 0.80


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # the brief's own example: a nickname, a shortened street, a new phone
        (
            person(
                "William",
                "Jenkins",
                phone="512-555-0101",
                address="123 Oak Street, Austin, TX 78702",
            ),
            person(
                "Bill", "Jenkins", phone="(737) 555-0199", address="123 Oak St, Austin TX 78702"
            ),
        ),
        # the same phone in another written form, suffix spelled differently
        (
            person(
                "John",
                "Smith Jr.",
                phone="+1 512 555 0142",
                address="123 Main St, Austin, TX 78701",
            ),
            person(
                "JOHN",
                "SMITH JUNIOR",
                phone="5125550142",
                address="123 MAIN STREET AUSTIN TX 78701",
            ),
        ),
        # a typo in the last name, the same email in capitals
        (
            person(
                "Katherine",
                "Jenkens",
                email="kate.j@gmail.com",
                address="77 Pecan Ln, Austin, TX 78745",
            ),
            person(
                "Katherine",
                "Jenkins",
                email=" KATE.J@GMAIL.COM ",
                address="77 Pecan Lane, Austin, TX 78745",
            ),
        ),
        # moved house, kept the phone and the email
        (
            person(
                "Maria",
                "Garcia",
                phone="512-555-0177",
                email="mgarcia@yahoo.com",
                address="9 Elm St, Austin, TX 78704",
            ),
            person(
                "Maria",
                "Garcia",
                phone="512.555.0177",
                email="mgarcia@yahoo.com",
                address="4410 Burnet Rd, Austin, TX 78756",
            ),
        ),
        # first and last name typed the wrong way round
        (
            person(
                "Olivia",
                "Shepherd",
                phone="512-555-0150",
                address="39 Burnage Pl, Austin, TX 78731",
            ),
            person(
                "Shepherd",
                "Olivia",
                phone="512-555-0150",
                address="39 Burnage Place, Austin, TX 78731",
            ),
        ),
    ],
)
def test_the_same_person_typed_twice_matches(a, b):
    assert compare(a, b).probability >= AUTO
    assert compare(b, a).probability >= AUTO  # symmetric


@pytest.mark.parametrize(
    ("a", "b", "why"),
    [
        (
            person("John", "Smith", phone="512-555-0110", address="123 Main St, Austin, TX 78701"),
            person("Mary", "Smith", phone="512-555-0110", address="123 Main St, Austin, TX 78701"),
            "spouses share the address, the name and the landline",
        ),
        (
            person("John", "Smith", phone="512-555-0110", address="123 Main St, Austin, TX 78701"),
            person(
                "John", "Smith Jr", phone="512-555-0110", address="123 Main St, Austin, TX 78701"
            ),
            "father and son differ only by the suffix",
        ),
        (
            person("Emma", "Nguyen", address="500 Lamar Blvd Apt 4B, Austin, TX 78703"),
            person("Emma", "Nguyen", address="500 Lamar Blvd Apt 5, Austin, TX 78703"),
            "two flats of one building",
        ),
        (
            person("Robert", "Brown", phone="512-555-0120", address="10 Oak St, Austin, TX 78702"),
            person(
                "Robert",
                "Brown",
                phone="512-555-0121",
                address="2200 Parmer Ln, Round Rock, TX 78664",
            ),
            "a common name, nothing else shared",
        ),
    ],
)
def test_households_neighbours_and_namesakes_are_not_merged(a, b, why):
    comparison = compare(a, b)
    assert comparison.probability < AUTO or not comparison.auto_merge_allowed, why


def test_a_likely_but_unsure_pair_lands_between_the_thresholds():
    """The same name at the same street number and ZIP but a different street spelling and no
    phone: a person should look at it."""
    a = person("Daniel", "Jenkins", address="2170 Slaughter Ln, Austin, TX 78748")
    b = person("Dan", "Jenkins", address="2170 Slaugter Lane, Austin, TX 78748")
    probability = compare(a, b).probability
    assert probability > 0.5, probability


def test_the_evidence_says_field_by_field_why():
    a = person(
        "William", "Jenkins", phone="512-555-0101", address="123 Oak Street, Austin, TX 78702"
    )
    b = person("Bill", "Jenkins", phone="512 555 0101", address="123 Oak St., Austin, TX 78702")
    evidence = compare(a, b).evidence
    fields = evidence["fields"]
    assert set(fields) == {
        "first_name",
        "last_name",
        "suffix",
        "phone",
        "email",
        "account",
        "address",
        "building",
    }
    assert fields["first_name"] == {
        "how": "nickname",
        "a": "WILLIAM",
        "b": "BILL",
        "score": round(match_model().weight("first_name", "nickname"), 2),
    }
    assert fields["phone"]["how"] == "shared"
    assert fields["phone"]["a"] == "+15125550101"
    assert fields["address"]["how"] == "exact"
    assert "123 OAK ST" in fields["address"]["a"]
    assert fields["email"]["how"] == "missing"
    assert {"p", "s"} <= set(evidence["blocks"])
    together = evidence["together"]
    assert 0 < len(together) <= 4
    assert all("+" in key and abs(weight) >= 0.5 for key, weight in together.items())
    assert evidence["probability"] == pytest.approx(compare(a, b).probability, abs=1e-4)


def test_the_shipped_model_names_only_levels_the_matcher_produces():
    """A renamed level would silently weigh nothing: every key in the model must exist."""
    model = match_model()
    assert model.trained_on
    assert set(model.weights) <= set(LEVELS)
    for field, levels in model.weights.items():
        assert set(levels) <= set(LEVELS[field]) - {"missing"}, field
    pairs = {pair_key(a, b): (a, b) for a, b in FIELD_PAIRS}
    assert set(model.pairs) <= set(pairs)
    for key, table in model.pairs.items():
        a, b = pairs[key]
        for combination in table:
            level_a, level_b = combination.split("|")
            assert level_a in LEVELS[a], (key, combination)
            assert level_b in LEVELS[b], (key, combination)
    assert model.weights["first_name"]["different"] < 0 < model.weights["first_name"]["exact"]


def test_unusable_input_is_left_out_not_fatal():
    record = match_record(
        first_name="  ",
        last_name="🙂",
        phones=["555-1234", "not a phone"],
        emails=["nobody@", ""],
        addresses=[address_normalize("!!!")],
    )
    assert record.phones == frozenset()
    assert record.emails == frozenset()
    other = person("John", "Smith", phone="512-555-0110")
    assert 0.0 <= compare(record, other).probability < REVIEW


def test_blocking_keys_cover_phone_email_street_and_name():
    record = person(
        "Bill",
        "Jenkins",
        phone="512-555-0101",
        email="bj@gmail.com",
        address="123 Oak St, Austin, TX 78702",
    )
    kinds = {key.split(":", 1)[0] for key in record.blocking_keys()}
    assert kinds >= {"p", "e", "s", "nz", "nf", "fn", "ln", "zn"}
    nickname = person("William", "Jenkins")
    assert record.blocking_keys() & nickname.blocking_keys(), "Bill and William share a name block"


def test_a_couple_with_look_alike_names_is_two_customers():
    a = person("Daniel", "Reyes", phone="512-555-0160", address="40 Pecan St, Austin, TX 78745")
    b = person("Danielle", "Reyes", phone="512-555-0160", address="40 Pecan St, Austin, TX 78745")
    assert compare(a, b).levels["first_name"] == "different"
    assert compare(a, b).probability < REVIEW


def test_a_building_name_is_compared_when_both_give_one():
    a = person(
        "Emma", "Nguyen", address="Oak Ridge Apartments, 500 Lamar Blvd Apt 4, Austin TX 78703"
    )
    b = person("Emma", "Nguyen", address="Oak Ridge Apts, 500 Lamar Blvd Apt 4, Austin TX 78703")
    c = person("Emma", "Nguyen", address="500 Lamar Blvd Apt 4, Austin TX 78703")
    assert compare(a, b).levels["building"] == "same"
    assert compare(a, b).evidence["fields"]["building"]["a"] == "OAK RIDGE APARTMENTS"
    assert compare(a, c).levels["building"] == "missing"
