"""The tenant scope (dispatchnode.core.scoping): the default manager of every TenantModel
follows the active scope, and entry points (requests, Celery tasks) are strict."""

from __future__ import annotations

import logging

import pytest
from celery import shared_task
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from customers.models import Customer, ServiceLocation
from dispatchnode.accounts.models import Organization
from dispatchnode.core.scoping import (
    NO_SCOPE,
    TenantScopeError,
    current_scope,
    tenant_scope,
    tenant_strict,
    tenant_unscoped,
)
from tests import factories


@pytest.fixture
def two_orgs(db):
    a, b = factories.OrganizationFactory(), factories.OrganizationFactory()
    customers_a = [factories.CustomerFactory(organization=a) for _ in range(2)]
    customers_b = [factories.CustomerFactory(organization=b)]
    return a, b, customers_a, customers_b


def _pks(queryset) -> list[int]:
    return sorted(queryset.values_list("pk", flat=True))


def test_inside_tenant_scope_the_default_manager_returns_only_that_organisations_rows(two_orgs):
    # given
    a, b, customers_a, customers_b = two_orgs

    # when
    with tenant_scope(a):
        seen_a = _pks(Customer.objects.all())
        count_b_by_filter = Customer.objects.filter(organization=b).count()
    with tenant_scope(b.pk):
        seen_b = _pks(Customer.objects.all())

    # then
    assert seen_a == sorted(c.pk for c in customers_a)
    assert count_b_by_filter == 0
    assert seen_b == [customers_b[0].pk]
    assert current_scope() == NO_SCOPE


def test_reverse_relations_follow_the_scope_and_forward_foreign_keys_do_not(two_orgs):
    # given: a location of org A
    a, b, customers_a, _ = two_orgs
    location = factories.ServiceLocationFactory(customer=customers_a[0])

    # when: read while org B is in scope
    with tenant_scope(b):
        fresh = ServiceLocation._base_manager.get(pk=location.pk)
        forward = fresh.customer  # _base_manager: plain
        reverse = list(customers_a[0].locations.all())
    with tenant_scope(a):
        reverse_own = list(customers_a[0].locations.all())

    # then
    assert forward.pk == customers_a[0].pk
    assert reverse == []
    assert reverse_own == [location]


def test_plain_code_outside_any_entry_point_is_not_strict(two_orgs):
    # given
    _, _, customers_a, customers_b = two_orgs

    # when
    seen = _pks(Customer.objects.all())

    # then
    assert seen == sorted(c.pk for c in customers_a + customers_b)


def test_a_tenant_query_in_a_strict_context_without_scope_raises(two_orgs, settings):
    # given
    settings.TENANT_SCOPE_STRICT = True

    # when / then
    with tenant_strict(), pytest.raises(TenantScopeError, match=r"customers\.Customer\.objects"):
        Customer.objects.count()


def test_an_unscoped_block_inside_a_strict_context_sees_every_organisation(two_orgs, settings):
    # given
    settings.TENANT_SCOPE_STRICT = True
    _, _, customers_a, customers_b = two_orgs

    # when
    with tenant_strict(), tenant_unscoped("a test of cross-tenant reads"):
        seen = _pks(Customer.objects.all())
        inner = current_scope()

    # then
    assert seen == sorted(c.pk for c in customers_a + customers_b)
    assert inner.strict
    assert inner.unscoped == "a test of cross-tenant reads"


def test_an_unscoped_block_needs_a_reason():
    with pytest.raises(ValueError, match="reason"):
        tenant_unscoped("  ")


def test_the_emergency_setting_turns_the_raising_into_a_warning(two_orgs, settings, caplog):
    # given
    settings.TENANT_SCOPE_STRICT = False
    _, _, customers_a, customers_b = two_orgs

    # when
    with caplog.at_level(logging.WARNING, logger="dispatchnode.core.scoping"), tenant_strict():
        seen = _pks(Customer.objects.all())

    # then
    assert seen == sorted(c.pk for c in customers_a + customers_b)
    assert "customers.Customer.objects was queried with no tenant scope" in caplog.text


def test_organisations_users_and_the_base_manager_are_never_scoped(two_orgs, settings):
    # given
    settings.TENANT_SCOPE_STRICT = True
    a, b, customers_a, customers_b = two_orgs
    factories.UserFactory()

    # when: strict, with no scope
    with tenant_strict():
        organizations = Organization.objects.filter(pk__in=[a.pk, b.pk]).count()
        users = get_user_model().objects.count()
        base = Customer._base_manager.count()

    # then
    assert organizations == 2
    assert users >= 1
    assert base == len(customers_a) + len(customers_b)


# --- Celery tasks are entry points -------------------------------------------------------


@shared_task(name="tests.scope_probe_for_organization")
def scope_probe_for_organization(organization_id: int) -> list[int]:
    return sorted(Customer.objects.values_list("pk", flat=True))


@shared_task(name="tests.scope_probe_without_organization")
def scope_probe_without_organization() -> int:
    return Customer.objects.count()


@shared_task(name="tests.scope_probe_sweep", tenant_unscoped="a test sweep over every tenant")
def scope_probe_sweep() -> int:
    return Customer.objects.count()


def test_a_task_runs_in_the_scope_of_the_organisation_its_arguments_name(two_orgs, settings):
    # given
    settings.TENANT_SCOPE_STRICT = True
    a, b, customers_a, customers_b = two_orgs

    # when: run eagerly, positionally and by keyword
    seen_a = scope_probe_for_organization.apply(args=[a.pk]).get()
    seen_b = scope_probe_for_organization.apply(kwargs={"organization_id": b.pk}).get()

    # then
    assert seen_a == sorted(c.pk for c in customers_a)
    assert seen_b == [customers_b[0].pk]
    assert current_scope() == NO_SCOPE


def test_a_task_that_names_no_organisation_is_strict(two_orgs, settings):
    # given
    settings.TENANT_SCOPE_STRICT = True

    # when / then
    with pytest.raises(TenantScopeError, match=r"customers\.Customer"):
        scope_probe_without_organization.apply().get()
    assert current_scope() == NO_SCOPE


def test_a_task_declared_unscoped_sees_every_organisation(two_orgs, settings):
    # given
    settings.TENANT_SCOPE_STRICT = True
    _, _, customers_a, customers_b = two_orgs

    # when
    count = scope_probe_sweep.apply().get()

    # then
    assert count == len(customers_a) + len(customers_b)


def test_a_task_inside_a_request_scope_uses_its_own_organisation_and_restores_the_request_scope(
    two_orgs, settings
):
    # given: code running for org A calls a task for org B in-process
    settings.TENANT_SCOPE_STRICT = True
    a, b, _, customers_b = two_orgs

    # when
    with tenant_strict(), tenant_scope(a):
        seen = scope_probe_for_organization.apply(args=[b.pk]).get()
        after = current_scope()

    # then
    assert seen == [customers_b[0].pk]
    assert after.organization_id == a.pk
    assert after.strict


def test_the_outbox_relay_task_is_declared_unscoped():
    from dispatchnode.core.tasks import outbox_purge, outbox_relay

    assert "every organisation" in outbox_relay.tenant_unscoped
    assert "every organisation" in outbox_purge.tenant_unscoped


# --- requests are entry points -----------------------------------------------------------


@pytest.mark.urls("tests.core.scope_urls")
def test_an_anonymous_request_that_queries_a_tenant_table_raises(two_orgs, settings):
    # given
    settings.TENANT_SCOPE_STRICT = True

    # when / then
    with pytest.raises(TenantScopeError, match=r"customers\.Customer"):
        Client().get("/probe")
    assert current_scope() == NO_SCOPE


@pytest.mark.urls("tests.core.scope_urls")
def test_an_anonymous_request_with_the_setting_off_does_not_raise(two_orgs, settings):
    # given
    settings.TENANT_SCOPE_STRICT = False

    # when
    response = Client().get("/probe")

    # then
    assert response.status_code == 200
    assert response.json()["organization"] is None


@pytest.mark.urls("tests.core.scope_urls")
def test_a_session_users_request_runs_in_their_organisations_scope(two_orgs, settings):
    # given
    settings.TENANT_SCOPE_STRICT = True
    a, _, customers_a, _ = two_orgs
    member = factories.MembershipFactory(organization=a)
    client = Client()
    client.force_login(member.user)

    # when
    body = client.get("/probe").json()

    # then
    assert body == {
        "organization": a.pk,
        "membership": member.pk,
        "customers": sorted(c.pk for c in customers_a),
    }


@pytest.mark.urls("tests.core.scope_urls")
def test_an_api_token_request_resolves_through_the_same_resolver_and_sets_the_scope(
    two_orgs, settings, api_client_for
):
    # given
    settings.TENANT_SCOPE_STRICT = True
    _, b, _, customers_b = two_orgs
    client = api_client_for(b, scopes=["*:read"])

    # when
    body = client.get("/api-probe").json()

    # then: set on the DRF request and on the Django request it wraps
    assert body == {"organization": b.pk, "wrapped": b.pk, "customers": [customers_b[0].pk]}


@pytest.mark.urls("tests.core.scope_urls")
def test_an_unauthenticated_api_request_sees_nothing_and_raises_on_tenant_reads(two_orgs, settings):
    settings.TENANT_SCOPE_STRICT = True
    with pytest.raises(TenantScopeError):
        APIClient().get("/api-probe")
