"""What the benchmark scripts share: percentiles, and the seeded demo organisation."""

from __future__ import annotations

import os

# As manage.py and make: local debug settings unless DEBUG or SECRET_KEY was chosen.
if "DEBUG" not in os.environ and "SECRET_KEY" not in os.environ:
    os.environ["DEBUG"] = "1"


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` 0.95 for p95) of a non-empty sample."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def demo_organization():
    """The demo organisation of whatever DATABASE_URL names, migrated and seeded if missing
    (call after `django.setup()`)."""
    from django.core.management import call_command

    from dispatchnode.accounts.models import Organization

    call_command("migrate", verbosity=0)
    organization = Organization.objects.filter(slug="demo").first()
    if organization is None:
        with open(os.devnull, "w") as quiet:
            call_command("seed_demo", stdout=quiet)
        organization = Organization.objects.get(slug="demo")
    return organization
