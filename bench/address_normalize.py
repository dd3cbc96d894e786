"""Speed and review rate of the US address normaliser on real-looking intake text.

    DEBUG=1 .venv/bin/python bench/address_normalize.py [--count 20000] [--seed 7]

Builds `count` addresses from the demo company's Austin streets and ZIPs, written the ways
people and systems write them (abbreviated or spelled out, lower case, units as "Apt 4B",
"#4B" or "Suite 130", on their own line, trailing "USA", PO Boxes, rural routes, highways, a
few wrong cities, two-unit and garbage lines), then times `address_normalize` on each. Prints
the count, p50 / p95 / p99 per address in microseconds (wall clock and CPU time) and the
share flagged for review.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")

from bench._common import percentile

SUFFIXES = {"St": "Street", "Ave": "Avenue", "Blvd": "Boulevard", "Dr": "Drive", "Rd": "Road",
            "Ln": "Lane", "Pkwy": "Parkway", "Trl": "Trail"}  # fmt: skip
DIRECTIONS = {"N": "North", "S": "South", "E": "East", "W": "West"}
UNITS = ("Apt {n}", "apt. {n}", "#{n}", "# {n}", "Unit {n}", "Suite {n}", "Ste {n}", "STE. {n}")
ODD = (
    "RR {a} Box {b}",
    "HC {a} Box {b}",
    "PO Box {b}",
    "P.O. Box {b}",
    "{b} US Hwy 290 W",
    "{b} FM 1826",
    "{b} Farm to Market Road 620",
    "{a} 1/2 Main St",
    "{b} I-35 N",
)
BROKEN = (
    "Ste {a} Unit {b}",
    "{b} Main St, 3rd Floor, #{a}",
    "Main St & Oak Ave",
    "call before coming",
    "{b}",
    "",
)


def problem_kind(problem: str) -> str:
    """A problem without its particulars, so that alike problems count together."""
    problem = re.sub(r" is in .*", " is in another city or state", problem.split(" (")[0])
    return re.sub(r"\d+", "N", problem)


def spelled(street: str, rng: random.Random) -> str:
    """The demo's display form ("W 6th St") written out, abbreviated or lower-cased."""
    words = street.split()
    if rng.random() < 0.3:
        words = [SUFFIXES.get(w, DIRECTIONS.get(w, w)) for w in words]
    line = " ".join(words)
    roll = rng.random()
    return line.lower() if roll < 0.15 else line.upper() if roll < 0.25 else line


def addresses(count: int, seed: int) -> list[str]:
    from dispatchnode.demo import data

    rng = random.Random(seed)
    areas = data.ZIP_AREAS
    out = []
    for _ in range(count):
        area = rng.choice(areas)
        a, b = rng.randint(1, 40), rng.randint(100, 14999)
        roll = rng.random()
        if roll < 0.05:
            first = rng.choice(ODD).format(a=a, b=b)
        elif roll < 0.07:
            out.append(rng.choice(BROKEN).format(a=a, b=b))
            continue
        else:
            first = f"{b} {spelled(rng.choice(area.streets), rng)}"
            if rng.random() < 0.15:
                unit = rng.choice(UNITS).format(n=f"{a}{rng.choice(('', 'B', '-C'))}")
                first += rng.choice((" ", ", ", "\n")) + unit
        city = area.city if rng.random() > 0.02 else "Dallas"  # a wrong city now and then
        state = rng.choice(("TX", "TX", "Texas", "tx"))
        zip_code = area.code + (f"-{rng.randint(1000, 9999)}" if rng.random() < 0.1 else "")
        tail = rng.choice(("", "", "", ", USA"))
        out.append(f"{first}{rng.choice((', ', ' ', chr(10)))}{city}, {state} {zip_code}{tail}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="addresses to normalise")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from customers.hygiene.addresses import address_normalize

    inputs = addresses(args.count, args.seed)
    started = time.perf_counter()
    address_normalize("1 Main St, Austin, TX 78701")  # the first ZIP lookup loads the ZIP data
    warm_up = time.perf_counter() - started
    samples, cpu, reviewed, reasons = [], [], 0, Counter()
    for raw in inputs:
        started, cpu_started = time.perf_counter(), time.thread_time()
        result = address_normalize(raw)
        samples.append((time.perf_counter() - started) * 1_000_000)
        cpu.append((time.thread_time() - cpu_started) * 1_000_000)
        if result.needs_review:
            reviewed += 1
            reasons.update(problem_kind(problem) for problem in result.problems)
    print(f"addresses: {len(samples)} (first call, ZIP data load: {warm_up * 1000:.0f} ms)")
    print(
        f"per address µs: p50 {statistics.median(samples):.0f}  "
        f"p95 {percentile(samples, 0.95):.0f}  p99 {percentile(samples, 0.99):.0f}  "
        f"total {sum(samples) / 1e6:.2f} s"
    )
    print(  # wall-clock tails include waiting for a busy CPU; CPU time does not
        f"per address CPU µs: p50 {statistics.median(cpu):.0f}  p95 {percentile(cpu, 0.95):.0f}"
        f"  p99 {percentile(cpu, 0.99):.0f}  (load average {os.getloadavg()[0]:.1f})"
    )
    print(f"needs_review: {reviewed / len(samples):.1%} ({reviewed})")
    for reason, n in reasons.most_common(8):
        print(f"  {n:6d}  {reason}")


if __name__ == "__main__":
    main()
