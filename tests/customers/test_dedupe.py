"""Batch clustering: quality on generated field-service data, the chaining guard, CSV in/out."""

from __future__ import annotations

import csv

import pytest
from django.core.management import CommandError, call_command

from customers.dedupe import candidate_pairs, dedupe_records, pairs_from_clusters
from customers.hygiene.households import HouseholdGenerator
from customers.hygiene.synthetic import (
    TAIL_FIRST_NAMES,
    TAIL_LAST_NAMES,
    CustomerGenerator,
    true_pairs,
)
from customers.matching import compare_levels, plainly_different_people, record_from_row


def scored(rows, threshold=0.95):
    records = [record_from_row(row.row(), key=i) for i, row in enumerate(rows)]
    position = {row.id: i for i, row in enumerate(rows)}
    truth = {
        (min(position[a], position[b]), max(position[a], position[b])) for a, b in true_pairs(rows)
    }
    result = dedupe_records(records, auto_threshold=threshold)
    found = pairs_from_clusters(result.clusters)
    tp = len(found & truth)
    return tp / max(1, len(found)), tp / max(1, len(truth)), result


def test_generated_customer_base_is_deduplicated_precisely():
    """A seed never used to fit the model; the bench runs the same at 20,000 and 100,000."""
    rows = CustomerGenerator(seed=2024).records(3000)
    precision, recall, result = scored(rows)
    assert precision >= 0.99, precision
    assert recall >= 0.90, recall
    assert result.stats["pairs"] < 3000 * 10, "blocking keeps the compared pairs near-linear"


def test_a_household_is_not_chained_into_one_customer():
    """Father and son are each a likely match of a record that omits the suffix... the guard
    refuses to join clusters that contain a contradicting pair."""
    rows = [
        {
            "id": "1",
            "first_name": "John",
            "last_name": "Smith",
            "phone": "512-555-0110",
            "street": "123 Main St",
            "city": "Austin",
            "state": "TX",
            "zip": "78701",
        },
        {
            "id": "2",
            "first_name": "John",
            "last_name": "Smith Jr",
            "phone": "512-555-0111",
            "street": "123 Main St",
            "city": "Austin",
            "state": "TX",
            "zip": "78701",
        },
        {
            "id": "3",
            "first_name": "John",
            "last_name": "Smith Jr.",
            "phone": "512-555-0111",
            "street": "123 Main Street",
            "city": "Austin",
            "state": "TX",
            "zip": "78701",
        },
        {
            "id": "4",
            "first_name": "Mary",
            "last_name": "Smith",
            "phone": "512-555-0110",
            "street": "123 Main St",
            "city": "Austin",
            "state": "TX",
            "zip": "78701",
        },
    ]
    records = [record_from_row(row, key=i) for i, row in enumerate(rows)]
    result = dedupe_records(records)
    assert result.clusters == [[1, 2]], "only the two Jr records are one person"


def test_decided_pairs_are_neither_merged_nor_queued():
    rows = [
        {"id": "1", "first_name": "Ann", "last_name": "Lee", "phone": "512-555-0130"},
        {"id": "2", "first_name": "Ann", "last_name": "Lee", "phone": "512-555-0130"},
    ]
    records = [record_from_row(row) for row in rows]
    assert dedupe_records(records).clusters == [[0, 1]]
    decided = dedupe_records(records, is_decided=lambda i, j: True)
    assert decided.clusters == []
    assert decided.review_pairs == []


def test_oversized_blocks_are_skipped_not_compared_all_pairs():
    """200 different people who all gave the office's main line."""
    rows = [
        {"id": str(i), "first_name": first, "last_name": last, "phone": "512-555-0199"}
        for i, (first, last) in enumerate(zip(TAIL_FIRST_NAMES, TAIL_LAST_NAMES[::7], strict=False))
    ][:200]
    assert len(rows) == 200
    stats = {}
    pairs = candidate_pairs([record_from_row(r) for r in rows], stats=stats)
    assert len(pairs) == 0
    assert stats["blocks_skipped"] >= 1


def test_dedupe_csv_writes_one_cluster_id_per_person(tmp_path):
    rows = CustomerGenerator(seed=77).records(400)
    source = tmp_path / "in.csv"
    with source.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*rows[0].row(), "notes"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row.row(), "notes": "extra columns are ignored"})
    target = tmp_path / "out.csv"
    with (tmp_path / "log").open("w") as log, (tmp_path / "err").open("w") as err:
        call_command("dedupe_csv", str(source), str(target), stdout=log, stderr=err)
    with target.open() as handle:
        out = list(csv.DictReader(handle))
    assert [r["id"] for r in out] == [row.id for row in rows]
    cluster = {r["id"]: r["cluster_id"] for r in out}
    truth = true_pairs(rows)
    found = {
        tuple(sorted((a.id, b.id)))
        for a in rows
        for b in rows
        if a.id < b.id and cluster[a.id] == cluster[b.id]
    }
    truth = {tuple(sorted(p)) for p in truth}
    assert len(found & truth) / len(truth) >= 0.9
    assert len(found - truth) <= max(1, len(found) // 100)
    assert "normalising" in (tmp_path / "err").read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "none of the columns"),
        ("colour,size\nred,9\n", "none of the columns"),
        ("id,first_name\n1,Ann\n1,Bob\n", "repeats ids"),
    ],
)
def test_dedupe_csv_refuses_unusable_files_clearly(tmp_path, content, message):
    source = tmp_path / "in.csv"
    source.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("dedupe_csv", str(source), str(tmp_path / "out.csv"))
    assert not (tmp_path / "out.csv").exists()


def test_dedupe_csv_names_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("dedupe_csv", str(tmp_path / "nope.csv"), str(tmp_path / "out.csv"))


# --- households: no phones, no emails, one address -----------------------------------------


def dedupe_csv_clusters(tmp_path, rows: list[dict]) -> list[list[str]]:
    """Run `manage.py dedupe_csv` on `rows`; the ids of each person it found, in input order."""
    source, target = tmp_path / "household.csv", tmp_path / "people.csv"
    with source.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with (tmp_path / "log").open("w") as log:
        call_command("dedupe_csv", str(source), str(target), stdout=log, stderr=log)
    people: dict[str, list[str]] = {}
    with target.open() as handle:
        for row in csv.DictReader(handle):
            people.setdefault(row["cluster_id"], []).append(row["id"])
    return sorted(people.values(), key=lambda ids: int(ids[0]))


def household(last: str, firsts: list[str], *, street="417 Juniper Ridge Rd") -> list[dict]:
    return [
        {
            "id": str(n),
            "first_name": first,
            "last_name": last,
            "street": street,
            "city": "Round Rock",
            "state": "TX",
            "zip": "78664",
        }
        for n, first in enumerate(firsts, start=1)
    ]


def test_a_blank_first_name_does_not_bridge_a_household(tmp_path):
    """Garth twice, Heather and Hetty, Danielle and Ellie, and one row nobody named."""
    rows = household(
        "Martinez Ripa", ["Garth", "Heather", "", "Hetty", "Danielle", "Ellie", "Garth"]
    )
    assert dedupe_csv_clusters(tmp_path, rows) == [["1", "7"], ["2", "4"], ["3"], ["5", "6"]]


def test_a_household_of_eight_with_blanks_and_nicknames_stays_eight_customers(tmp_path):
    rows = household("Okonkwo", ["Bill", "Peggy", "", "Raymond", "Kathy", "Danielle", "T", "Susan"])
    # One row with a ZIP typed wrong and one with a placeholder city: still the same house.
    rows[3]["zip"] = "78646"
    rows[6]["city"] = "N/A"
    assert dedupe_csv_clusters(tmp_path, rows) == [[row["id"]] for row in rows]


def test_a_junior_with_the_suffix_glued_to_the_last_name_is_not_his_father(tmp_path):
    rows = [
        *household("Smith", ["John", "John"]),
        {**household("SmithJr", ["John"])[0], "id": "3"},
        {**household("RIVERAAJR", ["Luis"])[0], "id": "4"},
        {**household("Riveraa", ["Luis"])[0], "id": "5"},
    ]
    assert dedupe_csv_clusters(tmp_path, rows) == [["1", "2"], ["3"], ["4"], ["5"]]


def test_the_same_person_twice_in_a_household_is_still_found(tmp_path):
    """The guard must not cost the plain duplicates: a nickname, a typo, a missing ZIP."""
    rows = household("Delacroix", ["Margaret", "Peggy", "Jonathan", "Jonahtan", "Ruth"])
    rows[4]["zip"] = ""
    rows.append({**rows[4], "id": "6", "street": "417 Juniper Ridge Road"})
    assert dedupe_csv_clusters(tmp_path, rows) == [["1", "2"], ["3", "4"], ["5", "6"]]


def test_household_heavy_data_keeps_precision_and_no_cluster_holds_two_people():
    """A small run of the bench's household generator (no phones or emails, so nothing ties two
    records directly): no cluster may hold two records whose first names plainly differ."""
    rows = HouseholdGenerator(seed=11).records(2500)
    precision, recall, result = scored(rows)
    records = [record_from_row(row.row(), key=i) for i, row in enumerate(rows)]
    glued = [
        (records[a].display_name(), records[b].display_name())
        for members in result.clusters
        for x, a in enumerate(members)
        for b in members[x + 1 :]
        if plainly_different_people(records[a], records[b], compare_levels(records[a], records[b]))
    ]
    assert glued == []
    assert precision >= 0.98, precision
    assert recall >= 0.8, recall
