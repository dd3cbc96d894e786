"""The phone dialogue's reads: scoped by the organisation given (another tenant's id reads as
missing), and what each one picks."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone

from bookings.models import Appointment
from bookings.voice import selectors
from tests import factories


@pytest.fixture
def other_org(db):
    return factories.OrganizationFactory(name="Other Plumbing")


def test_the_catalogue_is_the_active_services_of_the_organisation(voice_org, other_org):
    active = factories.ServiceTypeFactory(organization=voice_org, code="ac", name="AC repair")
    factories.ServiceTypeFactory(organization=voice_org, code="old", is_active=False)
    factories.ServiceTypeFactory(organization=other_org, code="ac", name="AC repair")

    catalogue = selectors.call_catalogue(organization=voice_org)

    assert catalogue == [active]
    assert catalogue[0].spoken_synonyms == active.spoken_synonyms


def test_a_job_message_or_appointment_of_another_organisation_reads_as_missing(
    voice_org, other_org
):
    theirs = factories.AppointmentFactory(organization=other_org)
    message = factories.MessageFactory(customer=factories.CustomerFactory(organization=other_org))

    assert selectors.call_job_get(organization=voice_org, pk=theirs.job.pk) is None
    assert selectors.call_job_get(organization=other_org, pk=theirs.job.pk) == theirs.job
    assert selectors.call_message_get(organization=voice_org, pk=message.pk) is None
    assert selectors.call_message_get(organization=other_org, pk=message.pk) == message
    with pytest.raises(Appointment.DoesNotExist):
        selectors.call_appointment_get(organization=voice_org, pk=theirs.pk)
    mine = selectors.call_appointment_get(organization=other_org, pk=theirs.pk)
    assert (mine, mine.job, mine.technician) == (theirs, theirs.job, theirs.technician)


def test_a_location_is_the_customers_own_and_the_first_is_the_primary(voice_org, john):
    (home,) = john.locations.all()
    home.is_primary = False
    home.save()
    cabin = factories.ServiceLocationFactory(customer=john, is_primary=True)
    someone = factories.ServiceLocationFactory(
        customer=factories.CustomerFactory(organization=voice_org)
    )

    assert selectors.call_location_get(organization=voice_org, customer=john, pk=home.pk) == home
    assert selectors.call_location_get(organization=voice_org, customer=john, pk=someone.pk) is None
    assert selectors.call_location_get(organization=voice_org, customer=john, pk=None) is None
    assert selectors.customer_first_location(organization=voice_org, customer=john) == cabin


def test_the_booked_appointment_is_the_active_one_at_that_time(voice_org):
    appointment = factories.AppointmentFactory(organization=voice_org)
    job, technician, start = appointment.job, appointment.technician, appointment.start

    def found(at):
        return selectors.job_active_appointment_at(
            organization=voice_org, job=job, technician=technician, start=at
        )

    assert found(start) == appointment
    assert found(start + dt.timedelta(hours=1)) is None
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
    assert found(start) is None


def test_the_on_call_shift_now_is_the_earliest_running_with_a_reachable_technician(voice_org):
    now = timezone.now()
    hour = dt.timedelta(hours=1)
    factories.OnCallShiftFactory(
        technician=factories.TechnicianFactory(organization=voice_org, phone=""),
        start=now - 3 * hour,
        end=now + hour,
    )
    factories.OnCallShiftFactory(
        technician=factories.TechnicianFactory(organization=voice_org, is_active=False),
        start=now - 3 * hour,
        end=now + hour,
    )
    later = factories.OnCallShiftFactory(
        technician=factories.TechnicianFactory(organization=voice_org), start=now + hour
    )
    earliest = factories.OnCallShiftFactory(
        technician=factories.TechnicianFactory(organization=voice_org),
        start=now - 2 * hour,
        end=now + hour,
    )
    factories.OnCallShiftFactory(
        technician=factories.TechnicianFactory(organization=voice_org),
        start=now - hour,
        end=now + hour,
    )

    assert selectors.on_call_shift_now(organization=voice_org, now=now) == earliest
    assert selectors.on_call_shift_now(organization=voice_org, now=now + 2 * hour) == later
    assert selectors.on_call_shift_now(organization=voice_org, now=now - 4 * hour) is None


def test_the_dialogue_reads_the_database_only_through_selectors():
    package = Path(selectors.__file__).parent / "dialogue"
    queries = [
        f"{path.name}: {line.strip()}"
        for path in sorted(package.glob("*.py"))
        for line in path.read_text().splitlines()
        if re.search(r"\.objects\.|\.(?:locations|appointments|jobs|turns)\.(?!all\b)", line)
    ]

    # The one write left: what a turn did, noted at once so a retried turn does not redo it.
    assert queries == [
        "booking.py: CallSession.objects.filter(pk=call.pk).update(turn_effects=call.turn_effects)"
    ]
