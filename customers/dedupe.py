"""Finding duplicate clusters in a whole customer base (or a CSV exported from an old CRM).

The steps, each bounded so 100,000 customers fit in a minute and well under 2 GB:

1. Blocking: every record lists its blocking keys (`MatchRecord.blocking_keys`); only records
   that share a key are ever compared, so the work grows with the size of the blocks, never with
   the square of the table. A block too large to be a real identity (a shared office phone on
   300 records, an empty key) is skipped and counted, not compared all-pairs.
2. Scoring: every candidate pair gets a probability from the same model as single-record
   intake (`customers.matching`).
3. Clustering: pairs at or above the automatic threshold join clusters strongest first; two
   clusters only join when no pair across them contradicts it (a probability below
   `contradiction`, e.g. "John Smith" and "John Smith Jr"), so a chain of individually plausible
   links cannot glue a household into one customer.
4. Pairs between the review and automatic thresholds that ended up in different clusters go to
   a person (the review queue).

This module is pure: it takes `MatchRecord`s and returns clusters. `customers.services` applies
the result to the database (merges and review rows).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from customers.matching import (
    MatchModel,
    MatchRecord,
    match_model,
    probability,
    probability_and_policy,
)

Progress = Callable[[str, int, int], None]

# Key prefix → largest block compared all-pairs. Phones and emails are identities and may be
# shared by a family; a street holds an apartment block; names are common.
BLOCK_LIMITS = {
    "p": 60,
    "e": 60,
    "i": 60,
    "ih": 60,
    "it": 60,
    "s": 400,
    "nz": 250,
    "nf": 250,
    "fn": 120,
    "ln": 120,
    "zn": 120,
    "bz": 120,
    "sz": 60,
    "nn": 60,
}
DEFAULT_BLOCK_LIMIT = 200


@dataclass
class DedupeResult:
    clusters: list[list[int]]  # indices into the input, each cluster of ≥ 2 records, sorted
    review_pairs: list[tuple[int, int, float]]  # (i, j, probability), i < j
    scores: dict[tuple[int, int], float] = field(repr=False)
    stats: dict[str, float | int] = field(default_factory=dict)

    def cluster_of(self, n: int) -> list[int]:
        """For each of `n` records, the index of its cluster's first member (itself if alone)."""
        owner = list(range(n))
        for members in self.clusters:
            for i in members:
                owner[i] = members[0]
        return owner


def candidate_pairs(records: Sequence[MatchRecord], *, stats: dict | None = None) -> np.ndarray:
    """All pairs (i, j), i < j, that share a blocking key, as an (n, 2) int array."""
    blocks: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        for key in record.blocking_keys():
            blocks.setdefault(key, []).append(index)
    chunks: list[np.ndarray] = []
    skipped = 0
    for key, members in blocks.items():
        size = len(members)
        if size < 2:
            continue
        if size > BLOCK_LIMITS.get(key.split(":", 1)[0], DEFAULT_BLOCK_LIMIT):
            skipped += 1
            continue
        ids = np.asarray(members, dtype=np.int64)
        left, right = np.triu_indices(size, k=1)
        chunks.append(ids[left] * len(records) + ids[right])
    if stats is not None:
        stats["blocks"] = len(blocks)
        stats["blocks_skipped"] = skipped
    if not chunks:
        return np.empty((0, 2), dtype=np.int64)
    encoded = np.unique(np.concatenate(chunks))
    return np.stack([encoded // len(records), encoded % len(records)], axis=1)


def _just_below(threshold: float) -> float:
    return max(0.0, threshold - 1e-6)


class _Clusters:
    """Union-find that keeps member lists, for the contradiction check."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.members: dict[int, list[int]] = {}

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def group(self, root: int) -> list[int]:
        return self.members.get(root, [root])

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        self.members[ra] = self.group(ra) + self.group(rb)
        self.members.pop(rb, None)
        self.parent[rb] = ra


def dedupe_records(
    records: Sequence[MatchRecord],
    *,
    auto_threshold: float = 0.95,
    review_threshold: float = 0.80,
    contradiction: float = 0.01,
    model: MatchModel | None = None,
    progress: Progress | None = None,
    is_decided: Callable[[int, int], bool] | None = None,
) -> DedupeResult:
    """Cluster `records` into people. `is_decided(i, j)` lets the caller drop pairs a person has
    already judged "not the same" (they are neither merged nor queued again)."""
    model = model or match_model()
    stats: dict[str, float | int] = {"records": len(records)}
    started = time.perf_counter()
    pairs = candidate_pairs(records, stats=stats)
    stats["pairs"] = len(pairs)
    stats["blocking_s"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    scores: dict[tuple[int, int], float] = {}
    total = len(pairs)
    step = max(1, total // 100)
    held = 0
    for done, (i, j) in enumerate(pairs.tolist()):
        p, allowed = probability_and_policy(records[i], records[j], model=model)
        if not allowed and p >= auto_threshold:
            p = min(p, _just_below(auto_threshold))  # a person decides (see auto_merge_allowed)
            held += 1
        if p >= review_threshold or p < contradiction:
            scores[(i, j)] = p
        if progress and done % step == 0:
            progress("scoring", done, total)
    if progress:
        progress("scoring", total, total)
    stats["scoring_s"] = round(time.perf_counter() - started, 3)
    stats["held_for_review"] = held

    def pair_probability(i: int, j: int) -> float:
        key = (i, j) if i < j else (j, i)
        if key not in scores:
            scores[key] = probability(records[key[0]], records[key[1]], model=model)
        return scores[key]

    started = time.perf_counter()
    clusters = _Clusters(len(records))
    strong = sorted(
        ((p, i, j) for (i, j), p in scores.items() if p >= auto_threshold),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    refused = 0
    for _, i, j in strong:
        if is_decided and is_decided(i, j):
            continue
        ri, rj = clusters.find(i), clusters.find(j)
        if ri == rj:
            continue
        if any(
            pair_probability(x, y) < contradiction
            or (is_decided is not None and is_decided(min(x, y), max(x, y)))
            for x in clusters.group(ri)
            for y in clusters.group(rj)
        ):
            refused += 1
            continue
        clusters.join(ri, rj)
    groups = sorted(sorted(m) for m in clusters.members.values() if len(m) > 1)
    review = sorted(
        (i, j, p)
        for (i, j), p in scores.items()
        if p >= review_threshold
        and clusters.find(i) != clusters.find(j)
        and not (is_decided and is_decided(i, j))
    )
    stats["clustering_s"] = round(time.perf_counter() - started, 3)
    stats["chains_refused"] = refused
    stats["clusters"] = len(groups)
    stats["review_pairs"] = len(review)
    return DedupeResult(clusters=groups, review_pairs=review, scores=scores, stats=stats)


def pairs_from_clusters(clusters: Sequence[Sequence[int]]) -> set[tuple[int, int]]:
    """Every within-cluster pair (i < j): what precision and recall are counted on."""
    out: set[tuple[int, int]] = set()
    for members in clusters:
        ordered = sorted(members)
        for x, a in enumerate(ordered):
            for b in ordered[x + 1 :]:
                out.add((a, b))
    return out
