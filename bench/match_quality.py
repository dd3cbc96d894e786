"""Precision, recall and F1 of duplicate pairs found by the customer matcher, in three tables
with the targets each must meet.

    .venv/bin/python bench/match_quality.py [--datasets households,febrl1,febrl3,febrl4,generator]
        [--threshold 0.95] [--generator-size 20000] [--generator-seed 7] [--names-only]

1. Household-heavy (`customers.hygiene.households`): census-style households of 1 to 10 people
   sharing a last name and an address, no phones or emails, nicknames, typos, blanks, wrong ZIPs.
   Target precision >= 0.98 and F1 >= 0.93: a family must not become one customer.
2. FEBRL 1, 3 and 4: precision >= 0.999, recall >= 0.99.
3. Our field-service generator (`customers.hygiene.synthetic`): precision >= 0.995, recall >= 0.95.

Runs the batch path (`customers.dedupe.dedupe_records`: blocking, scoring, clustering with the
chaining guard) and counts every within-cluster pair against the truth. FEBRL 2 and generator
seed 101 fit the model (`bench/match_fit.py`) and are never reported here. With `--names-only`
FEBRL's soc_sec_id is not used (only what a CRM without phones has: names and address).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _linkage_data as data
from customers.dedupe import dedupe_records, pairs_from_clusters
from customers.matching import MatchModel, match_model

# (title, datasets, targets: metric → floor)
TABLES = (
    ("Household-heavy, no phones or emails", ("households",), {"precision": 0.98, "f1": 0.93}),
    ("FEBRL 1, 3 and 4", ("febrl1", "febrl3", "febrl4"), {"precision": 0.999, "recall": 0.99}),
    ("Field-service generator", ("generator",), {"precision": 0.995, "recall": 0.95}),
)


def load(name: str, *, identifier: bool, size: int, seed: int):
    if name == "febrl4":
        records, truth = data.febrl4(identifier=identifier)
        return records, truth, None
    if name.startswith("febrl"):
        records, truth = data.febrl(int(name[-1]), identifier=identifier)
        return records, truth, None
    if name == "households":
        return data.households(seed=seed, n=size)
    records, truth, rows = data.synthetic(seed=seed, n=size)
    return records, truth, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", default=",".join(name for _, names, _ in TABLES for name in names)
    )
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--generator-size", type=int, default=20000)
    parser.add_argument("--generator-seed", type=int, default=7)
    parser.add_argument("--names-only", action="store_true")
    parser.add_argument(
        "--febrl-model",
        choices=("febrl", "shipped"),
        default="febrl",
        help="FEBRL weights: fitted on FEBRL 2 alone (bench/febrl_model.json) or the shipped model",
    )
    parser.add_argument(
        "--show-errors", type=int, default=0, help="print N false pairs of each kind"
    )
    args = parser.parse_args()

    febrl_model = MatchModel.load(Path(__file__).with_name("febrl_model.json"))
    print(f"model: shipped ({match_model().trained_on}); FEBRL: {args.febrl_model}")
    wanted = args.datasets.split(",")
    unknown = set(wanted) - {name for _, names, _ in TABLES for name in names}
    if unknown:
        parser.error(f"unknown datasets: {', '.join(sorted(unknown))}")
    verdicts: list[bool] = []
    for title, names, targets in TABLES:
        names = [name for name in names if name in wanted]
        if not names:
            continue
        floors = ", ".join(f"{metric} >= {floor}" for metric, floor in targets.items())
        print(f"\n{title} (target {floors})")
        print(
            f"  {'dataset':10s} {'records':>8s} {'true':>6s} {'found':>6s} {'precision':>9s} "
            f"{'recall':>7s} {'F1':>6s} {'seconds':>7s}  target"
        )
        for name in names:
            verdicts.append(report(name, targets, args, febrl_model))
    print(f"\ntargets met: {sum(verdicts)} of {len(verdicts)}")


def report(name: str, targets: dict[str, float], args, febrl_model: MatchModel) -> bool:
    started = time.perf_counter()
    records, truth, rows = load(
        name, identifier=not args.names_only, size=args.generator_size, seed=args.generator_seed
    )
    prepared = time.perf_counter() - started
    started = time.perf_counter()
    model = febrl_model if name.startswith("febrl") and args.febrl_model == "febrl" else None
    result = dedupe_records(records, auto_threshold=args.threshold, model=model)
    elapsed = time.perf_counter() - started
    found = pairs_from_clusters(result.clusters)
    score = data.precision_recall(found, truth)
    short = [metric for metric, floor in targets.items() if score[metric] < floor]
    verdict = "met" if not short else f"MISSED ({', '.join(short)})"
    print(
        f"  {name:10s} {len(records):8d} {len(truth):6d} {len(found):6d} "
        f"{score['precision']:9.4f} {score['recall']:7.4f} {score['f1']:6.4f} "
        f"{elapsed:7.2f}  {verdict}"
    )
    queued = {(i, j) for i, j, _ in result.review_pairs}
    seen = data.precision_recall(found | queued, truth)
    sizes = Counter(len(members) for members in result.clusters)
    print(
        f"             prepare {prepared:.1f} s; {result.stats['pairs']} pairs scored; largest "
        f"cluster {max(sizes, default=1)}; review queue {len(queued)} pairs (merged or queued "
        f"recall {seen['recall']:.4f}); held for a person {result.stats['held_for_review']}; "
        f"blank first names left alone {result.stats['ambiguous_unnamed']}"
    )
    if rows is not None:
        missed = Counter(tag for i, j in truth - found for tag in rows[j].tags + rows[i].tags)
        print(f"             missed pairs by variant: {dict(missed.most_common())}")
    if args.show_errors:
        from customers.matching import compare

        for label, pairs in (("FALSE", sorted(found - truth)), ("MISSED", sorted(truth - found))):
            for i, j in pairs[: args.show_errors]:
                c = compare(records[i], records[j], model=model)
                print(f"  {label} p={c.probability:.3f} {c.levels}")
                for record in (records[i], records[j]):
                    print(f"     {record.display_name()} | {record.phones} {record.places[:1]}")
    return not short


if __name__ == "__main__":
    main()
