"""Time per utterance of the phone agent's rule brain.

    .venv/bin/python bench/brain_speed.py [--rounds 20]

Reads every sentence callers say in the phone scenarios (tests/voice/scenarios/*.yaml) against
the demo catalogue (names and spoken synonyms), as each kind of question the agent asks, and
prints p50 / p95 / p99 in milliseconds per utterance. No database is needed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")

from bench._common import percentile

ROOT = Path(__file__).resolve().parent.parent

OFFERED = (
    "Tuesday the 8th between 8 and 10 in the morning",
    "Wednesday the 9th between 1 and 3 in the afternoon",
    "Thursday the 10th between 5 and 7 in the evening",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    import django
    import yaml

    django.setup()
    from bookings.voice.brain import EXPECTING, RuleBrain
    from dispatchnode.demo import data

    catalogue = [
        SimpleNamespace(
            id=n,
            code=spec.code,
            name=spec.name,
            category=spec.category,
            kind=spec.kind,
            spoken_synonyms=spec.synonyms,
            is_active=True,
        )
        for n, spec in enumerate(data.SERVICE_TYPES, start=1)
    ]
    sentences = set()
    for path in sorted((ROOT / "tests" / "voice" / "scenarios").glob("*.yaml")):
        caller = yaml.safe_load(path.read_text()).get("caller", {})
        sentences.update(r["say"] for r in caller.get("rules", ()) if r.get("say"))
        if caller.get("default"):
            sentences.add(caller["default"])
    brain = RuleBrain()
    samples = []
    for _ in range(args.rounds):
        for sentence in sorted(sentences):
            for expecting in EXPECTING:
                started = time.perf_counter()
                brain.understand(
                    text=sentence, expecting=expecting, catalogue=catalogue, offered=OFFERED
                )
                samples.append((time.perf_counter() - started) * 1000)
    print(
        f"{len(sentences)} sentences x {len(EXPECTING)} questions x {args.rounds} rounds: "
        f"p50 {percentile(samples, 0.5):.3f} ms, p95 {percentile(samples, 0.95):.3f} ms, "
        f"p99 {percentile(samples, 0.99):.3f} ms per utterance"
    )


if __name__ == "__main__":
    main()
