from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from bookings.models import Job
from invoicing.models import Invoice
from invoicing.services import job_complete
from tests import factories
from tests.fakes.stripe import DEFAULT_KEY, DEFAULT_WEBHOOK_SECRET, FakeStripe

NOW = dt.datetime(2026, 3, 9, 19, 0, tzinfo=dt.UTC)


@pytest.fixture
def stripe_fake(settings) -> Iterator[FakeStripe]:
    server = FakeStripe()
    server.start()
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_TIMEOUT = (1.0, 2.0)
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    yield server
    server.stop()


def make_invoice(organization) -> Invoice:
    """A completed job's sent invoice: 100.00 + 8.25 tax = 108.25."""
    item = factories.PriceBookItemFactory(
        organization=organization, name="AC tune-up", unit_price=Decimal("100.00")
    )
    job = factories.JobFactory(organization=organization, status=Job.Status.IN_PROGRESS)
    job = job_complete(job=job, lines=[(item, 1)], now=NOW)
    return Invoice.objects.get(pk=job.invoice.pk)


@pytest.fixture
def stripe_org(org):
    org.stripe_secret_key = DEFAULT_KEY
    org.stripe_webhook_secret = DEFAULT_WEBHOOK_SECRET
    org.save()
    return org


@pytest.fixture
def invoice(stripe_org):
    return make_invoice(stripe_org)
