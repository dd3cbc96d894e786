"""Fixtures for the Twilio webhooks: an organisation that answers a Twilio number with an auth
token, a known caller, and a client that signs requests exactly as Twilio does."""

from __future__ import annotations

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from dispatchnode.accounts.models import Organization
from tests import factories

AUTH_TOKEN = "test-twilio-auth-token"
OUR_NUMBER = "+15125550100"
JOHN_PHONE = "+15125550142"


@pytest.fixture
def voice_org(db):
    organization = factories.OrganizationFactory(
        name="Demo Heating & Air",
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token=AUTH_TOKEN,
        office_phone="+15125550199",
        caller_privacy=Organization.CallerPrivacy.ATTESTED,
    )
    factories.PhoneNumberFactory(organization=organization, e164=OUR_NUMBER)
    return organization


@pytest.fixture
def john(voice_org):
    customer = factories.CustomerFactory(
        organization=voice_org, first_name="John", last_name="Smith"
    )
    factories.ContactPointFactory(customer=customer, value=JOHN_PHONE)
    factories.ServiceLocationFactory(
        customer=customer,
        raw_address="123 Main St, Austin, TX 78701",
        street="123 MAIN ST",
        postal_code="78701",
    )
    return customer


class TwilioClient:
    """Posts form webhooks signed with `token` over `base + path`, as Twilio would."""

    def __init__(self, *, token: str = AUTH_TOKEN, base: str = "http://testserver") -> None:
        self.client = Client()
        self.token = token
        self.base = base

    def signature(self, path: str, params: dict[str, str]) -> str:
        return RequestValidator(self.token).compute_signature(self.base + path, params)

    def post(self, path: str, params: dict[str, str], *, signature: str | None = None, **extra):
        header = self.signature(path, params) if signature is None else signature
        return self.client.post(path, params, HTTP_X_TWILIO_SIGNATURE=header, **extra)


@pytest.fixture
def twilio():
    return TwilioClient()


def call_params(call_sid: str = "CA" + "a" * 32, **overrides: str) -> dict[str, str]:
    params = {
        "CallSid": call_sid,
        "AccountSid": "AC" + "1" * 32,
        "From": JOHN_PHONE,
        "To": OUR_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    params.update(overrides)
    return params


@pytest.fixture
def shop(voice_org, john, settings):
    """The voice organisation made bookable: the demo catalogue (names and spoken synonyms),
    two technicians working every day 07:00-19:00 from Austin, John's air conditioner with an
    October visit, and William Jenkins at 123 Oak Street."""
    import datetime as dt

    from django.utils import timezone

    from bookings.models import Job
    from customers.intake import customer_find_or_create
    from customers.models import Equipment
    from dispatchnode.demo import data

    settings.SMS_BACKEND = "console"
    services = {}
    for spec in data.SERVICE_TYPES:
        services[spec.code] = factories.ServiceTypeFactory(
            organization=voice_org,
            code=spec.code,
            name=spec.name,
            category=spec.category,
            kind=spec.kind,
            default_duration_minutes=spec.minutes,
            spoken_synonyms=list(spec.synonyms),
        )
    for first in ("Mike", "Ana"):
        technician = factories.TechnicianFactory(
            organization=voice_org,
            first_name=first,
            home_latitude="30.267200",
            home_longitude="-97.743100",
        )
        for weekday in range(7):
            factories.WorkingHoursFactory(
                technician=technician,
                weekday=weekday,
                start_time=dt.time(7, 0),
                end_time=dt.time(19, 0),
            )
    location = john.locations.get()
    location.latitude, location.longitude = "30.267200", "-97.743100"
    location.city, location.state = "AUSTIN", "TX"
    location.save()
    unit = factories.EquipmentFactory(location=location, kind=Equipment.Kind.AIR_CONDITIONER)
    today = timezone.now().astimezone(voice_org.tzinfo).date()
    october = dt.date(today.year if today.month >= 10 else today.year - 1, 10, 15)
    factories.JobFactory(
        organization=voice_org,
        customer=john,
        location=location,
        service_type=services["ac-tune-up"],
        equipment=unit,
        status=Job.Status.COMPLETED,
        completed_at=dt.datetime.combine(october, dt.time(15), tzinfo=voice_org.tzinfo),
    )
    customer_find_or_create(
        organization=voice_org,
        first_name="William",
        last_name="Jenkins",
        phone="+15125550177",
        email="bill.jenkins@example.com",
        address="123 Oak Street, Austin, TX 78702",
    )
    return services
