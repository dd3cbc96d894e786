"""Customers, locations, equipment, notes and messages through /api/v1/."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.models import ContactPoint, CustomerNote
from tests import factories


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _phone(customer, value, **fields):
    return factories.ContactPointFactory(customer=customer, value=value, **fields)


def _email(customer, value, **fields):
    return factories.ContactPointFactory(
        customer=customer, kind=ContactPoint.Kind.EMAIL, value=value, **fields
    )


@pytest.fixture
def reader(org, api_client_for):
    return api_client_for(org, scopes=["*:read"])


def test_a_customer_is_rendered_with_its_phones_and_emails(org, reader):
    # given
    customer = factories.CustomerFactory(
        organization=org,
        first_name="John",
        last_name="Smith",
        company_name="Smith Rentals",
        tags=["vip"],
        source="ai_call",
    )
    _phone(customer, "+15125550142", label="mobile", is_primary=True)
    _phone(customer, "+15125550143", label="home", is_primary=False, sms_opt_out=True)
    _email(customer, "john@example.com", label="work", is_primary=True, email_opt_out=True)

    # when
    response = reader.get(f"/api/v1/customers/{customer.pk}/")

    # then
    assert response.status_code == 200
    body = response.json()
    created = customer.created_at.astimezone(org.tzinfo).isoformat()
    updated = customer.updated_at.astimezone(org.tzinfo).isoformat()
    assert body == {
        "id": customer.pk,
        "first_name": "John",
        "last_name": "Smith",
        "display_name": "John Smith",
        "company_name": "Smith Rentals",
        "kind": "residential",
        "lead_status": "active",
        "source": "ai_call",
        "do_not_service": False,
        "do_not_service_reason": "",
        "tags": ["vip"],
        "phones": [
            {
                "value": "+15125550142",
                "label": "mobile",
                "is_primary": True,
                "sms_opt_out": False,
                "email_opt_out": False,
            },
            {
                "value": "+15125550143",
                "label": "home",
                "is_primary": False,
                "sms_opt_out": True,
                "email_opt_out": False,
            },
        ],
        "emails": [
            {
                "value": "john@example.com",
                "label": "work",
                "is_primary": True,
                "sms_opt_out": False,
                "email_opt_out": True,
            }
        ],
        "merged_into": None,
        "created_at": created,
        "updated_at": updated,
    }


@pytest.mark.parametrize(
    "written",
    [
        "(512) 555-0142",
        "512.555.0142",
        "+1 512 555 0142",
        "512-555-0142",
        "5125550142",
        "+15125550142",
        "1 (512) 555 0142",
    ],
)
def test_the_phone_filter_finds_a_customer_by_any_written_form(org, reader, written):
    # given
    customer = factories.CustomerFactory(organization=org)
    _phone(customer, "+15125550142")
    other = factories.CustomerFactory(organization=org)
    _phone(other, "+15125550177")

    # when
    response = reader.get("/api/v1/customers/", {"phone": written})

    # then
    assert _ids(response) == [customer.pk]


def test_the_phone_filter_matches_any_of_the_customers_numbers(org, reader):
    # given
    customer = factories.CustomerFactory(organization=org)
    _phone(customer, "+15125550100", is_primary=True)
    _phone(customer, "+15125550142", is_primary=False)

    # when
    response = reader.get("/api/v1/customers/", {"phone": "512 555 0142"})

    # then
    assert _ids(response) == [customer.pk]


def test_the_phone_filter_reads_a_national_number_in_the_organisations_country(
    reader, api_client_for
):
    # given: a London company
    london = factories.OrganizationFactory(country="GB", timezone="Europe/London")
    customer = factories.CustomerFactory(organization=london)
    _phone(customer, "+442079460958")
    client = api_client_for(london, scopes=["customers:read"])

    # when
    response = client.get("/api/v1/customers/", {"phone": "020 7946 0958"})

    # then
    assert _ids(response) == [customer.pk]


def test_an_unknown_phone_finds_nobody(org, reader):
    # given
    _phone(factories.CustomerFactory(organization=org), "+15125550142")

    # when
    response = reader.get("/api/v1/customers/", {"phone": "(512) 555-0199"})

    # then
    assert _ids(response) == []


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("call me", "'call me' is not a phone number."),
        ("12", "'12' is not a complete phone number."),
    ],
)
def test_an_unusable_phone_is_a_400_envelope(org, reader, written, message):
    # when
    response = reader.get("/api/v1/customers/", {"phone": written})

    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "errors": {"phone": [message]},
    }


def test_the_email_filter_is_trimmed_and_case_insensitive(org, reader):
    # given
    customer = factories.CustomerFactory(organization=org)
    _email(customer, "bill.jenkins@example.com")
    _email(factories.CustomerFactory(organization=org), "someone@example.com")

    # when
    response = reader.get("/api/v1/customers/", {"email": "  Bill.Jenkins@EXAMPLE.com "})

    # then
    assert _ids(response) == [customer.pk]


@pytest.fixture
def searchable(org):
    """John Smith (phone, Main St 78701) and Bill Jenkins (email, Oak Street 78702)."""
    john = factories.CustomerFactory(organization=org, first_name="John", last_name="Smith")
    _phone(john, "+15125550142")
    factories.ServiceLocationFactory(
        customer=john,
        raw_address="123 Main St, Austin, TX 78701",
        street="123 MAIN ST",
        city="AUSTIN",
        postal_code="78701",
    )
    bill = factories.CustomerFactory(
        organization=org, first_name="William", last_name="Jenkins", company_name="Oakworks"
    )
    _email(bill, "bill.jenkins@example.com")
    _phone(bill, "+15125550177")
    factories.ServiceLocationFactory(
        customer=bill,
        raw_address="123 Oak Street, Round Rock, TX 78702",
        street="123 OAK ST",
        city="ROUND ROCK",
        postal_code="78702",
    )
    return {"john": john.pk, "bill": bill.pk}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("smith", ["john"]),
        ("John Smith", ["john"]),
        ("oakworks", ["bill"]),
        ("bill.jenkins@", ["bill"]),
        ("(512) 555-0142", ["john"]),
        ("555-0177", ["bill"]),
        ("main st", ["john"]),
        ("round rock", ["bill"]),
        ("78702", ["bill"]),
        ("123", ["bill", "john"]),
        ("oak", ["bill"]),
        ("smith 78702", []),
        ("smith 78701", ["john"]),
        ("+1 512 555 0177", ["bill"]),
        ("nobody", []),
    ],
)
def test_search_covers_names_company_phones_emails_and_addresses(
    reader, searchable, text, expected
):
    # when
    response = reader.get("/api/v1/customers/", {"search": text})

    # then: newest first
    assert _ids(response) == sorted((searchable[name] for name in expected), reverse=True)


def test_locations_filter_by_customer(org, reader):
    # given
    customer = factories.CustomerFactory(organization=org)
    first = factories.ServiceLocationFactory(customer=customer)
    second = factories.ServiceLocationFactory(customer=customer, is_primary=False)
    factories.ServiceLocationFactory(customer=factories.CustomerFactory(organization=org))

    # when
    response = reader.get("/api/v1/locations/", {"customer": customer.pk})

    # then
    assert _ids(response) == [second.pk, first.pk]
    row = response.json()["results"][1]
    assert row["customer"] == customer.pk
    assert row["one_line"] == first.one_line
    assert row["latitude"] == "30.267200"
    assert row["gate_code"] == ""


def test_equipment_filters_by_location_and_by_customer(org, reader):
    # given
    home = factories.ServiceLocationFactory(customer=factories.CustomerFactory(organization=org))
    rental = factories.ServiceLocationFactory(customer=home.customer, is_primary=False)
    ac = factories.EquipmentFactory(location=home)
    heater = factories.EquipmentFactory(location=rental, kind="water_heater", category="plumbing")
    factories.EquipmentFactory(
        location=factories.ServiceLocationFactory(
            customer=factories.CustomerFactory(organization=org)
        )
    )

    # when
    by_location = reader.get("/api/v1/equipment/", {"location": home.pk})
    by_customer = reader.get("/api/v1/equipment/", {"customer": home.customer_id})
    both = reader.get("/api/v1/equipment/", {"customer": home.customer_id, "location": rental.pk})

    # then
    assert _ids(by_location) == [ac.pk]
    assert _ids(by_customer) == [heater.pk, ac.pk]
    assert _ids(both) == [heater.pk]
    assert by_location.json()["results"][0] | {"created_at": None, "updated_at": None} == {
        "id": ac.pk,
        "location": home.pk,
        "customer": home.customer_id,
        "kind": "air_conditioner",
        "category": "hvac",
        "make": "Carrier",
        "model_number": "",
        "serial_number": "",
        "installed_on": "2018-05-01",
        "warranty_expires_on": None,
        "notes": "",
        "created_at": None,
        "updated_at": None,
    }


def test_customer_notes_filter_by_customer_and_kind(org, reader):
    # given
    customer = factories.CustomerFactory(organization=org)
    gate = factories.CustomerNoteFactory(customer=customer, kind=CustomerNote.Kind.ACCESS)
    complaint = factories.CustomerNoteFactory(
        customer=customer, kind=CustomerNote.Kind.COMPLAINT, body="Late last time"
    )
    factories.CustomerNoteFactory(customer=factories.CustomerFactory(organization=org))

    # when
    by_customer = reader.get("/api/v1/customer-notes/", {"customer": customer.pk})
    complaints = reader.get(
        "/api/v1/customer-notes/", {"customer": customer.pk, "kind": "complaint"}
    )

    # then
    assert _ids(by_customer) == [complaint.pk, gate.pk]
    assert _ids(complaints) == [complaint.pk]
    assert complaints.json()["results"][0]["body"] == "Late last time"


def test_an_unknown_note_kind_is_a_400(reader):
    # when
    response = reader.get("/api/v1/customer-notes/", {"kind": "gossip"})

    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "errors": {"kind": ["Select a valid choice. gossip is not one of the available choices."]},
    }


def test_messages_filter_by_customer_and_show_the_timeline_fields(org, reader):
    # given
    customer = factories.CustomerFactory(organization=org)
    sent = factories.MessageFactory(
        customer=customer,
        status="delivered",
        purpose="booking_confirmation",
        created_at=dt.datetime(2025, 6, 2, 14, 30, tzinfo=dt.UTC),
    )
    factories.MessageFactory(customer=factories.CustomerFactory(organization=org))

    # when
    response = reader.get("/api/v1/messages/", {"customer": customer.pk})

    # then
    assert _ids(response) == [sent.pk]
    row = response.json()["results"][0]
    assert {key: row[key] for key in ("channel", "direction", "to_address", "body")} == {
        "channel": "sms",
        "direction": "outbound",
        "to_address": "+15125550142",
        "body": "Your appointment is confirmed.",
    }
    assert (row["status"], row["purpose"], row["created_at"]) == (
        "delivered",
        "booking_confirmation",
        "2025-06-02T09:30:00-05:00",
    )


@pytest.mark.parametrize("path", ["locations", "equipment", "customer-notes", "messages"])
@pytest.mark.parametrize("value", ["abc", "1.5", "0", "-3"])
def test_an_id_filter_that_is_not_a_positive_whole_number_is_a_400(reader, path, value):
    # when
    response = reader.get(f"/api/v1/{path}/", {"customer": value})

    # then
    assert response.status_code == 400
    body = response.json()
    assert (body["detail"], body["code"], list(body["errors"])) == (
        "Invalid input.",
        "invalid",
        ["customer"],
    )


def test_filtering_by_another_tenants_customer_is_an_empty_list(org, other_org, reader):
    # given
    theirs = factories.CustomerFactory(organization=other_org)
    factories.ServiceLocationFactory(customer=theirs)
    factories.MessageFactory(customer=theirs)

    # when
    locations = reader.get("/api/v1/locations/", {"customer": theirs.pk})
    messages = reader.get("/api/v1/messages/", {"customer": theirs.pk})

    # then
    assert _ids(locations) == []
    assert _ids(messages) == []
