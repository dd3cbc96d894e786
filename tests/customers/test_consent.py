"""Opt-outs as the organisation's consent record per channel and address, customer or not: the
services that write it, the selector messaging reads, the carried-over flags and the admin."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps

from customers.messaging import sms_queue
from customers.models import Consent, ContactPoint, Message
from customers.selectors import consent_allows
from customers.services import (
    SMS_OPT_IN_KEYWORDS,
    SMS_OPT_OUT_KEYWORDS,
    consent_set,
    consent_sms_keyword_apply,
)
from dispatchnode.core.models import OutboxEvent
from tests import factories

STRANGER = "+15125550999"
NOW = dt.datetime(2026, 3, 6, 16, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=1)


def _consents() -> list[tuple]:
    return list(
        Consent.objects.order_by("organization_id", "channel", "address").values_list(
            "organization_id", "channel", "address", "status", "source", "changed_at", "note"
        )
    )


@pytest.mark.parametrize("keyword", sorted(SMS_OPT_OUT_KEYWORDS))
def test_every_opt_out_keyword_opts_a_stranger_out_and_a_later_text_is_suppressed(org, keyword):
    # when a number that is no customer replies with the keyword (any case, with a full stop)
    consent = consent_sms_keyword_apply(
        organization=org, address="(512) 555-0999", body=f" {keyword.title()}. ", now=NOW
    )

    # then its consent is kept, and a text to it is stored as suppressed without an event
    assert _consents() == [
        (org.pk, "sms", STRANGER, "opted_out", "sms_keyword", NOW, f"Replied {keyword.upper()}.")
    ]
    assert consent.pk is not None
    message = sms_queue(organization=org, to=STRANGER, body="Your visit is booked.")
    assert (message.status, message.error) == (
        Message.Status.SUPPRESSED,
        f"Not sent: {STRANGER} has opted out of text messages.",
    )
    assert OutboxEvent.objects.count() == 0


@pytest.mark.parametrize("keyword", sorted(SMS_OPT_IN_KEYWORDS))
def test_every_opt_in_keyword_allows_texts_again(org, keyword):
    # given an opted-out number
    consent_sms_keyword_apply(organization=org, address=STRANGER, body="STOP", now=NOW)

    # when it replies with the keyword
    consent_sms_keyword_apply(organization=org, address=STRANGER, body=keyword, now=LATER)

    # then it is opted in from then on, and a text is queued
    assert _consents() == [
        (org.pk, "sms", STRANGER, "opted_in", "sms_keyword", LATER, f"Replied {keyword.upper()}.")
    ]
    assert consent_allows(organization=org, channel="sms", address=STRANGER) is True
    assert sms_queue(organization=org, to=STRANGER, body="Hi").status == Message.Status.QUEUED


def test_the_twilio_keyword_lists():
    assert {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "optout",
    } == SMS_OPT_OUT_KEYWORDS
    assert {"start", "yes", "unstop"} == SMS_OPT_IN_KEYWORDS


def test_a_body_that_is_no_keyword_or_a_sender_that_is_no_number_changes_nothing(org):
    # when
    sentence = consent_sms_keyword_apply(organization=org, address=STRANGER, body="stop by at 3")
    short_code = consent_sms_keyword_apply(organization=org, address="SHOPCO", body="STOP")

    # then
    assert (sentence, short_code) == (None, None)
    assert _consents() == []


def test_a_repeated_stop_keeps_the_first_change(org):
    # given
    consent_sms_keyword_apply(organization=org, address=STRANGER, body="STOP", now=NOW)

    # when Twilio retries the webhook an hour later
    consent_sms_keyword_apply(organization=org, address=STRANGER, body="STOP", now=LATER)

    # then one row, still dated by the first STOP
    assert _consents() == [
        (org.pk, "sms", STRANGER, "opted_out", "sms_keyword", NOW, "Replied STOP.")
    ]


def test_another_organisations_stop_does_not_suppress_ours(org, other_org):
    # given the number replied STOP to the other organisation
    consent_sms_keyword_apply(organization=other_org, address=STRANGER, body="STOP", now=NOW)

    # when we text it
    message = sms_queue(organization=org, to=STRANGER, body="Your visit is booked.")

    # then it is queued here; only the other organisation has a consent row
    assert message.status == Message.Status.QUEUED
    assert consent_allows(organization=org, channel="sms", address=STRANGER) is True
    assert consent_allows(organization=other_org, channel="sms", address=STRANGER) is False
    assert [row[0] for row in _consents()] == [other_org.pk]


def test_consent_is_mirrored_onto_the_customers_contact_points_of_this_organisation(org, other_org):
    # given the number on two customers here and one elsewhere, and an email
    here = [
        factories.ContactPointFactory(
            customer=factories.CustomerFactory(organization=org), value=STRANGER
        )
        for _ in range(2)
    ]
    elsewhere = factories.ContactPointFactory(
        customer=factories.CustomerFactory(organization=other_org), value=STRANGER
    )
    email = factories.ContactPointFactory(
        customer=here[0].customer, kind=ContactPoint.Kind.EMAIL, value="ann@example.com"
    )

    # when the office opts the number out and the email (written in capitals) too
    consent_set(
        status="opted_out", organization=org, channel="sms", address=STRANGER, source="staff"
    )
    consent_set(
        status="opted_out",
        organization=org,
        channel="email",
        address=" Ann@Example.COM ",
        source="staff",
    )

    # then
    flags = {
        cp.pk: (cp.sms_opt_out, cp.email_opt_out) for cp in ContactPoint.objects.order_by("pk")
    }
    assert flags == {
        here[0].pk: (True, False),
        here[1].pk: (True, False),
        elsewhere.pk: (False, False),
        email.pk: (False, True),
    }
    assert consent_allows(organization=org, channel="email", address="ANN@example.com") is False

    # and opting back in clears the mirror
    consent_set(
        status="opted_in", organization=org, channel="sms", address=STRANGER, source="staff"
    )
    assert list(ContactPoint.objects.filter(sms_opt_out=True)) == []


def test_a_stop_before_the_number_became_a_customers_still_counts(org):
    # given a STOP from a stranger, who is then added as a customer with that number
    consent_sms_keyword_apply(organization=org, address=STRANGER, body="STOP")
    customer = factories.CustomerFactory(organization=org)
    factories.ContactPointFactory(customer=customer, value=STRANGER)

    # when a confirmation is texted to the new customer
    message = sms_queue(organization=org, to=STRANGER, body="Booked.", customer=customer)

    # then
    assert message.status == Message.Status.SUPPRESSED


# --- the data migration -----------------------------------------------------------------------


def test_opt_out_flags_become_consent_rows_and_the_migration_can_run_again(org, other_org):
    # given flags set before the consent record existed, and a newer START for one of them
    migration = importlib.import_module("customers.migrations.0005_consent_from_contact_opt_outs")
    customer = factories.CustomerFactory(organization=org)
    factories.ContactPointFactory(customer=customer, value="+15125550101", sms_opt_out=True)
    factories.ContactPointFactory(customer=customer, value="+15125550102", sms_opt_out=True)
    factories.ContactPointFactory(
        customer=customer, kind="email", value="ann@example.com", email_opt_out=True
    )
    factories.ContactPointFactory(customer=customer, value="+15125550103")
    factories.ContactPointFactory(
        customer=factories.CustomerFactory(organization=other_org),
        value="+15125550101",
        sms_opt_out=True,
    )
    factories.ConsentFactory(
        organization=org, address="+15125550102", status="opted_in", source="sms_keyword"
    )

    # when the migration runs, twice
    migration.flags_to_consent(apps, None)
    migration.flags_to_consent(apps, None)

    # then one opted-out row per flagged address and organisation; the newer START is kept
    rows = sorted(
        Consent.objects.values_list("organization_id", "channel", "address", "status", "source")
    )
    assert rows == sorted(
        [
            (org.pk, "email", "ann@example.com", "opted_out", "import"),
            (org.pk, "sms", "+15125550101", "opted_out", "import"),
            (org.pk, "sms", "+15125550102", "opted_in", "sms_keyword"),
            (other_org.pk, "sms", "+15125550101", "opted_out", "import"),
        ]
    )
