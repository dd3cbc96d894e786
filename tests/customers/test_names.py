from __future__ import annotations

import pytest

from customers.hygiene.names import (
    PersonName,
    distinct_given_names,
    first_key,
    first_name_similarity,
    first_names_related,
    last_name_similarity,
    name_parse,
    nickname_group,
)

# --- parsing a full string -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("full", "title", "first", "middle", "last", "suffix"),
    [
        ("Jenkins, William", "", "WILLIAM", "", "JENKINS", ""),
        ("William H. Jenkins Jr.", "", "WILLIAM", "H", "JENKINS", "JR"),
        ("Mr. Bill Jenkins", "MR", "BILL", "", "JENKINS", ""),
        ("BILL JENKINS", "", "BILL", "", "JENKINS", ""),
        ("jenkins william", "", "JENKINS", "", "WILLIAM", ""),
        ("William Jenkins, Jr.", "", "WILLIAM", "", "JENKINS", "JR"),
        ("Jenkins Jr., William", "", "WILLIAM", "", "JENKINS", "JR"),
        ("Jenkins, Dr. William H", "DR", "WILLIAM", "H", "JENKINS", ""),
        ("Mr. and Mrs. John Smith", "MR", "JOHN", "", "SMITH", ""),
        ("J. Robert Smith", "", "J", "ROBERT", "SMITH", ""),
        ("Mary Ann Louise Smith", "", "MARY", "ANN LOUISE", "SMITH", ""),
        ("Bill", "", "BILL", "", "", ""),
        ("Maria de la Cruz", "", "MARIA", "", "DE LA CRUZ", ""),
        ("Ludwig van Beethoven", "", "LUDWIG", "", "VAN BEETHOVEN", ""),
        ("Ronald Mc Donald", "", "RONALD", "", "MCDONALD", ""),
        ("Ronald McDonald", "", "RONALD", "", "MCDONALD", ""),
        ("Patrick O'Brien", "", "PATRICK", "", "OBRIEN", ""),
        ("Patrick O’Brien", "", "PATRICK", "", "OBRIEN", ""),
        ("Ana García-López", "", "ANA", "", "GARCIA-LOPEZ", ""),
        ("José Muñoz", "", "JOSE", "", "MUNOZ", ""),
        ("Dr. Zoë Ångström", "DR", "ZOE", "", "ANGSTROM", ""),
        ("Jürgen Groß", "", "JURGEN", "", "GROSS", ""),
        ("John Smith MD", "", "JOHN", "", "SMITH", ""),
        ("Jane Doe, PhD", "", "JANE", "", "DOE", ""),
    ],
)
def test_full_names_are_split_in_the_order_given(full, title, first, middle, last, suffix):
    name = name_parse(full=full)

    assert (name.title, name.first, name.middle, name.last, name.suffix) == (
        title,
        first,
        middle,
        last,
        suffix,
    )
    assert name.raw == full
    assert name.is_company is False


@pytest.mark.parametrize(
    ("written", "suffix"),
    [
        ("Robert Smith Jr.", "JR"),
        ("Robert Smith Jr", "JR"),
        ("Robert Smith Junior", "JR"),
        ("Robert Smith, Jr.", "JR"),
        ("Robert Smith Sr.", "SR"),
        ("Robert Smith Senior", "SR"),
        ("Robert Smith II", "II"),
        ("Robert Smith 2nd", "II"),
        ("Robert Smith III", "III"),
        ("Robert Smith 3rd", "III"),
        ("Robert Smith IV", "IV"),
        ("Robert Smith 4th", "IV"),
        ("Robert Smith Jr. MD", "JR"),
        ("Robert Smith", ""),
    ],
)
def test_suffix_spellings_become_one_canonical_form(written, suffix):
    name = name_parse(full=written)

    assert name.suffix == suffix
    assert (name.first, name.last) == ("ROBERT", "SMITH")


def test_split_fields_carry_title_middle_and_suffix():
    name = name_parse("Mr. Bill H.", "Jenkins Jr.")

    assert name == PersonName(
        raw="Mr. Bill H. Jenkins Jr.",
        title="MR",
        first="BILL",
        middle="H",
        last="JENKINS",
        suffix="JR",
        is_company=False,
        first_key="WILLIAM",
        first_phonetic="BL",
        last_phonetic="JNKNS",
        last_nysiis="JANCAN",
    )


@pytest.mark.parametrize(
    ("first", "last", "expected_first", "expected_last"),
    [
        ("William", "Mc Donald", "WILLIAM", "MCDONALD"),
        ("Maria", "de la Cruz", "MARIA", "DE LA CRUZ"),
        ("  josé ", " garcía-lópez ", "JOSE", "GARCIA-LOPEZ"),
        ("", "Jenkins", "", "JENKINS"),
        ("William", "", "WILLIAM", ""),
    ],
)
def test_split_fields_are_cleaned(first, last, expected_first, expected_last):
    name = name_parse(first, last)

    assert (name.first, name.last) == (expected_first, expected_last)


@pytest.mark.parametrize(
    ("full", "last"),
    [
        ("ACME HVAC LLC", "ACME HVAC LLC"),
        ("Acme Heating & Air, Inc.", "ACME HEATING AND AIR INC"),
        ("Smith & Sons Plumbing", "SMITH AND SONS PLUMBING"),
        ("The Oaks HOA", "THE OAKS HOA"),
        ("Riverside Property Management", "RIVERSIDE PROPERTY MANAGEMENT"),
    ],
)
def test_companies_are_recognised_and_kept_whole(full, last):
    name = name_parse(full=full)

    assert name.is_company is True
    assert name.last == last
    assert (name.title, name.first, name.middle, name.suffix, name.first_key) == ("",) * 5
    assert name.last_phonetic != ""


def test_a_company_in_the_split_fields_is_recognised():
    name = name_parse("", "ACME HVAC LLC")

    assert name.is_company is True
    assert name.last == "ACME HVAC LLC"


@pytest.mark.parametrize("full", ["John & Mary Smith", "Thomas Church", "Anna Bank"])
def test_people_are_not_taken_for_companies(full):
    assert name_parse(full=full).is_company is False


@pytest.mark.parametrize("full", ["", "   ", "12345", "!!!", "---", "Mr."])
def test_empty_or_garbage_gives_empty_parts(full):
    name = name_parse(full=full)

    parts = (name.first, name.middle, name.last, name.suffix, name.first_key)
    assert parts == ("",) * 5
    assert (name.first_phonetic, name.last_phonetic, name.last_nysiis) == ("", "", "")
    assert name.is_company is False


def test_no_input_at_all_gives_an_empty_name():
    assert name_parse() == PersonName(raw="")
    assert name_parse(None, None) == PersonName(raw="")


def test_phonetic_codes_are_filled_in():
    name = name_parse(full="Catherine Jenkins")

    assert (name.first_phonetic, name.last_phonetic, name.last_nysiis) == (
        "K0RN",
        "JNKNS",
        "JANCAN",
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Catherine Smith", "Kathryn Smyth"),
        ("Katherine Jenkins", "Catherine Jenkens"),
    ],
)
def test_sound_alikes_share_metaphone_codes(a, b):
    first, second = name_parse(full=a), name_parse(full=b)

    assert first.first_phonetic == second.first_phonetic
    assert first.last_phonetic == second.last_phonetic


# --- nicknames -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "includes"),
    [
        ("Bill", {"BILL", "WILLIAM"}),
        ("billy", {"BILLY", "WILLIAM"}),
        ("Will", {"WILL", "WILLIAM"}),
        ("Liam", {"LIAM", "WILLIAM"}),
        ("Bob", {"BOB", "ROBERT"}),
        ("Peggy", {"PEGGY", "MARGARET"}),
        ("Jim", {"JIM", "JAMES"}),
        ("Beth", {"BETH", "ELIZABETH"}),
        ("Liz", {"LIZ", "ELIZABETH"}),
        ("Kate", {"KATE", "KATHERINE", "CATHERINE"}),
        ("Chris", {"CHRIS", "CHRISTOPHER", "CHRISTINE"}),
    ],
)
def test_nickname_group_holds_the_formal_names_and_the_name_itself(first, includes):
    assert includes <= nickname_group(first)


@pytest.mark.parametrize(
    ("first", "group"),
    [("William", {"WILLIAM", "WILMA"}), ("Xyzzy", {"XYZZY"}), ("", set()), ("  ", set())],
)
def test_nickname_group_of_a_formal_or_unknown_name(first, group):
    # WILMA is the package's own (noisy) row "wilma has_nickname william": it is a score feature.
    assert nickname_group(first) == frozenset(group)


@pytest.mark.parametrize(
    ("first", "key"),
    [
        ("Bill", "WILLIAM"),
        ("Billy", "WILLIAM"),
        ("Will", "WILLIAM"),
        ("Liam", "WILLIAM"),
        ("William", "WILLIAM"),
        ("Bob", "ROBERT"),
        ("Robert", "ROBERT"),
        ("Peggy", "MARGARET"),
        ("Margaret", "MARGARET"),
        ("Jim", "JAMES"),
        ("Jimmy", "JAMES"),
        ("Liza", "ELIZABETH"),
        ("Michael", "MICHAEL"),
        ("Chris", "CHRIS"),
        ("José", "JOSE"),
        ("Xyzzy", "XYZZY"),
        ("", ""),
    ],
)
def test_first_key_is_one_deterministic_blocking_key(first, key):
    assert first_key(first) == key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Bill", "William"),
        ("Billy", "William"),
        ("Will", "William"),
        ("Liam", "William"),
        ("Bill", "Will"),
        ("Bob", "Robert"),
        ("Bobby", "Robert"),
        ("Peggy", "Margaret"),
        ("Jim", "James"),
        ("Beth", "Elizabeth"),
        ("Liz", "Elizabeth"),
        ("Beth", "Liz"),
        ("Kate", "Katherine"),
        ("Kate", "Catherine"),
        ("KATHY", "katherine"),
        ("Mike", "Michael"),
    ],
)
def test_nicknames_are_related_both_ways(a, b):
    assert first_names_related(a, b) is True
    assert first_names_related(b, a) is True
    assert first_name_similarity(a, b) == pytest.approx(0.95)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("John", "James"),
        ("Bill", "Jim"),
        ("Mary", "Margaret"),
        ("", "Bill"),
        # Both stand for a rare third name in the nickname rows; they are a couple.
        ("Laura", "Lawrence"),
    ],
)
def test_different_names_are_not_related(a, b):
    assert first_names_related(a, b) is False


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("William", "WILLIAM", 1.0),
        ("José", "Jose", 1.0),
        ("W", "William", 0.8),
        ("William", "W.", 0.8),
        ("W", "Bill", 0.0),
        ("", "William", 0.0),
        ("William", "", 0.0),
    ],
)
def test_first_name_similarity_fixed_points(a, b, expected):
    assert first_name_similarity(a, b) == pytest.approx(expected)


def test_first_name_similarity_falls_back_to_jaro_winkler():
    assert first_name_similarity("Katherine", "Catherine") == pytest.approx(0.9259, abs=1e-3)
    assert first_name_similarity("John", "James") < 0.6


# --- surnames ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("McDonald", "Mc Donald"),
        ("O'Brien", "OBRIEN"),
        ("Garcia Lopez", "García-López"),
        ("DE LA CRUZ", "Delacruz"),
    ],
)
def test_surnames_equal_apart_from_spacing_and_punctuation(a, b):
    assert last_name_similarity(a, b) == 1.0


@pytest.mark.parametrize(
    ("a", "b"),
    [("Jenkins", "Jenkens"), ("Smith", "Smyth"), ("Thompson", "Thomson"), ("Reid", "Reed")],
)
def test_sound_alike_surnames_score_at_least_point_nine(a, b):
    assert last_name_similarity(a, b) >= 0.9


@pytest.mark.parametrize(
    ("a", "b"),
    [("Garcia-Lopez", "Garcia"), ("Lopez", "Garcia-Lopez"), ("De La Cruz", "Cruz")],
)
def test_one_part_of_a_double_surname_scores_about_point_nine(a, b):
    assert last_name_similarity(a, b) == pytest.approx(0.9, abs=0.02)


@pytest.mark.parametrize(
    ("a", "b"), [("Smith", "Jones"), ("Jenkins", "Garcia"), ("De Leon", "De La Cruz")]
)
def test_different_surnames_score_low(a, b):
    assert last_name_similarity(a, b) < 0.7


@pytest.mark.parametrize(("a", "b"), [("", "Smith"), ("Smith", ""), ("'", "-")])
def test_a_missing_surname_is_no_evidence(a, b):
    assert last_name_similarity(a, b) == 0.0


@pytest.mark.parametrize(
    ("a", "b"),
    [("WILLIAM", "WILMA"), ("DANIEL", "DANIELLE"), ("PATRICK", "PATRICIA"), ("PAUL", "PAULA")],
)
def test_two_different_given_names_are_never_one_person(a, b):
    """A couple is the mistake a matcher must not make, whatever the nickname rows say."""
    assert not first_names_related(a, b)
    assert distinct_given_names(a, b)


@pytest.mark.parametrize(("a", "b"), [("MICHAEL", "MICHEAL"), ("ANDREA", "ANDERA")])
def test_two_neighbouring_letters_swapped_are_a_typo_not_two_people(a, b):
    assert not distinct_given_names(a, b)


@pytest.mark.parametrize(
    ("first", "last", "expected_last", "suffix"),
    [
        ("John", "SmithJr", "SMITH", "JR"),
        ("Luis", "RIVERAAJR", "RIVERAA", "JR"),
        ("Frank", "Jones Sr", "JONES", "SR"),
        ("Henry", "FordIII", "FORD", "III"),
    ],
)
def test_a_suffix_glued_to_the_last_name_is_read_as_a_suffix(first, last, expected_last, suffix):
    """A typist who drops the space still says "junior": father and son are two people."""
    name = name_parse(first, last)
    assert (name.last, name.suffix) == (expected_last, suffix)


@pytest.mark.parametrize("last", ["KOVALSKII", "PETRIV", "SHAIR", "AJR"])
def test_surnames_that_merely_end_like_a_suffix_are_left_whole(last):
    name = name_parse("Anna", last)
    assert (name.last, name.suffix) == (last, "")
