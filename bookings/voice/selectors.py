"""Reads for the phone dialogue: the catalogue the brain matches against, the rows a call works
on (its job, the visit it booked, the text it queued) and who takes an emergency now.

Every selector takes the organisation first and explicitly; an id of another organisation reads
as missing. Writes stay in the services (`bookings.services`, `customers.intake`, …)."""

from __future__ import annotations

import datetime as dt

from bookings.models import Appointment, Job, OnCallShift, ServiceType, Technician
from customers.models import Customer, Message, ServiceLocation
from customers.selectors import location_list, message_list
from dispatchnode.accounts.models import Organization

# What the brain and the dialogue read of a service type (`RuleBrain`, `llm_brain.tool_specs`).
CATALOGUE_FIELDS = ("id", "code", "name", "category", "kind", "spoken_synonyms", "is_active")


def call_catalogue(*, organization: Organization) -> list[ServiceType]:
    """The organisation's active service types, with only the fields the dialogue reads."""
    return list(
        ServiceType.objects.filter(organization=organization, is_active=True).only(
            *CATALOGUE_FIELDS
        )
    )


def call_job_get(*, organization: Organization, pk: int) -> Job | None:
    """The job a call books, or None."""
    return Job.objects.filter(organization=organization, pk=pk).first()


def call_location_get(
    *, organization: Organization, customer: Customer, pk: int | None
) -> ServiceLocation | None:
    """One of the customer's service locations, or None."""
    return location_list(organization=organization).filter(customer=customer, pk=pk).first()


def customer_first_location(
    *, organization: Organization, customer: Customer
) -> ServiceLocation | None:
    """The customer's primary service location, else their first one; None when they have
    none."""
    return (
        location_list(organization=organization)
        .filter(customer=customer)
        .order_by("-is_primary", "id")
        .first()
    )


def call_appointment_get(*, organization: Organization, pk: int) -> Appointment:
    """An appointment a call is about, with its job and technician (`Appointment.DoesNotExist`
    when it is not the organisation's)."""
    return Appointment.objects.select_related("job", "technician").get(
        organization=organization, pk=pk
    )


def job_active_appointment_at(
    *, organization: Organization, job: Job, technician: Technician, start: dt.datetime
) -> Appointment | None:
    """The job's active appointment with `technician` at exactly `start`, or None."""
    return (
        Appointment.objects.select_related("job", "technician")
        .filter(
            organization=organization,
            job=job,
            status__in=Appointment.ACTIVE_STATUSES,
            technician=technician,
            start=start,
        )
        .first()
    )


def call_message_get(*, organization: Organization, pk: int) -> Message | None:
    """A message a call queued (its confirmation text), or None."""
    return message_list(organization=organization).filter(pk=pk).first()


def on_call_shift_now(*, organization: Organization, now: dt.datetime) -> OnCallShift | None:
    """The on-call shift running at `now` whose technician is active and has a phone (the
    earliest started when several overlap), with the technician loaded."""
    return (
        OnCallShift.objects.filter(
            organization=organization,
            start__lte=now,
            end__gt=now,
            technician__is_active=True,
        )
        .exclude(technician__phone="")
        .select_related("technician")
        .order_by("start", "id")
        .first()
    )
