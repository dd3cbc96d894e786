"""Finding duplicate clusters in a whole customer base (or a CSV exported from an old CRM).

The steps, each bounded so 100,000 customers fit in a minute and well under 2 GB:

1. Blocking: every record lists its blocking keys (`MatchRecord.blocking_keys`); only records
   that share a key are ever compared, so the work grows with the size of the blocks, never with
   the square of the table. A block too large to be a real identity (a shared office phone on
   300 records, an empty key) is skipped and counted, not compared all-pairs.
2. Scoring: every candidate pair gets a probability from the same model as single-record
   intake (`customers.matching`).
3. Clustering, in two phases. First the records that name their person (a first name of two
   letters or more): pairs at or above the automatic threshold join clusters strongest first,
   and two clusters only join when no pair across them is apart: a probability below
   `contradiction` ("John Smith" and "John Smith Jr"), or two plainly different people
   (`customers.matching.plainly_different_people`: Garth and Heather at one address) that no
   email or account number explains. Then the records with a blank or initial-only first name:
   each joins the one person it can only be (its strongest link, or the record it shares an
   email or account number with), and none when its likely matches are two people who are
   apart. So a chain of plausible links through a blank, a nickname or a typo cannot glue a
   household into one customer.
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
    auto_merge_allowed,
    compare_levels,
    identifier_tied,
    logit,
    match_model,
    plainly_different_people,
    probability_from_logit,
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


def _named(record: MatchRecord) -> bool:
    """Whether the record says who it is: a first name of two letters or more (or a company)."""
    return len(record.first) >= 2 or record.is_company


_CONTRADICTED, _DIFFERENT_PEOPLE, _TIED = 1, 2, 4
_APART = _CONTRADICTED | _DIFFERENT_PEOPLE


class _PairJudge:
    """Whether two clusters may become one, from facts about their records' pairs (cached):

    - a pair the model finds contradicting (a probability below `contradiction`, e.g. "John Smith"
      and "John Smith Jr") never shares a cluster;
    - a pair of plainly different people (`customers.matching.plainly_different_people`: Garth
      and Heather at one address) shares one only when the cluster explains the difference: one
      of them is tied by an email or account number (`identifier_tied`) to a record whose name
      agrees with the other's. That is a record typed under the wrong first name, not a second
      person (FEBRL's corrupted duplicates; a spouse's name on the customer's account).
    """

    def __init__(
        self, records, facts, scored: np.ndarray, *, model: MatchModel, contradiction: float
    ):
        self.records = records
        self.facts = facts  # (i, j) → flags, for the scored pairs that have any
        self.scored = scored  # the scored pairs, encoded i * n + j, sorted: no facts, no flags
        self.model = model
        self.contradiction = contradiction

    def flags(self, i: int, j: int) -> int:
        key = (i, j) if i < j else (j, i)
        known = self.facts.get(key)
        if known is None:
            code = key[0] * len(self.records) + key[1]
            at = int(np.searchsorted(self.scored, code))
            if at < len(self.scored) and self.scored[at] == code:
                return 0
            a, b = self.records[key[0]], self.records[key[1]]
            levels = compare_levels(a, b)
            known = pair_flags(
                a, b, levels, probability_from_logit(logit(levels, self.model)), self.contradiction
            )
            self.facts[key] = known
        return known

    def groups_conflict(self, a: Sequence[int], b: Sequence[int]) -> bool:
        union = [*a, *b]
        for x in a:
            for y in b:
                flags = self.flags(x, y)
                if flags & _CONTRADICTED:
                    return True
                if flags & _DIFFERENT_PEOPLE and not self._explained(x, y, union):
                    return True
        return False

    def _explained(self, x: int, y: int, union: Sequence[int]) -> bool:
        """Whether a record of the union is tied to one of `x`, `y` and not apart from the other."""
        return any(
            z not in (x, y) and self.flags(tied, z) & _TIED and not self.flags(z, other) & _APART
            for z in union
            for tied, other in ((x, y), (y, x))
        )


def pair_flags(
    a: MatchRecord, b: MatchRecord, levels: dict[str, str], p: float, contradiction: float
) -> int:
    """What the clustering must know of a pair: contradicted, plainly two people, tied."""
    flags = _CONTRADICTED if p < contradiction else 0
    if plainly_different_people(a, b, levels):
        flags |= _DIFFERENT_PEOPLE
    if identifier_tied(levels):
        flags |= _TIED
    return flags


def _join_if_consistent(
    clusters: _Clusters,
    judge: _PairJudge,
    i: int,
    j: int,
    is_decided: Callable[[int, int], bool] | None,
) -> bool:
    """Join the clusters of `i` and `j` unless a pair across them is apart or decided "not the
    same"; whether they are one cluster afterwards."""
    ri, rj = clusters.find(i), clusters.find(j)
    if ri == rj:
        return True
    left, right = clusters.group(ri), clusters.group(rj)
    if judge.groups_conflict(left, right) or (
        is_decided is not None
        and any(is_decided(min(x, y), max(x, y)) for x in left for y in right)
    ):
        return False
    clusters.join(ri, rj)
    return True


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
    facts: dict[tuple[int, int], int] = {}
    for done, (i, j) in enumerate(pairs.tolist()):
        levels = compare_levels(records[i], records[j])
        p = probability_from_logit(logit(levels, model))
        allowed = auto_merge_allowed(levels)
        if flags := pair_flags(records[i], records[j], levels, p, contradiction):
            facts[(i, j)] = flags
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

    scored = pairs[:, 0] * len(records) + pairs[:, 1]  # sorted, as candidate_pairs gives them
    judge = _PairJudge(records, facts, scored, model=model, contradiction=contradiction)
    started = time.perf_counter()
    clusters = _Clusters(len(records))
    strong = sorted(
        ((p, i, j) for (i, j), p in scores.items() if p >= auto_threshold),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    if is_decided:
        strong = [(p, i, j) for p, i, j in strong if not is_decided(i, j)]
    named = [_named(record) for record in records]
    refused = 0
    # 1. People with a first name: strongest links first, never into a cluster that holds a
    #    record plainly somebody else.
    for _, i, j in strong:
        if named[i] and named[j]:
            refused += not _join_if_consistent(clusters, judge, i, j, is_decided)
    # 2. A blank or initial-only first name joins the one person it can only be. When its likely
    #    matches (at or above the review threshold) are two different people (a blank "Martinez
    #    Ripa" at the house where Garth and Heather Martinez Ripa live) it joins nobody: it goes
    #    to a person, and it never bridges two clusters.
    links: dict[int, list[tuple[float, int]]] = {}
    for (i, j), p in scores.items():
        if p >= review_threshold and not (named[i] and named[j]):
            if not named[i]:
                links.setdefault(i, []).append((p, j))
            if not named[j]:
                links.setdefault(j, []).append((p, i))

    def ambiguous(i: int) -> bool:
        """Whether the likely matches of unnamed record `i` are two people who are apart."""
        if any(judge.flags(i, j) & _TIED for p, j in links[i] if p >= auto_threshold):
            return False
        roots: list[int] = []
        for _, j in links[i]:
            root = clusters.find(j)
            if root not in roots and root != clusters.find(i):
                roots.append(root)
        return any(
            judge.groups_conflict(clusters.group(a), clusters.group(b))
            for x, a in enumerate(roots)
            for b in roots[x + 1 :]
        )

    # Decided before any joins, so an initial "T" cannot join the blank row that could be anyone.
    unplaced = {i for i in links if ambiguous(i)}
    for i in sorted(links):
        if i in unplaced:
            continue
        candidates = sorted(
            ((p, j) for p, j in links[i] if j not in unplaced), key=lambda item: (-item[0], item[1])
        )
        strong_links = [j for p, j in candidates if p >= auto_threshold]
        tied = [j for j in strong_links if judge.flags(i, j) & _TIED]
        # The same email or account number says who it is; else the likeliest match.
        for j in tied or strong_links[:1]:
            if not (is_decided and is_decided(min(i, j), max(i, j))):
                refused += not _join_if_consistent(clusters, judge, i, j, is_decided)
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
    stats["ambiguous_unnamed"] = len(unplaced)
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
