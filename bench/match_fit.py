"""Fit the customer matcher's weights and write `customers/match_model.json`.

    .venv/bin/python bench/match_fit.py [--synthetic 20000] [--seed 101] [--c 1.0]

Training pairs are the *blocked candidate pairs* (exactly the pairs the matcher will ever score)
of FEBRL 2 and of our own field-service generator at a seed never used for reporting. Each pair
becomes its level per field (`customers.matching.LEVELS`; "missing" weighs nothing) and its pair
of levels for every two fields; an L2-regularised logistic regression (scikit-learn, a
development dependency only) gives one weight per (field, level), one per (field pair, level
pair) and a bias: the logit of a calibrated probability. The matcher evaluates it with table
lookups, so nothing of scikit-learn is needed at runtime.

Why pairs: a linear model over single fields cannot say "the same name *and* the same phone"
(a strong match) apart from "the same phone *and* a different first name" (a spouse on the
family landline); every pair of fields, weighed together, can. FEBRL 1, 3 and 4 and other
generator seeds are for reporting only (`bench/match_quality.py`).

`--only-febrl` fits the same features on FEBRL 2 alone into `bench/febrl_model.json`: FEBRL is
Australian census-style data, not a field-service customer base, so the FEBRL benchmark measures
the method (features, blocking, clustering) with weights fitted on its own kind of data, as
the benchmark's rules allow; the shipped model is reported on FEBRL too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from scipy import sparse

from bench import _linkage_data as data
from customers.dedupe import candidate_pairs
from customers.matching import FIELD_PAIRS, MODEL_PATH, compare_levels, pair_key

FEBRL_MODEL_PATH = Path(__file__).with_name("febrl_model.json")


def features(levels: dict[str, str]) -> list[tuple[str, str]]:
    """(table, key) of every weight a pair of records uses: single fields, then field pairs."""
    out = [(name, level) for name, level in levels.items() if level != "missing"]
    for a, b in FIELD_PAIRS:
        if levels[a] != "missing" or levels[b] != "missing":
            out.append((pair_key(a, b), f"{levels[a]}|{levels[b]}"))
    return out


def design(sets) -> tuple[list[list[tuple[str, str]]], np.ndarray, list[str]]:
    rows, labels, report = [], [], []
    for name, records, truth in sets:
        pairs = candidate_pairs(records)
        found = 0
        for i, j in pairs.tolist():
            rows.append(features(compare_levels(records[i], records[j])))
            label = (i, j) in truth
            labels.append(label)
            found += label
        report.append(
            f"{name:10s} {len(records):6d} records  {len(pairs):7d} candidate pairs  "
            f"{found}/{len(truth)} true pairs blocked ({found / max(1, len(truth)):.3f})"
        )
    return rows, np.asarray(labels, dtype=float), report


def matrix(rows) -> tuple[sparse.csr_matrix, dict[tuple[str, str], int]]:
    vocabulary: dict[tuple[str, str], int] = {}
    indices, pointers = [], [0]
    for row in rows:
        for item in row:
            indices.append(vocabulary.setdefault(item, len(vocabulary)))
        pointers.append(len(indices))
    values = np.ones(len(indices))
    return sparse.csr_matrix((values, indices, pointers), shape=(len(rows), len(vocabulary))), (
        vocabulary
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=20000, help="generated records")
    parser.add_argument("--seed", type=int, default=101, help="generator seed (not a report seed)")
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength")
    parser.add_argument(
        "--only-febrl",
        action="store_true",
        help=f"fit on FEBRL 2 alone, into {FEBRL_MODEL_PATH.name} (the FEBRL benchmark's model)",
    )
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    sets = [("FEBRL 2", *data.febrl(2))]
    if not args.only_febrl:
        sets.append(("generator", *data.synthetic(seed=args.seed, n=args.synthetic)[:2]))
    output = args.output or (FEBRL_MODEL_PATH if args.only_febrl else MODEL_PATH)
    rows, y, report = design(sets)
    print("\n".join(report))
    x, vocabulary = matrix(rows)
    fitted = LogisticRegression(C=args.c, max_iter=5000).fit(x, y)
    weights: dict[str, dict[str, float]] = {}
    for (table, key), column in sorted(vocabulary.items()):
        value = round(float(fitted.coef_[0][column]), 4)
        if value:
            weights.setdefault(table, {})[key] = value
    singles = {k: v for k, v in weights.items() if "*" not in k}
    pairs = {k: v for k, v in weights.items() if "*" in k}
    trained_on = (
        "FEBRL 2" if args.only_febrl else f"FEBRL 2 + generator seed {args.seed} x {args.synthetic}"
    )
    model = {
        "trained_on": f"{trained_on}, {len(y)} blocked pairs, C={args.c}, "
        f"{dt.date.today().isoformat()}",
        "bias": round(float(fitted.intercept_[0]), 4),
        "weights": singles,
        "pairs": pairs,
    }
    output.write_text(json.dumps(model, indent=1, sort_keys=True) + "\n")
    p = fitted.predict_proba(x)[:, 1]
    loss = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))
    print(
        f"fitted {len(vocabulary)} weights in {time.perf_counter() - started:.1f} s; "
        f"training log-loss {loss:.4f}"
    )
    for name, levels in singles.items():
        print(f"  {name:10s} " + "  ".join(f"{k}={v:+.2f}" for k, v in levels.items()))
    print(
        f"  bias {model['bias']:+.2f}; {sum(map(len, pairs.values()))} pair weights\nwrote {output}"
    )


if __name__ == "__main__":
    main()
