"""Invoice follow-ups with a frozen clock: overdue reminders at most K times, cancelled once
paid; the review request after payment."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from customers.followups import followups_scan, followups_send
from customers.models import FollowUp, FollowUpRule, Message
from invoicing.models import Invoice
from tests import factories

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.fixture(autouse=True)
def console_backends(settings):
    settings.SMS_BACKEND = "console"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _noon(day: int) -> dt.datetime:
    return dt.datetime(2026, 5, day, 12, tzinfo=CHICAGO)


def _only(org, name: str) -> FollowUpRule:
    followups_scan(now=dt.datetime(2020, 1, 1, tzinfo=CHICAGO), organization=org)
    FollowUpRule.objects.filter(organization=org).exclude(name=name).update(is_active=False)
    return FollowUpRule.objects.get(organization=org, name=name)


def _invoice(org, **kwargs) -> Invoice:
    customer = factories.CustomerFactory(organization=org, first_name="Ana")
    factories.ContactPointFactory(customer=customer, kind="email", value="ana@example.com")
    return factories.InvoiceFactory(organization=org, customer=customer, **kwargs)


@pytest.mark.django_db
def test_overdue_reminders_go_out_every_seven_days_at_most_three_times():
    # Given an invoice due on 1 May, and the default rule: 3 days late, every 7 days, 3 times
    org = factories.OrganizationFactory(name="Acme Heating")
    rule = _only(org, "Invoice overdue")
    invoice = _invoice(org, due_date=dt.date(2026, 5, 1), number="INV-2026-000042")

    # When the scan and send run at noon every day for a month
    for day in range(1, 31):
        followups_scan(now=_noon(day), organization=org)
        followups_send(now=_noon(day), organization=org)

    # Then three reminders went out, on 4, 11 and 18 May, and no fourth
    followups = FollowUp.objects.filter(rule=rule).order_by("sequence")
    assert [(f.sequence, f.status, f.sent_at) for f in followups] == [
        (1, "sent", _noon(4)),
        (2, "sent", _noon(11)),
        (3, "sent", _noon(18)),
    ]
    messages = Message.objects.filter(channel="email").order_by("id")
    assert messages.count() == 3
    assert messages[0].subject == "Invoice INV-2026-000042 is overdue"
    assert "balance of $108.25" in messages[0].body
    assert f"Pay online: http://127.0.0.1:8000/i/{invoice.public_token}/" in messages[0].body
    assert {m.customer_id for m in messages} == {invoice.customer_id}


@pytest.mark.django_db
def test_an_overdue_reminder_is_cancelled_when_the_invoice_is_paid_before_it_goes_out():
    # Given an overdue reminder scheduled at night (quiet hours push it to the morning)
    org = factories.OrganizationFactory()
    _only(org, "Invoice overdue")
    invoice = _invoice(org, due_date=dt.date(2026, 5, 1))
    night = dt.datetime(2026, 5, 4, 22, tzinfo=CHICAGO)
    followups_scan(now=night, organization=org)
    followups_send(now=night, organization=org)

    # When the invoice is paid overnight and the send runs in the morning
    Invoice.objects.filter(pk=invoice.pk).update(
        status=Invoice.Status.PAID, amount_paid=Decimal("108.25")
    )
    followups_send(now=dt.datetime(2026, 5, 5, 8, tzinfo=CHICAGO), organization=org)

    # Then it is cancelled, nothing sent
    followup = FollowUp.objects.get()
    assert followup.status == FollowUp.Status.CANCELLED
    assert followup.reason == "Invoice paid."
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_the_review_request_follows_the_payment():
    # Given an invoice paid at 09:00
    org = factories.OrganizationFactory(name="Acme Heating")
    rule = _only(org, "Review request")
    customer = factories.CustomerFactory(organization=org, first_name="Ana")
    factories.ContactPointFactory(customer=customer, value="+15125550160")
    factories.InvoiceFactory(
        organization=org,
        customer=customer,
        status=Invoice.Status.PAID,
        amount_paid=Decimal("108.25"),
        paid_at=dt.datetime(2026, 5, 4, 9, tzinfo=CHICAGO),
    )

    # When the scan runs at 10:00 (too early) and at 11:00 (2 hours after)
    assert followups_scan(now=dt.datetime(2026, 5, 4, 10, tzinfo=CHICAGO), organization=org) == 0
    assert followups_scan(now=dt.datetime(2026, 5, 4, 11, tzinfo=CHICAGO), organization=org) == 1
    followups_send(now=dt.datetime(2026, 5, 4, 11, tzinfo=CHICAGO), organization=org)

    # Then one text thanks them
    followup = FollowUp.objects.get(rule=rule)
    assert followup.status == FollowUp.Status.SENT
    assert followup.message.body == (
        "Thanks for choosing Acme Heating, Ana! How did we do? Reply STOP to opt out."
    )
