"""`TenantModel.clean()` refuses links to another organisation's rows."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from bookings.models import Job
from tests import factories


def a_job(organization, customer, location) -> Job:
    return Job(
        organization=organization,
        number="J-1",
        customer=customer,
        location=location,
        description="No heat",
    )


def test_a_job_for_another_organisations_customer_is_refused(org, other_org):
    # given a location of ours and a customer of another organisation
    location = factories.ServiceLocationFactory(organization=org, customer__organization=org)
    foreign = factories.CustomerFactory(organization=other_org)
    job = a_job(org, foreign, location)

    # when the job is validated
    with pytest.raises(ValidationError) as refused:
        job.full_clean()

    # then the error names the customer field, and nothing was saved
    assert refused.value.message_dict == {"customer": ["Unknown customer."]}
    assert Job.objects.count() == 0


def test_the_check_also_works_from_a_bare_id(org, other_org):
    # given a job whose foreign keys are set as ids only (nothing cached on the instance)
    location = factories.ServiceLocationFactory(organization=other_org)
    customer = factories.CustomerFactory(organization=org)
    job = Job(
        organization_id=org.pk,
        number="J-1",
        customer_id=customer.pk,
        location_id=location.pk,
    )

    # when it is validated, then the foreign location is named
    with pytest.raises(ValidationError) as refused:
        job.full_clean()
    assert refused.value.message_dict == {"location": ["Unknown service location."]}


def test_a_job_within_one_organisation_is_accepted(org):
    # given a customer, location and service type of one organisation
    location = factories.ServiceLocationFactory(organization=org, customer__organization=org)
    job = a_job(org, location.customer, location)
    job.service_type = factories.ServiceTypeFactory(organization=org)

    # when it is validated and saved, then it stands
    job.full_clean()
    job.save()
    assert Job.objects.get().customer_id == location.customer_id
