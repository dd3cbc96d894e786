"""Signed-in clients for the HTML pages: `office_client` (a dispatcher of `org`),
`owner_client`, and `tech_client` (a technician of `org` whose login is linked to
`technician`)."""

from __future__ import annotations

import pytest
from django.test import Client

from dispatchnode.accounts.models import Membership
from tests import factories


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def dispatcher(org):
    return factories.MembershipFactory(organization=org, role=Membership.Role.DISPATCHER).user


@pytest.fixture
def office_client(dispatcher):
    return signed_in(dispatcher)


@pytest.fixture
def owner_client(org):
    return signed_in(factories.MembershipFactory(organization=org, role=Membership.Role.OWNER).user)


@pytest.fixture
def technician(org):
    user = factories.MembershipFactory(organization=org, role=Membership.Role.TECHNICIAN).user
    return factories.TechnicianFactory(organization=org, user=user, first_name="Tina")


@pytest.fixture
def tech_client(technician):
    return signed_in(technician.user)
