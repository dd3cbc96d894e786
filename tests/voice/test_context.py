"""The caller context: who is calling, what the agent may say, and how it verifies them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import Appointment, Job
from bookings.voice.context import (
    AppointmentSummary,
    EquipmentSummary,
    LocationSummary,
    VisitSummary,
    caller_context,
    disclosure_allowed,
    greeting_text,
    verification_matches,
)
from customers.models import CustomerNote, Equipment
from dispatchnode.accounts.models import Organization
from dispatchnode.demo.pinned import pinned_visit_date
from invoicing.models import Invoice, Payment
from tests import factories

JOHN = "+15125550142"
ATTESTED = "TN-Validation-Passed-A"
Privacy = Organization.CallerPrivacy


@pytest.fixture
def demo_org(db):
    return factories.OrganizationFactory(name="Demo Heating & Air", timezone="America/Chicago")


def _local(org, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=org.tzinfo)


@pytest.fixture
def john(demo_org):
    """John Smith as the demo seeds him: 123 Main St, an air conditioner serviced on the most
    recent 15 October, a gate code."""
    org = demo_org
    customer = factories.CustomerFactory(organization=org, first_name="John", last_name="Smith")
    factories.ContactPointFactory(customer=customer, value=JOHN)
    home = factories.ServiceLocationFactory(
        customer=customer,
        raw_address="123 Main St, Austin, TX 78701",
        street="123 MAIN ST",
        gate_code="4821",
        pets="Friendly dog",
        parking="Driveway",
        access_notes="Side gate, left of the driveway",
    )
    ac = factories.EquipmentFactory(location=home, make="Carrier")
    tune_up = factories.ServiceTypeFactory(
        organization=org, name="AC tune-up", category="hvac", kind="maintenance"
    )
    today = timezone.now().astimezone(org.tzinfo).date()
    october = pinned_visit_date(today)
    summer = october - dt.timedelta(days=100)
    for day, notes in ((summer, "Replaced run capacitor."), (october, "Cleaned coils.")):
        # 9 pm in Austin is the next day in UTC: the date must be told in the org's timezone.
        factories.JobFactory(
            organization=org,
            customer=customer,
            location=home,
            service_type=tune_up,
            equipment=ac,
            status=Job.Status.CLOSED,
            completed_at=_local(org, day, 21),
            work_notes=notes,
        )
    return customer


def test_a_returning_customer_gets_the_whole_context(demo_org, john):
    # given
    org = demo_org
    home = john.locations.get()
    ac = home.equipment.get()
    visits = list(Job.objects.filter(customer=john).order_by("-completed_at"))
    tech = factories.TechnicianFactory(organization=org, first_name="Maria")
    start = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    booked = factories.AppointmentFactory(
        organization=org,
        job=factories.JobFactory(organization=org, customer=john, location=home),
        technician=tech,
        start=start,
        arrival_window_start=start,
        arrival_window_end=start + dt.timedelta(hours=2),
    )
    factories.AppointmentFactory(  # cancelled: not upcoming
        organization=org,
        job=factories.JobFactory(organization=org, customer=john, location=home),
        start=start + dt.timedelta(days=1),
        status=Appointment.Status.CANCELLED,
    )
    today = timezone.now().astimezone(org.tzinfo).date()
    overdue = factories.InvoiceFactory(
        organization=org, customer=john, due_date=today - dt.timedelta(days=1)
    )
    factories.InvoiceFactory(
        organization=org,
        customer=john,
        status=Invoice.Status.PARTIALLY_PAID,
        amount_paid=Decimal("8.25"),
        due_date=today,
    )
    factories.InvoiceFactory(organization=org, customer=john, status=Invoice.Status.PAID)
    factories.InvoiceFactory(organization=org, customer=john, status=Invoice.Status.VOID)
    factories.PaymentFactory(
        invoice=overdue,
        amount=Decimal("1.00"),
        received_at=timezone.now(),
        provider="stripe",
        method=Payment.Method.CARD,
        status=Payment.Status.FAILED,
    )
    factories.PaymentFactory(
        invoice=overdue,
        amount=Decimal("1.00"),
        received_at=timezone.now(),
        provider="stripe",
        method=Payment.Method.CARD,
    )
    factories.CustomerNoteFactory(customer=john, body="Gate code 4821 at the side gate.")
    factories.CustomerNoteFactory(
        customer=john, kind=CustomerNote.Kind.GENERAL, body="Office only", visible_to_agent=False
    )

    # when
    context = caller_context(organization=org, phone="(512) 555-0142")

    # then
    assert context is not None
    assert (context.customer_id, context.first_name, context.last_name) == (
        john.pk,
        "John",
        "Smith",
    )
    assert context.display_name == "John Smith"
    assert context.other_matches == 0
    assert context.locations == (
        LocationSummary(
            id=home.pk,
            one_line="123 MAIN ST, AUSTIN, TX 78701",
            spoken="123 Main Street, Austin",
            spoken_street="123 Main Street",
            street_name="Main",
            city="AUSTIN",
            postal_code="78701",
            gate_code="4821",
            pets="Friendly dog",
            parking="Driveway",
            access_notes="Side gate, left of the driveway",
        ),
    )
    assert context.equipment == (
        EquipmentSummary(
            id=ac.pk,
            location_id=home.pk,
            kind="air_conditioner",
            kind_label="Central air conditioner",
            spoken_kind="air conditioner",
            make="Carrier",
            installed_on=dt.date(2018, 5, 1),
        ),
    )
    october = pinned_visit_date(today)
    assert context.last_visits == (
        VisitSummary(
            job_id=visits[0].pk,
            location_id=home.pk,
            date=october,
            service_type="AC tune-up",
            category="hvac",
            work_done="Cleaned coils.",
            equipment_kind="air conditioner",
        ),
        VisitSummary(
            job_id=visits[1].pk,
            location_id=home.pk,
            date=october - dt.timedelta(days=100),
            service_type="AC tune-up",
            category="hvac",
            work_done="Replaced run capacitor.",
            equipment_kind="air conditioner",
        ),
    )
    assert context.upcoming == (
        AppointmentSummary(
            appointment_id=booked.pk,
            job_id=booked.job_id,
            start=start,
            window_start=start,
            window_end=start + dt.timedelta(hours=2),
            technician_first_name="Maria",
        ),
    )
    assert context.open_balance == Decimal("208.25")  # 108.25 + (108.25 - 8.25)
    assert context.overdue_invoices == 1
    assert context.has_payment_method is True
    assert context.complaint is False
    assert (context.do_not_service, context.do_not_service_reason) == (False, "")
    assert context.notes_for_agent == ("Gate code 4821 at the side gate.",)


def test_a_customer_with_nothing_on_file_has_an_empty_context(demo_org):
    customer = factories.CustomerFactory(organization=demo_org, first_name="Ann", last_name="Lee")
    factories.ContactPointFactory(customer=customer, value="+15125550160")
    factories.PaymentFactory(  # a payment typed in by the office keeps no card
        invoice=factories.InvoiceFactory(organization=demo_org, customer=customer),
        amount=Decimal("5.00"),
        received_at=timezone.now(),
        method=Payment.Method.CARD,
    )

    context = caller_context(organization=demo_org, phone="+15125550160")

    assert context is not None
    assert (context.locations, context.equipment, context.last_visits, context.upcoming) == (
        (),
        (),
        (),
        (),
    )
    assert context.has_payment_method is False
    assert context.open_balance == Decimal("108.25")


def test_an_unknown_or_withheld_number_is_an_unknown_caller(demo_org, john):
    assert caller_context(organization=demo_org, phone="+15125550199") is None
    assert caller_context(organization=demo_org, phone="anonymous") is None
    assert caller_context(organization=demo_org, phone="") is None


def test_the_last_visits_are_the_three_newest_completed_jobs(demo_org, john):
    home = john.locations.get()
    for days_ago in (1, 2, 3):
        factories.JobFactory(
            organization=demo_org,
            customer=john,
            location=home,
            status=Job.Status.COMPLETED,
            completed_at=timezone.now() - dt.timedelta(days=days_ago),
            work_notes=f"visit {days_ago} " + "word " * 60,
        )
    factories.JobFactory(organization=demo_org, customer=john, location=home)  # still open

    context = caller_context(organization=demo_org, phone=JOHN)

    assert [v.work_done[:7] for v in context.last_visits] == ["visit 1", "visit 2", "visit 3"]
    assert all(len(v.work_done) <= 160 and v.work_done.endswith("…") for v in context.last_visits)


def test_a_complaint_and_do_not_service_are_flagged(demo_org, john):
    factories.CustomerNoteFactory(
        customer=john, kind=CustomerNote.Kind.COMPLAINT, body="Unhappy with the last visit."
    )
    for n in range(25):  # newer notes never push the complaint out
        factories.CustomerNoteFactory(customer=john, body=f"note {n}")
    john.do_not_service = True
    john.do_not_service_reason = "Unpaid balance, office only"
    john.save()

    context = caller_context(organization=demo_org, phone=JOHN)

    assert context.complaint is True
    assert context.notes_for_agent[0] == "Unhappy with the last visit."
    assert len(context.notes_for_agent) == 20
    assert (context.do_not_service, context.do_not_service_reason) == (
        True,
        "Unpaid balance, office only",
    )


def test_a_complaint_hidden_from_the_agent_does_not_flag(demo_org, john):
    factories.CustomerNoteFactory(
        customer=john, kind=CustomerNote.Kind.COMPLAINT, body="x", visible_to_agent=False
    )

    assert caller_context(organization=demo_org, phone=JOHN).complaint is False


def test_on_a_shared_number_the_customer_with_the_latest_job_is_the_caller(demo_org):
    older = factories.CustomerFactory(organization=demo_org, first_name="Mary")
    newer = factories.CustomerFactory(organization=demo_org, first_name="Tom")
    no_jobs = factories.CustomerFactory(organization=demo_org, first_name="Kid")
    for customer in (older, newer, no_jobs):
        factories.ContactPointFactory(customer=customer, value="+15125550170")
    old_job = factories.JobFactory(organization=demo_org, customer=older)
    new_job = factories.JobFactory(organization=demo_org, customer=newer)
    Job.objects.filter(pk=old_job.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    Job.objects.filter(pk=new_job.pk).update(created_at=timezone.now() - dt.timedelta(days=1))

    context = caller_context(organization=demo_org, phone="512-555-0170")

    assert (context.customer_id, context.first_name, context.other_matches) == (
        newer.pk,
        "Tom",
        2,
    )


def test_a_second_number_of_a_customer_finds_them(demo_org, john):
    factories.ContactPointFactory(customer=john, value="+15125550143", is_primary=False)

    assert caller_context(organization=demo_org, phone="+1 512 555 0143").customer_id == john.pk


def test_a_merged_away_customer_never_answers(demo_org, john):
    duplicate = factories.CustomerFactory(
        organization=demo_org, first_name="Johnny", merged_into=john
    )
    factories.ContactPointFactory(customer=duplicate, value="+15125550150")
    factories.ContactPointFactory(customer=duplicate, value=JOHN, is_primary=False)

    assert caller_context(organization=demo_org, phone="+15125550150") is None
    context = caller_context(organization=demo_org, phone=JOHN)
    assert (context.customer_id, context.other_matches) == (john.pk, 0)


def test_another_companys_customer_with_the_same_number_never_shows(demo_org, john, other_org):
    stranger = factories.CustomerFactory(organization=other_org, first_name="Eve")
    factories.ContactPointFactory(customer=stranger, value=JOHN)
    factories.JobFactory(organization=other_org, customer=stranger)  # the newest job anywhere
    only_there = factories.CustomerFactory(organization=other_org, first_name="Zed")
    factories.ContactPointFactory(customer=only_there, value="+15125550180")

    context = caller_context(organization=demo_org, phone=JOHN)

    assert (context.customer_id, context.other_matches) == (john.pk, 0)
    assert caller_context(organization=demo_org, phone="+15125550180") is None
    assert caller_context(organization=other_org, phone=JOHN).customer_id == stranger.pk


def test_the_context_costs_a_fixed_number_of_queries(demo_org, john, django_assert_max_num_queries):
    # given a long history: 200 past jobs, 200 open invoices, many notes and appointments
    home = john.locations.get()
    service_type = factories.ServiceTypeFactory(organization=demo_org)
    now = timezone.now()
    jobs = Job.objects.bulk_create(
        Job(
            organization=demo_org,
            number=f"H-{n}",
            customer=john,
            location=home,
            service_type=service_type,
            status=Job.Status.CLOSED,
            completed_at=now - dt.timedelta(days=n + 1),
        )
        for n in range(200)
    )
    Invoice.objects.bulk_create(
        Invoice(
            organization=demo_org,
            number=f"HI-{n}",
            customer=john,
            job=job,
            status=Invoice.Status.SENT,
            subtotal=Decimal("10.00"),
            total=Decimal("10.00"),
            due_date=dt.date(2020, 1, 1),
        )
        for n, job in enumerate(jobs)
    )
    factories.EquipmentFactory.create_batch(5, location=home, kind=Equipment.Kind.FURNACE)
    factories.CustomerNoteFactory.create_batch(30, customer=john, body="note")

    # then: the same bound as for a customer with one visit
    with django_assert_max_num_queries(8):
        context = caller_context(organization=demo_org, phone=JOHN)
    assert len(context.last_visits) == 3
    assert len(context.equipment) == 6
    assert context.open_balance == Decimal("2000.00")
    assert context.overdue_invoices == 200


# --- Privacy -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "verstat", "verified", "allowed"),
    [
        (Privacy.ATTESTED, ATTESTED, False, True),
        (Privacy.ATTESTED, "TN-Validation-Passed-B", False, False),
        (Privacy.ATTESTED, "TN-Validation-Passed-C", False, False),
        (Privacy.ATTESTED, "TN-Validation-Failed", False, False),
        (Privacy.ATTESTED, "", False, False),
        (Privacy.ATTESTED, "", True, True),
        (Privacy.ALWAYS_VERIFY, ATTESTED, False, False),
        (Privacy.ALWAYS_VERIFY, ATTESTED, True, True),
        (Privacy.ALWAYS_VERIFY, "", True, True),
        (Privacy.TRUST_CALLER_ID, "", False, True),
        (Privacy.TRUST_CALLER_ID, "TN-Validation-Failed", False, True),
    ],
)
def test_disclosure_follows_the_policy_attestation_and_verification(
    demo_org, policy, verstat, verified, allowed
):
    demo_org.caller_privacy = policy

    assert (
        disclosure_allowed(organization=demo_org, stir_verstat=verstat, verified=verified)
        is allowed
    )


@pytest.mark.parametrize(
    "answer",
    [
        "78701",
        "7 8 7 0 1",
        "seven eight seven zero one",
        "Seven eight seven oh one.",
        "it's 78701-1234",
        "Main Street",
        "one twenty three main",
        "123 Maine St",
    ],
)
def test_verification_accepts_the_zip_or_the_street_on_file(demo_org, john, answer):
    context = caller_context(organization=demo_org, phone=JOHN)

    assert verification_matches(context=context, answer=answer) is True


@pytest.mark.parametrize(
    "answer", ["78702", "7 8 7 0", "Oak Street", "123 Oak St", "", "I don't know", "the main one"]
)
def test_verification_refuses_a_wrong_answer(demo_org, john, answer):
    context = caller_context(organization=demo_org, phone=JOHN)

    expected = answer == "the main one"  # "main" is the street name: a lucky guess counts
    assert verification_matches(context=context, answer=answer) is expected


def test_verification_matches_a_long_street_name_said_shorter(demo_org, john):
    factories.ServiceLocationFactory(
        customer=john,
        street="4500 N MARTIN LUTHER KING JR BLVD",
        postal_code="78756",
        is_primary=False,
    )
    context = caller_context(organization=demo_org, phone=JOHN)

    assert verification_matches(context=context, answer="Martin Luther King Boulevard") is True
    assert verification_matches(context=context, answer="Martin Street") is False


# --- Greeting ----------------------------------------------------------------------------------


def test_the_full_greeting_names_the_address_and_the_last_service(demo_org, john):
    context = caller_context(organization=demo_org, phone=JOHN)

    assert greeting_text(organization=demo_org, context=context, full=True) == (
        "Hi John, welcome back to Demo Heating & Air. I see you are at 123 Main Street and we "
        "last serviced your air conditioner in October. Is this for the same location?"
    )


def test_the_greeting_before_verification_says_nothing_personal(demo_org, john):
    factories.InvoiceFactory(organization=demo_org, customer=john)
    context = caller_context(organization=demo_org, phone=JOHN)

    said = greeting_text(organization=demo_org, context=context, full=False)

    assert said == (
        "Hi John, thanks for calling Demo Heating & Air. This is the virtual assistant. Before I "
        "pull up your account, can you tell me the ZIP code of the service address?"
    )
    for secret in ("Smith", "123 Main", "October", "air conditioner", "108"):
        assert secret not in said


def test_the_full_greeting_never_reads_the_balance_or_notes(demo_org, john):
    factories.InvoiceFactory(organization=demo_org, customer=john)
    factories.CustomerNoteFactory(customer=john, body="Gate code 4821")

    said = greeting_text(
        organization=demo_org,
        context=caller_context(organization=demo_org, phone=JOHN),
        full=True,
    )

    for secret in ("108", "4821", "balance"):
        assert secret not in said


def test_an_unknown_caller_hears_the_company_greeting(demo_org):
    assert greeting_text(organization=demo_org, context=None, full=True) == (
        "Thanks for calling Demo Heating & Air. This is the virtual assistant. "
        "How can I help you today?"
    )


def test_a_customer_without_visits_or_locations_gets_a_shorter_greeting(demo_org):
    customer = factories.CustomerFactory(organization=demo_org, first_name="Ann")
    factories.ContactPointFactory(customer=customer, value="+15125550160")
    context = caller_context(organization=demo_org, phone="+15125550160")
    assert greeting_text(organization=demo_org, context=context, full=True) == (
        "Hi Ann, welcome back to Demo Heating & Air. How can I help you today?"
    )

    factories.ServiceLocationFactory(
        customer=customer, street="9 ELM ST", unit="APT 2", postal_code="78702"
    )
    context = caller_context(organization=demo_org, phone="+15125550160")
    assert greeting_text(organization=demo_org, context=context, full=True) == (
        "Hi Ann, welcome back to Demo Heating & Air. I see you are at 9 Elm Street, apartment "
        "2. Is this for the same location?"
    )


def test_a_visit_more_than_a_year_ago_is_said_with_its_year(demo_org, john):
    Job.objects.filter(customer=john).update(
        completed_at=dt.datetime(2020, 3, 10, 15, tzinfo=dt.UTC)
    )
    Equipment.objects.filter(location__customer=john).delete()

    said = greeting_text(
        organization=demo_org,
        context=caller_context(organization=demo_org, phone=JOHN),
        full=True,
    )

    assert said.endswith(
        "123 Main Street and we last serviced your heating and air system in March 2020. "
        "Is this for the same location?"
    )


def test_a_location_kept_only_as_given_is_spoken_from_its_raw_text(demo_org):
    customer = factories.CustomerFactory(organization=demo_org, first_name="Ann")
    factories.ContactPointFactory(customer=customer, value="+15125550160")
    factories.ServiceLocationFactory(
        customer=customer,
        raw_address="77 Lamar Blvd Apt 3, Austin, TX 78703",
        street="",
        city="",
        postal_code="",
    )

    context = caller_context(organization=demo_org, phone="+15125550160")

    location = context.locations[0]
    assert (location.spoken, location.spoken_street, location.street_name) == (
        "77 Lamar Boulevard, apartment 3, Austin",
        "77 Lamar Boulevard, apartment 3",
        "Lamar",
    )
    assert location.postal_code == "78703"
    assert verification_matches(context=context, answer="Lamar") is True
    assert verification_matches(context=context, answer="seven eight seven oh three") is True
