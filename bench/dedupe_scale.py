"""Batch deduplication at scale: time and peak memory for N generated customers.

    .venv/bin/python bench/dedupe_scale.py [--records 100000] [--seed 11]

Generates field-service customers (households, nicknames, moves, typos; see
`customers.hygiene.synthetic`), normalises them into match records (names, phones, emails,
addresses: what the database already stores for real customers, so it is timed apart), then
runs `customers.dedupe.dedupe_records`: blocking, scoring every candidate pair, clustering with
the chaining guard. Prints the figures of each step, peak resident memory and pair quality.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _linkage_data as data
from customers.dedupe import dedupe_records, pairs_from_clusters


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    started = time.perf_counter()
    records, truth, _ = data.synthetic(seed=args.seed, n=args.records)
    prepare = time.perf_counter() - started
    print(
        f"generated and normalised {len(records)} records in {prepare:.1f} s "
        f"(peak {peak_mb():.0f} MB so far)"
    )

    def progress(stage: str, done: int, total: int) -> None:
        if total and (done == total or done % max(1, total // 10) < max(1, total // 100)):
            print(f"  {stage}: {done}/{total} ({100 * done / total:.0f} %)", file=sys.stderr)

    started = time.perf_counter()
    result = dedupe_records(records, progress=progress)
    elapsed = time.perf_counter() - started
    score = data.precision_recall(pairs_from_clusters(result.clusters), truth)
    stats = result.stats
    print(
        f"dedupe of {len(records)} records: {elapsed:.1f} s "
        f"(blocking {stats['blocking_s']} s, scoring {stats['scoring_s']} s, "
        f"clustering {stats['clustering_s']} s)"
    )
    print(
        f"  {stats['pairs']} candidate pairs, {stats['blocks_skipped']} oversized blocks skipped, "
        f"{stats['clusters']} clusters, {stats['review_pairs']} pairs for review, "
        f"{stats['chains_refused']} chain joins refused"
    )
    print(f"  precision {score['precision']:.4f} recall {score['recall']:.4f} F1 {score['f1']:.4f}")
    print(f"peak resident memory {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
