"""Every registered admin renders, and every model of the project has one.

The walk goes over `admin.site._registry`, so a new model admin is covered the day it is
registered; it needs a factory named `<Model>Factory` in `tests/factories.py` (or an entry in
`SPECIAL_BUILDERS`), and the test fails until it has one.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.urls import reverse

from bookings.models import CallSession, CallTurn, VisitAction
from customers.models import Message
from dispatchnode.accounts.models import ApiToken, Organization, User
from dispatchnode.accounts.services import api_token_issue
from dispatchnode.core.models import (
    BackgroundRun,
    OutboxDelivery,
    OutboxDeliveryAttempt,
    OutboxEvent,
    Sequence,
    TenantModel,
)
from dispatchnode.core.outbox import outbox_emit
from dispatchnode.core.services import sequence_next
from tests import factories

PROJECT_APPS = (
    "core",
    "accounts",
    "customers",
    "bookings",
    "invoicing",
    "routing",
    "integrations",
)
# Rows written only by services, webhooks or the relay: viewable, never added by hand.
NOT_ADDABLE = {
    BackgroundRun,
    OutboxEvent,
    OutboxDelivery,
    OutboxDeliveryAttempt,
    Sequence,
    Message,
    CallSession,
    CallTurn,
    VisitAction,
}


def _sequence(organization):
    sequence_next(organization=organization, name="invoice")
    return Sequence.objects.get(organization=organization, name="invoice")


SPECIAL_BUILDERS = {
    Group: lambda: Group.objects.create(name="Office staff"),
    User: lambda: factories.UserFactory(),
    Organization: lambda: factories.OrganizationFactory(),
    ApiToken: lambda: (
        api_token_issue(
            organization=factories.OrganizationFactory(), name="ci", scopes=["customers:read"]
        ).token
    ),
    Sequence: lambda: _sequence(factories.OrganizationFactory()),
    OutboxEvent: lambda: outbox_emit(
        organization=factories.OrganizationFactory(), topic="test.admin", payload={"n": 1}
    ),
    OutboxDelivery: lambda: _delivery(factories.OrganizationFactory()),
    OutboxDeliveryAttempt: lambda: _attempt(factories.OrganizationFactory()),
}


def _attempt(organization):
    delivery = _delivery(organization)
    return OutboxDeliveryAttempt.objects.create(
        organization=organization, delivery=delivery, number=1, outcome="retry", error="HTTP 500"
    )


def _delivery(organization):
    event = outbox_emit(organization=organization, topic="test.admin", payload={"n": 1})
    return OutboxDelivery.objects.create(
        organization=organization, event=event, subscriber="test.admin", last_error="HTTP 500"
    )


def build_one(model):
    if model in SPECIAL_BUILDERS:
        return SPECIAL_BUILDERS[model]()
    factory = getattr(factories, f"{model.__name__}Factory", None)
    if factory is None:
        pytest.fail(
            f"{model._meta.label} has an admin but no factory: add {model.__name__}Factory to "
            "tests/factories.py (or a builder to SPECIAL_BUILDERS)."
        )
    return factory()


def admin_url(model, view: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)


def test_every_project_model_has_an_admin():
    missing = [
        model._meta.label
        for app_label in PROJECT_APPS
        for model in apps.get_app_config(app_label).get_models()
        if model not in admin.site._registry
    ]

    assert missing == []


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_admin_pages_render_for_a_superuser(superuser_client, model):
    # given one row of the model
    obj = build_one(model)
    change_url = admin_url(model, "change", quote(obj.pk))

    # when the superuser opens the changelist, a search, the add page and the change page
    changelist = superuser_client.get(admin_url(model, "changelist"))
    search = superuser_client.get(admin_url(model, "changelist"), {"q": "zz-no-match"})
    add = superuser_client.get(admin_url(model, "add"))
    change = superuser_client.get(change_url)

    # then all render, and the row is listed with a link to its page
    assert changelist.status_code == 200
    assert change_url in changelist.content.decode()
    assert search.status_code == 200
    assert change_url not in search.content.decode()
    assert add.status_code == (403 if model in NOT_ADDABLE else 200)
    assert change.status_code == 200


@pytest.mark.parametrize(
    "model",
    [m for m in REGISTERED if issubclass(m, TenantModel)],
    ids=lambda m: m._meta.label,
)
def test_superuser_sees_the_organisation_column_filter_and_add_field(superuser_client, model):
    # given rows of two organisations
    mine, theirs = build_one(model), build_one(model)

    # when the superuser filters the changelist by the first organisation
    response = superuser_client.get(
        admin_url(model, "changelist"), {"organization__id__exact": mine.organization_id}
    )

    # then only that organisation's row is listed, with the column and the filter offered
    changelist = response.context["cl"]
    assert [row.pk for row in changelist.result_list] == [mine.pk]
    assert theirs.organization_id != mine.organization_id
    assert "organization" in changelist.list_display
    assert changelist.has_filters
    if model not in NOT_ADDABLE:
        add = superuser_client.get(admin_url(model, "add"))
        assert list(add.context["adminform"].form.fields)[-1] == "organization"
        assert add.context["adminform"].form.fields["organization"].required is True
