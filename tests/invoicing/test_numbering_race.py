"""Invoice numbers under concurrent completions: distinct and gap-free, per organisation.

Threads with their own database connections are released together (the `race` helper of the
booking race tests). PostgreSQL: 50 completions at once; SQLite: 8 (its writers queue).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings

from bookings.models import Job
from invoicing.models import Invoice
from invoicing.services import job_complete
from tests import factories
from tests.bookings.test_double_booking_race import race


@pytest.mark.django_db(transaction=True)
def test_concurrent_completions_get_distinct_gap_free_numbers():
    # given N open jobs of one organisation (and one of another, completed in the race too)
    n = 8 if settings.DATABASE_IS_SQLITE else 50
    org = factories.OrganizationFactory()
    other = factories.OrganizationFactory()
    item = factories.PriceBookItemFactory(organization=org, unit_price=Decimal("19.99"))
    jobs = [
        factories.JobFactory(organization=org, status=Job.Status.IN_PROGRESS) for _ in range(n)
    ]
    foreign = factories.JobFactory(organization=other, status=Job.Status.IN_PROGRESS)

    # when every job is completed at the same moment
    def complete(i: int) -> str:
        job = foreign if i == n else jobs[i]
        lines = [] if i == n else [(item.pk, "1")]
        return job_complete(job=Job.objects.get(pk=job.pk), lines=lines).invoice.number

    outcomes, _seconds = race(n + 1, complete)

    # then every completion succeeded with its own number, and the numbers run 1..N
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    year = Invoice.objects.filter(organization=org).first().number.split("-")[1]
    assert sorted(outcomes[:n]) == [f"INV-{year}-{k:06d}" for k in range(1, n + 1)]
    assert outcomes[n] == f"INV-{year}-000001"  # the other organisation counts on its own
    assert Invoice.objects.filter(organization=org).count() == n
