from __future__ import annotations

import pytest
from django.test import Client

from dispatchnode.accounts.models import Membership
from tests import factories


@pytest.fixture
def superuser(db):
    return factories.UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def superuser_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def staff_member(db):
    """`staff_member(org, role)` → a staff login (not a superuser) with that membership."""

    def make(*organizations, role=Membership.Role.DISPATCHER):
        user = factories.UserFactory(is_staff=True)
        for organization in organizations:
            factories.MembershipFactory(organization=organization, user=user, role=role)
        return user

    return make


@pytest.fixture
def client_for(db):
    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make
