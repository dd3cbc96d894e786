"""Organisation settings are validated; a dialled number finds its organisation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from dispatchnode.accounts.models import (
    Membership,
    Organization,
    default_business_hours,
    validate_business_hours,
    validate_timezone,
)
from dispatchnode.accounts.selectors import organization_by_number
from dispatchnode.accounts.services import (
    membership_grant,
    organization_create,
    phone_number_add,
)
from tests import factories


def test_default_business_hours_are_valid():
    assert validate_business_hours(default_business_hours()) is None


@pytest.mark.parametrize(
    "hours",
    [
        {"mon": [["08:00", "12:00"], ["13:00", "17:30"]], "sun": []},
        {},
        {"sat": [["00:00", "23:59"]]},
    ],
)
def test_business_hours_accepted(hours):
    assert validate_business_hours(hours) is None


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ([["08:00", "17:00"]], "object keyed by weekday"),
        ({"monday": [["08:00", "17:00"]]}, "Unknown weekday 'monday'"),
        ({"mon": "08:00-17:00"}, "mon: expected a list"),
        ({"mon": [["08:00"]]}, "each span is"),
        ({"mon": [["08:00", "12:00", "17:00"]]}, "each span is"),
        ({"mon": [["8:00", "17:00"]]}, "Enter a valid value"),
        ({"mon": [["08:00", "24:00"]]}, "Enter a valid value"),
        ({"mon": [["17:00", "08:00"]]}, "closes before it opens"),
        ({"mon": [["09:00", "09:00"]]}, "closes before it opens"),
    ],
)
def test_business_hours_refused(hours, message):
    with pytest.raises(ValidationError) as refused:
        validate_business_hours(hours)

    assert message in refused.value.messages[0]


def test_timezones_must_be_iana_names():
    assert validate_timezone("America/Chicago") is None
    for bad in ("Mars/Olympus_Mons", "CST6", "", "america/chicago"):
        with pytest.raises(ValidationError, match="not an IANA timezone"):
            validate_timezone(bad)


def test_organization_create_validates_before_saving(db):
    # when an organisation is created with a bad timezone and bad hours
    with pytest.raises(ValidationError) as refused:
        organization_create(
            name="Bad Co",
            slug="bad-co",
            timezone="Central Time",
            business_hours={"mon": [["17:00", "08:00"]]},
        )

    # then both fields are named and nothing is saved
    assert sorted(refused.value.message_dict) == ["business_hours", "timezone"]
    assert Organization.objects.count() == 0


def test_organization_create_keeps_a_valid_organisation(db):
    organization = organization_create(name="Good Co", slug="good-co", timezone="America/Denver")

    assert Organization.objects.get(slug="good-co").tzinfo.key == "America/Denver"
    assert organization.business_hours == default_business_hours()


def test_organization_by_number(db):
    # given two organisations with numbers, one number inactive, one organisation inactive
    acme, closed = factories.OrganizationFactory(), factories.OrganizationFactory(is_active=False)
    phone_number_add(organization=acme, e164="+15125550100", label="Main line")
    old = phone_number_add(organization=acme, e164="+15125550101")
    old.is_active = False
    old.save()
    phone_number_add(organization=closed, e164="+15125550102")

    # then the active number finds its organisation and the others find none
    assert organization_by_number(e164="+15125550100") == acme
    assert organization_by_number(e164="+15125550101") is None
    assert organization_by_number(e164="+15125550102") is None
    assert organization_by_number(e164="+15125559999") is None


def test_a_number_answers_for_one_organisation_only(db):
    # given a number of one organisation
    phone_number_add(organization=factories.OrganizationFactory(), e164="+15125550100")

    # when another organisation claims it, then it is refused
    with pytest.raises(ValidationError) as refused:
        phone_number_add(organization=factories.OrganizationFactory(), e164="+15125550100")
    assert list(refused.value.message_dict) == ["e164"]


def test_phone_numbers_must_be_e164(org):
    with pytest.raises(ValidationError) as refused:
        phone_number_add(organization=org, e164="(512) 555-0100")

    assert list(refused.value.message_dict) == ["e164"]


def test_membership_grant_changes_the_role_and_reactivates(org):
    # given a dispatcher whose membership was deactivated
    user = factories.UserFactory()
    membership = membership_grant(organization=org, user=user, role=Membership.Role.DISPATCHER)
    Membership.objects.filter(pk=membership.pk).update(is_active=False)

    # when they are granted owner
    membership_grant(organization=org, user=user, role=Membership.Role.OWNER)

    # then the one membership is an active owner
    assert list(Membership.objects.values_list("user_id", "role", "is_active")) == [
        (user.pk, Membership.Role.OWNER, True)
    ]
