"""The census-style household generator the dedupe benchmark and tests stand on."""

from __future__ import annotations

from collections import Counter

from customers.hygiene.households import HouseholdGenerator
from customers.hygiene.synthetic import true_pairs


def test_the_same_seed_makes_the_same_records():
    first = [r.row() for r in HouseholdGenerator(seed=5).records(300)]
    again = [r.row() for r in HouseholdGenerator(seed=5).records(300)]
    other = [r.row() for r in HouseholdGenerator(seed=6).records(300)]
    assert first == again
    assert first != other


def test_households_share_an_address_and_carry_no_phone_or_email():
    rows = HouseholdGenerator(seed=9).records(4000)
    assert len(rows) == 4000
    assert {r.phone for r in rows} == {""}
    assert {r.email for r in rows} == {""}
    people = {r.entity for r in rows}
    living_at: dict[str, set[int]] = {}
    for r in rows:
        number_and_street = " ".join(r.street.upper().split()[:2])
        living_at.setdefault(number_and_street, set()).add(r.entity)
    # Several people at one address: the case a chaining clusterer gets wrong.
    assert max(len(entities) for entities in living_at.values()) >= 5
    assert len(people) < len(rows), "people appear more than once"
    assert true_pairs(rows), "the truth has duplicate pairs"


def test_the_variants_come_at_about_their_rates():
    rows = HouseholdGenerator(seed=3, blank_first=0.03).records(10000)
    tags = Counter(tag for r in rows for tag in r.tags)
    assert 0.02 <= tags["blank_first"] / len(rows) <= 0.04
    assert {r.first_name for r in rows if "blank_first" in r.tags} == {""}
    for variant in (
        "nickname",
        "first_typo",
        "first_phonetic",
        "initial",
        "glued_suffix",
        "wrong_zip",
        "placeholder_zip",
        "double_surname",
    ):
        assert tags[variant] > 0, variant
