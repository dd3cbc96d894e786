"""Customer search and the customer 360 page, with merge undo."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bookings.models import CallSession
from customers.models import Customer, CustomerMerge, Message
from invoicing.models import Invoice
from tests import factories

pytestmark = pytest.mark.django_db


def _customer(org, *, first="Ana", last="Reyes", phone="+15125550142", street="12 OAK ST"):
    customer = factories.CustomerFactory(organization=org, first_name=first, last_name=last)
    factories.ContactPointFactory(customer=customer, value=phone)
    factories.ServiceLocationFactory(
        customer=customer, street=street, raw_address=f"{street}, Austin"
    )
    return customer


@pytest.mark.parametrize(
    "typed", ["(512) 555-0142", "512-555-0142", "512.555.0142", "+1 512 555 0142", "5125550142"]
)
def test_search_finds_a_customer_by_a_phone_typed_any_way(org, office_client, typed):
    ana = _customer(org)
    _customer(org, first="Bob", last="Stone", phone="+15125550999", street="9 ELM ST")
    html = office_client.get("/dashboard/customers/", {"q": typed}).content.decode()
    assert f'href="/dashboard/customers/{ana.pk}/"' in html
    assert "Bob Stone" not in html


def test_a_whole_phone_number_finds_its_holder_only(org, office_client):
    # given: Ana has the number; Cy's two numbers hold its parts (312-555-0142 and
    # 737-512-1234), so a search for the parts as words would find him too
    ana = _customer(org)
    cy = _customer(org, first="Cy", last="Hale", phone="+13125550142", street="9 ELM ST")
    factories.ContactPointFactory(customer=cy, value="+17375121234", is_primary=False)
    html = office_client.get("/dashboard/customers/", {"q": "(512) 555-0142"}).content.decode()
    assert f"/dashboard/customers/{ana.pk}/" in html
    assert f"/dashboard/customers/{cy.pk}/" not in html
    # and: a number nobody has falls back to the digits in any field
    partial = office_client.get("/dashboard/customers/", {"q": "555-0142"}).content.decode()
    assert f"/dashboard/customers/{cy.pk}/" in partial


def test_search_by_name_and_by_address(org, office_client):
    ana = _customer(org)
    bob = _customer(org, first="Bob", last="Stone", phone="+15125550999", street="9 ELM ST")
    by_name = office_client.get("/dashboard/customers/", {"q": "reyes"}).content.decode()
    assert f"/dashboard/customers/{ana.pk}/" in by_name
    assert f"/dashboard/customers/{bob.pk}/" not in by_name
    by_street = office_client.get("/dashboard/customers/", {"q": "elm"}).content.decode()
    assert f"/dashboard/customers/{bob.pk}/" in by_street
    assert f"/dashboard/customers/{ana.pk}/" not in by_street


def test_search_never_shows_another_organisations_customer(org, other_org, office_client):
    _customer(other_org)
    html = office_client.get("/dashboard/customers/", {"q": "(512) 555-0142"}).content.decode()
    assert "No customer matches" in html


def test_search_empty_states(org, office_client):
    assert (
        b"Type a phone number in any format" in office_client.get("/dashboard/customers/").content
    )
    none = office_client.get("/dashboard/customers/", {"q": "zzzz"}).content
    assert "No customer matches “zzzz”".encode() in none


def _full_customer(org):
    ana = _customer(org)
    location = ana.locations.get()
    location.gate_code, location.pets = "4321", "Friendly dog"
    location.save()
    factories.EquipmentFactory(location=location, make="Trane")
    ana.do_not_service = False
    ana.tags = ["vip"]
    ana.save()
    job = factories.JobFactory(organization=org, customer=ana, location=location, number="J-77")
    technician = factories.TechnicianFactory(organization=org, first_name="Tom")
    factories.AppointmentFactory(organization=org, job=job, technician=technician)
    factories.InvoiceFactory(
        organization=org,
        customer=ana,
        job=job,
        number="INV-9",
        subtotal=Decimal("150.00"),
        tax_total=Decimal("0"),
        total=Decimal("150.00"),
        amount_paid=Decimal("50.00"),
    )
    factories.CallSessionFactory(
        organization=org, customer=ana, outcome=CallSession.Outcome.BOOKED, summary="Booked AC."
    )
    factories.MessageFactory(customer=ana, body="Your visit is confirmed for Thursday.")
    factories.FollowUpFactory(
        organization=org,
        customer=ana,
        rule__name="30 days after the job",
        status="skipped",
        reason="+15125550142 opted out of sms.",
    )
    return ana


def test_the_customer_page_shows_everything_about_the_customer(org, office_client):
    ana = _full_customer(org)
    html = office_client.get(f"/dashboard/customers/{ana.pk}/").content.decode()
    for text in (
        "Ana Reyes",
        "(512) 555-0142",
        "12 OAK ST",
        "4321",
        "Friendly dog",
        "Trane",
        "vip",
        "J-77",
        "Tom",
        "INV-9",
        "$150.00",
        "$100.00",
        "Booked AC.",
        "Your visit is confirmed for Thursday.",
        "30 days after the job",
        "Skipped",
        "+15125550142 opted out of sms.",
        "Never merged.",
    ):
        assert text in html, text
    call = CallSession.objects.get(customer=ana)
    assert f'href="/dashboard/calls/{call.pk}/"' in html


def test_an_empty_customer_page_says_what_is_missing(org, office_client):
    bare = factories.CustomerFactory(organization=org)
    html = office_client.get(f"/dashboard/customers/{bare.pk}/").content.decode()
    for text in (
        "No service location yet",
        "No jobs yet",
        "No invoices yet",
        "No calls from",
        "No messages sent or received yet",
        "No follow-ups scheduled or sent",
    ):
        assert text in html


def test_another_organisations_customer_is_a_404_like_a_missing_one(other_org, office_client):
    theirs = _customer(other_org)
    other = office_client.get(f"/dashboard/customers/{theirs.pk}/")
    missing = office_client.get("/dashboard/customers/999999/")
    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content


def test_a_technician_is_refused_the_customer_pages(org, tech_client):
    ana = _customer(org)
    assert tech_client.get("/dashboard/customers/").status_code == 403
    assert tech_client.get(f"/dashboard/customers/{ana.pk}/").status_code == 403


def test_merge_history_and_undo_through_the_service(org, office_client, dispatcher):
    survivor = _customer(org)
    duplicate = _customer(org, first="Anna", phone="+15125550143", street="12 OAK STREET")
    merge = factories.CustomerMergeFactory(organization=org, survivor=survivor, duplicate=duplicate)
    page = office_client.get(f"/dashboard/customers/{survivor.pk}/").content.decode()
    assert f"/dashboard/merges/{merge.pk}/undo/" in page
    assert "Absorbed" in page

    response = office_client.post(f"/dashboard/merges/{merge.pk}/undo/", follow=True)

    assert response.redirect_chain[-1][0] == f"/dashboard/customers/{survivor.pk}/"
    assert b"Merge undone" in response.content
    assert b"Undone" in response.content
    merge.refresh_from_db()
    assert merge.undone_at is not None
    assert merge.undone_by == dispatcher
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id is None
    again = office_client.post(f"/dashboard/merges/{merge.pk}/undo/", follow=True)
    assert b"The merge was not undone" in again.content


def test_a_merged_away_customer_points_to_its_survivor(org, office_client):
    survivor, duplicate = _customer(org), _customer(org, first="Anna", phone="+15125550143")
    factories.CustomerMergeFactory(organization=org, survivor=survivor, duplicate=duplicate)
    html = office_client.get(f"/dashboard/customers/{duplicate.pk}/").content.decode()
    assert "This customer was merged into" in html
    assert f'href="/dashboard/customers/{survivor.pk}/"' in html


def test_another_organisations_merge_cannot_be_undone(other_org, office_client):
    merge = factories.CustomerMergeFactory(organization=other_org)
    other = office_client.post(f"/dashboard/merges/{merge.pk}/undo/")
    missing = office_client.post("/dashboard/merges/999999/undo/")
    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content
    assert CustomerMerge.objects.get(pk=merge.pk).undone_at is None


@pytest.mark.parametrize("rows", [3, 30])
def test_the_customer_page_costs_the_same_queries_for_3_or_30_of_everything(
    org, office_client, django_assert_max_num_queries, rows
):
    ana = _full_customer(org)
    location = ana.locations.get()
    technician = factories.TechnicianFactory(organization=org)
    for n in range(rows):
        factories.ContactPointFactory(customer=ana, is_primary=False)
        extra = factories.ServiceLocationFactory(customer=ana, is_primary=False)
        factories.EquipmentFactory(location=extra)
        job = factories.JobFactory(organization=org, customer=ana, location=location)
        factories.AppointmentFactory(
            organization=org,
            job=job,
            technician=technician,
            start=job.created_at.replace(microsecond=0) + dt.timedelta(days=n + 2),
        )
        factories.InvoiceFactory(
            organization=org, customer=ana, job=job, status=Invoice.Status.SENT
        )
        factories.CallSessionFactory(organization=org, customer=ana)
        factories.MessageFactory(customer=ana, direction=Message.Direction.OUTBOUND)
        factories.CustomerNoteFactory(customer=ana)
        factories.FollowUpFactory(organization=org, customer=ana)
    office_client.get(f"/dashboard/customers/{ana.pk}/")
    # 19 before the follow-ups section, which reads its rows and their rules in one query
    with django_assert_max_num_queries(20):
        assert office_client.get(f"/dashboard/customers/{ana.pk}/").status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
def test_search_costs_the_same_queries_for_3_or_30_results(
    org, office_client, django_assert_max_num_queries, rows
):
    for n in range(rows):
        _customer(org, last="Reyes", phone=f"+1512555{3000 + n}", street=f"{n} OAK ST")
    office_client.get("/dashboard/customers/", {"q": "reyes"})
    with django_assert_max_num_queries(10):
        page = office_client.get("/dashboard/customers/", {"q": "reyes"})
    assert page.content.decode().count('href="/dashboard/customers/') >= rows
