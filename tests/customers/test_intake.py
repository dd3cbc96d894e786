"""`customer_find_or_create` and `customer_match` against the database: attach, create, review,
tenant isolation, bad input, and two simultaneous intakes of one new caller."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction

from customers.hygiene.addresses import address_normalize
from customers.intake import (
    InvalidCustomer,
    customer_find_or_create,
    customer_match,
    intake_lock_keys,
)
from customers.matching import match_record
from customers.models import ContactPoint, Customer, DuplicateReview, ServiceLocation
from dispatchnode.core.models import OutboxEvent
from dispatchnode.core.outbox import outbox_emit
from dispatchnode.core.phones import InvalidPhoneNumber

pytestmark = pytest.mark.django_db


def intake(org, **fields):
    defaults = {"source": "api"}
    return customer_find_or_create(organization=org, **{**defaults, **fields})


@pytest.fixture
def william(org):
    return intake(
        org,
        first_name="William",
        last_name="Jenkins",
        phone="(512) 555-0101",
        email="wjenkins@gmail.com",
        address="123 Oak Street, Austin, TX 78702",
    ).customer


def test_a_new_caller_becomes_a_clean_customer(org):
    result = intake(
        org,
        first_name=" John ",
        last_name="Smith",
        phone="512.555.0142",
        email=" John.Smith@Example.COM ",
        address="123 Main St., Austin, Texas 78701",
    )
    assert result.decision == "created"
    assert result.created
    customer = result.customer
    assert (customer.first_name, customer.last_name, customer.source) == ("John", "Smith", "api")
    assert customer.name_key == "SM0"
    phones = list(customer.contacts.filter(kind="phone").values_list("value", "raw_value"))
    assert phones == [("+15125550142", "512.555.0142")]
    assert customer.contacts.get(kind="email").value == "john.smith@example.com"
    location = customer.locations.get()
    assert (location.street, location.city, location.state, location.postal_code) == (
        "123 MAIN ST",
        "AUSTIN",
        "TX",
        "78701",
    )
    assert location.raw_address == "123 Main St., Austin, Texas 78701"
    assert location.street_key == "123|MAIN|ST"
    assert location.geocode_quality == ServiceLocation.GeocodeQuality.ZIP_CENTROID
    assert location.latitude is not None
    assert location.is_primary
    assert OutboxEvent.objects.filter(
        topic="customer.created", aggregate_id=str(customer.pk)
    ).exists()


def test_bill_from_a_new_phone_is_william_and_gains_the_phone(org, william):
    result = intake(
        org,
        first_name="Bill",
        last_name="Jenkins",
        phone="737-555-0199",
        address="123 Oak St, Austin TX 78702",
    )
    assert result.decision == "attached"
    assert result.customer == william
    assert result.match.probability >= 0.95
    assert result.match.evidence["fields"]["first_name"]["how"] == "nickname"
    assert set(william.contacts.filter(kind="phone").values_list("value", flat=True)) == {
        "+15125550101",
        "+17375550199",
    }
    assert william.locations.count() == 1, "the same address is not added twice"
    assert Customer.objects.filter(organization=org).count() == 1


def test_an_unsure_match_creates_the_customer_and_queues_the_pair(org, william):
    result = intake(org, first_name="W", last_name="Jenkins", address="123 Oak St, Austin TX 78702")
    assert result.decision == "review", result.match.probability
    assert result.customer != william
    review = result.review
    assert review.status == DuplicateReview.Status.OPEN
    assert {review.customer_a_id, review.customer_b_id} == {william.pk, result.customer.pk}
    assert Decimal("0.80") <= review.probability < Decimal("0.95")
    assert review.evidence["fields"]["first_name"]["how"] == "initial"


def test_thresholds_are_the_organisations(org, william):
    candidate = match_record(
        first_name="William",
        last_name="Jenkins",
        addresses=[address_normalize("900 Elm St, Austin TX 78702")],
    )
    [match] = customer_match(organization=org, candidate=candidate, min_probability=0.0)
    assert match.probability < 0.95, "the default threshold would not attach it"
    org.match_auto_threshold = Decimal(str(match.probability)).quantize(Decimal("0.001")) - Decimal(
        "0.01"
    )
    org.match_review_threshold = org.match_auto_threshold
    org.save()
    result = intake(
        org, first_name="William", last_name="Jenkins", address="900 Elm St, Austin TX 78702"
    )
    assert result.decision == "attached"
    assert result.customer == william


def test_an_initial_alone_is_never_attached_automatically(org, william):
    """However low the organisation sets the bar, "W. Jenkins" could be William or Wendy."""
    org.match_auto_threshold = Decimal("0.5")
    org.match_review_threshold = Decimal("0.4")
    org.save()
    result = intake(
        org, first_name="W.", last_name="Jenkins", address="123 Oak St, Austin TX 78702"
    )
    assert result.decision == "review"
    assert result.match.customer == william
    assert result.match.probability >= 0.5
    assert not result.match.auto_merge_allowed


def test_a_spouse_on_the_same_landline_is_a_new_customer(org, william):
    result = intake(
        org,
        first_name="Mary",
        last_name="Jenkins",
        phone="512-555-0101",
        address="123 Oak Street, Austin, TX 78702",
    )
    assert result.decision == "created"
    assert result.customer != william


def test_matching_never_crosses_organisations(org, other_org, william):
    candidate = match_record(first_name="William", last_name="Jenkins", phones=["512-555-0101"])
    assert customer_match(organization=other_org, candidate=candidate) == []
    result = intake(other_org, first_name="William", last_name="Jenkins", phone="512-555-0101")
    assert result.decision == "created"
    assert result.customer.organization == other_org
    assert william.contacts.count() == 2


def test_a_merged_customer_is_never_a_match(org, william):
    twin = Customer.objects.create(organization=org, first_name="William", last_name="Jenkins")
    ContactPoint.objects.create(organization=org, customer=twin, kind="phone", value="+15125550101")
    Customer.objects.filter(pk=twin.pk).update(merged_into=william)
    candidate = match_record(first_name="William", last_name="Jenkins", phones=["5125550101"])
    matches = customer_match(organization=org, candidate=candidate)
    assert [m.customer for m in matches] == [william]


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"first_name": " ", "last_name": ""}, InvalidCustomer, "needs a first name"),
        ({"first_name": "Ann", "phone": "555-1234"}, InvalidPhoneNumber, "area code"),
        ({"first_name": "Ann", "phone": "call me maybe"}, InvalidPhoneNumber, "phone"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(org, fields, error, message):
    with pytest.raises(error, match=message):
        intake(org, **fields)
    assert not Customer.objects.filter(organization=org).exists()


def test_with_a_street_geocoder_the_new_location_is_queued_after_commit(
    org, settings, django_capture_on_commit_callbacks
):
    settings.GEOCODER = "census"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = intake(org, first_name="Ann", last_name="Lee", address="9 Elm St, Austin TX 78704")
    location = result.customer.locations.get()
    assert location.geocode_quality == ServiceLocation.GeocodeQuality.ZIP_CENTROID
    assert len([c for c in callbacks if "geocode" in c.__qualname__]) == 1


def test_what_cannot_be_understood_is_kept_and_flagged(org):
    result = intake(
        org,
        company_name="Acme Property Mgmt LLC",
        email="office@acme",
        address="behind the water tower, past the second cattle guard",
    )
    customer = result.customer
    assert customer.kind == Customer.Kind.COMMERCIAL
    email = customer.contacts.get(kind="email")
    assert (email.value, email.is_valid) == ("office@acme", False)
    location = customer.locations.get()
    assert location.raw_address == "behind the water tower, past the second cattle guard"
    assert location.needs_review
    assert result.problems


def test_customer_match_ranks_and_explains(org, william):
    intake(
        org,
        first_name="Mary",
        last_name="Jenkins",
        phone="512-555-0101",
        address="123 Oak Street, Austin, TX 78702",
    )
    candidate = match_record(
        first_name="Bill",
        last_name="Jenkins",
        phones=["512 555 0101"],
        addresses=[address_normalize("123 Oak St, Austin TX 78702")],
    )
    matches = customer_match(organization=org, candidate=candidate, min_probability=0.0)
    assert matches[0].customer == william
    assert matches[0].probability >= 0.95
    assert all(m.probability < 0.5 for m in matches[1:])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_intakes_of_one_new_caller_make_one_customer(org):
    barrier = threading.Barrier(4)
    outcomes, errors = [], []

    def call():
        try:
            barrier.wait()
            outcomes.append(
                intake(org, first_name="Zoe", last_name="Quinn", phone="512-555-0188").decision
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == ["attached", "attached", "attached", "created"]
    assert Customer.objects.filter(organization=org, last_name="Quinn").count() == 1
    assert ServiceLocation.objects.filter(organization=org).count() == 0


def _hold_an_intake_open(org, *, locked: threading.Event, release: threading.Event, errors):
    """An intake of a new caller whose transaction stays open (its locks held) until `release`."""
    try:
        with transaction.atomic():
            intake(org, first_name="Zoe", last_name="Quinn", phone="512-555-0188")
            locked.set()
            release.wait(timeout=5)
    except Exception as exc:
        errors.append(exc)
    finally:
        locked.set()
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_intake_in_progress_blocks_nothing_else_of_the_organisation(org):
    # given an intake whose transaction holds its locks (another connection, in a thread)
    locked, release, errors = threading.Event(), threading.Event(), []
    holder = threading.Thread(
        target=_hold_an_intake_open,
        kwargs={"org": org, "locked": locked, "release": release, "errors": errors},
    )
    holder.start()
    assert locked.wait(timeout=5)
    try:
        # when this connection writes rows that reference the same organisation
        started = time.monotonic()
        outbox_emit(organization=org, topic="test.unrelated", payload={})
        event_seconds = time.monotonic() - started
        started = time.monotonic()
        other = intake(org, first_name="Ann", last_name="Lee", phone="512-555-0199")
        intake_seconds = time.monotonic() - started
        still_open = holder.is_alive()
    finally:
        release.set()
        holder.join()

    # then neither waited for the open intake
    assert errors == []
    assert still_open
    assert event_seconds < 0.5, f"the outbox insert waited {event_seconds:.2f} s"
    assert intake_seconds < 0.5, f"the unrelated intake waited {intake_seconds:.2f} s"
    assert other.decision == "created"
    assert sorted(
        Customer.objects.filter(organization=org).values_list("last_name", flat=True)
    ) == [
        "Lee",
        "Quinn",
    ]
    print(f"\noutbox insert {event_seconds:.3f} s, other intake {intake_seconds:.3f} s")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_intake_of_the_same_caller_waits_for_the_one_in_progress(org):
    # given an intake of a new caller whose transaction holds its locks
    locked, release, errors = threading.Event(), threading.Event(), []
    holder = threading.Thread(
        target=_hold_an_intake_open,
        kwargs={"org": org, "locked": locked, "release": release, "errors": errors},
    )
    holder.start()
    assert locked.wait(timeout=5)
    threading.Timer(0.5, release.set).start()

    # when the same caller comes in again (the same phone) on another connection
    started = time.monotonic()
    second = intake(org, first_name="Zoe", last_name="Quinn", phone="512-555-0188")
    waited = time.monotonic() - started
    holder.join()

    # then it waited for the first to commit and found the customer it created
    assert errors == []
    assert waited >= 0.4
    assert second.decision == "attached"
    assert Customer.objects.filter(organization=org, last_name="Quinn").count() == 1


def test_the_lock_keys_are_the_blocking_keys_in_one_order(org, other_org):
    candidate = match_record(
        first_name="Zoe",
        last_name="Quinn",
        phones=["+15125550188"],
        emails=["zoe@example.com"],
        addresses=[address_normalize("12 Elm St, Austin, TX 78701")],
    )
    same_phone = match_record(first_name="Z", last_name="Other", phones=["+15125550188"])

    keys = intake_lock_keys(organization=org, candidate=candidate)

    assert len(keys) == 4  # phone, email, street, the sound of the last name
    assert keys == sorted(keys)
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert set(intake_lock_keys(organization=org, candidate=same_phone)) & set(keys)
    assert not set(intake_lock_keys(organization=other_org, candidate=candidate)) & set(keys)
