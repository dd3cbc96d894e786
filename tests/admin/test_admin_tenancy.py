"""A staff member who is not a superuser works only inside their own organisations."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.urls import reverse

from bookings.models import CallTurn, Job, VisitAction
from customers.models import ContactPoint, Customer, Message, ServiceLocation
from dispatchnode.accounts.models import ApiToken, Membership, Organization, PhoneNumber
from dispatchnode.core.models import (
    BackgroundRun,
    OutboxDelivery,
    OutboxDeliveryAttempt,
    OutboxEvent,
    Sequence,
    TenantModel,
)
from tests import factories
from tests.admin.test_admin_pages import REGISTERED, admin_url, build_one

OWNER_ONLY_MODELS = {ApiToken, Membership}
CHANGED_ONLY_BY_SUPERUSERS = {
    BackgroundRun,
    OutboxEvent,
    OutboxDelivery,
    OutboxDeliveryAttempt,
    Sequence,
    Message,
    CallTurn,
    VisitAction,
    PhoneNumber,
}
TENANT_ADMINS = [m for m in REGISTERED if issubclass(m, TenantModel)]


def inline_management(response, **totals) -> dict[str, str]:
    """Management-form data for every inline of a change form: no rows unless `totals` says."""
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data[f"{prefix}-TOTAL_FORMS"] = str(totals.get(prefix, 0))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        data[f"{prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
    return data


def customer_form(**fields) -> dict[str, str]:
    data = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "",
        "kind": Customer.Kind.RESIDENTIAL,
        "lead_status": Customer.LeadStatus.ACTIVE,
        "source": "staff",
        "tags": "[]",
        "do_not_service_reason": "",
        "merged_into": "",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize("model", TENANT_ADMINS, ids=lambda m: m._meta.label)
def test_dispatcher_changelist_lists_only_their_organisations_rows(staff_member, client_for, model):
    # given a row in the dispatcher's organisation and one in another organisation
    mine, theirs = build_one(model), build_one(model)
    assert mine.organization_id != theirs.organization_id
    dispatcher = staff_member(mine.organization, role=Membership.Role.DISPATCHER)

    # when the dispatcher opens the changelist
    response = client_for(dispatcher).get(admin_url(model, "changelist"))

    # then owner-only admins are refused; the others list exactly the dispatcher's row
    if model in OWNER_ONLY_MODELS:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert [row.pk for row in changelist.result_list] == [mine.pk]
    assert "organization" not in changelist.list_display  # one organisation: no column


@pytest.mark.parametrize("model", TENANT_ADMINS, ids=lambda m: m._meta.label)
def test_another_organisations_row_behaves_like_a_missing_one(staff_member, client_for, model):
    # given an owner of organisation A and a row of organisation B
    theirs = build_one(model)
    owner = staff_member(factories.OrganizationFactory(), role=Membership.Role.OWNER)
    client = client_for(owner)
    before = model.objects.filter(pk=theirs.pk).values().get()

    # when the owner opens, posts to and tries to delete B's row
    change = client.get(admin_url(model, "change", quote(theirs.pk)))
    post = client.post(admin_url(model, "change", quote(theirs.pk)), {"_save": "1"})
    delete = client.post(admin_url(model, "delete", quote(theirs.pk)), {"post": "yes"})

    # then each is sent back to the admin index as for a missing object (or refused outright
    # where nobody but a superuser may change or delete), and nothing changed
    index = reverse("admin:index")
    assert (change.status_code, change.url) == (302, index)
    if model in CHANGED_ONLY_BY_SUPERUSERS:
        assert (post.status_code, delete.status_code) == (403, 403)
    else:
        assert (post.status_code, post.url) == (302, index)
        assert (delete.status_code, delete.url) == (302, index)
    assert model.objects.filter(pk=theirs.pk).values().get() == before


def test_foreign_key_and_m2m_choices_are_limited_to_the_organisation(staff_member, client_for):
    # given two organisations with a full set of rows each
    org_a, org_b = factories.OrganizationFactory(), factories.OrganizationFactory()
    rows = {}
    for org in (org_a, org_b):
        customer = factories.CustomerFactory(organization=org)
        location = factories.ServiceLocationFactory(customer=customer, organization=org)
        rows[org.pk] = {
            "customer": customer,
            "location": location,
            "equipment": factories.EquipmentFactory(location=location, organization=org),
            "service_type": factories.ServiceTypeFactory(organization=org),
            "technician": factories.TechnicianFactory(organization=org),
            "skill": factories.SkillFactory(organization=org),
        }
    dispatcher = staff_member(org_a)
    colleague = staff_member(org_a)
    staff_member(org_b)  # a login of the other organisation
    client = client_for(dispatcher)

    # when the dispatcher opens the add pages of a job and of a technician
    job_page = client.get(admin_url(Job, "add"))
    technician_page = client.get(reverse("admin:bookings_technician_add"))

    # then every choice comes from organisation A only
    a = rows[org_a.pk]
    job_form = job_page.context["adminform"].form
    assert "organization" not in job_form.fields  # one organisation: assigned, not asked
    assert list(job_form.fields["customer"].queryset) == [a["customer"]]
    assert list(job_form.fields["location"].queryset) == [a["location"]]
    assert list(job_form.fields["equipment"].queryset) == [a["equipment"]]
    assert list(job_form.fields["service_type"].queryset) == [a["service_type"]]
    (appointments,) = job_page.context["inline_admin_formsets"]
    assert list(appointments.formset.empty_form.fields["technician"].queryset) == [a["technician"]]
    technician_form = technician_page.context["adminform"].form
    assert list(technician_form.fields["skills"].queryset) == [a["skill"]]
    assert set(technician_form.fields["user"].queryset) == {dispatcher, colleague}


def test_autocomplete_offers_only_the_organisations_customers(staff_member, client_for):
    # given customers with the same surname in two organisations
    org_a, org_b = factories.OrganizationFactory(), factories.OrganizationFactory()
    ours = factories.CustomerFactory(organization=org_a, last_name="Smith")
    factories.CustomerFactory(organization=org_b, last_name="Smith")
    client = client_for(staff_member(org_a))

    # when the job form's customer autocomplete is queried
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "bookings", "model_name": "job", "field_name": "customer", "term": "Smi"},
    )

    # then only organisation A's customer comes back
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(ours.pk)]


def test_posting_another_organisations_customer_is_refused(staff_member, client_for):
    # given a dispatcher of A and a customer of B
    org_a = factories.OrganizationFactory()
    ours = factories.ServiceLocationFactory(organization=org_a, customer__organization=org_a)
    foreign = factories.CustomerFactory()
    client = client_for(staff_member(org_a))
    page = client.get(admin_url(Job, "add"))

    # when the dispatcher posts a job for B's customer at A's location
    response = client.post(
        admin_url(Job, "add"),
        {
            "number": "J-9001",
            "customer": foreign.pk,
            "location": ours.pk,
            "equipment": "",
            "service_type": "",
            "description": "No cooling",
            "priority": Job.Priority.NORMAL,
            "source": "staff",
            "customer_preference": "",
            "status": Job.Status.REQUESTED,
            "diagnostic_notes": "",
            "work_notes": "",
            "cancel_reason": "",
            **inline_management(page),
        },
    )

    # then the form is shown again with the error on the customer, and no job exists
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["customer"]
    assert Job.objects.count() == 0


def test_a_dispatchers_new_customer_and_its_inline_rows_get_their_organisation(
    staff_member, client_for
):
    # given a dispatcher of exactly one organisation
    org = factories.OrganizationFactory()
    client = client_for(staff_member(org))
    page = client.get(admin_url(Customer, "add"))
    management = inline_management(page, contacts=1, locations=1)

    # when they add a customer with a phone number written loosely and an address
    response = client.post(
        admin_url(Customer, "add"),
        {
            **customer_form(),
            **management,
            "contacts-0-kind": ContactPoint.Kind.PHONE,
            "contacts-0-value": "(512) 555-0142",
            "contacts-0-label": ContactPoint.Label.MOBILE,
            "contacts-0-is_primary": "on",
            "contacts-0-is_valid": "on",
            "locations-0-raw_address": "123 Main St, Austin, TX 78701",
            "locations-0-is_primary": "on",
        },
    )

    # then everything belongs to the dispatcher's organisation and the phone is E.164
    assert response.status_code == 302
    customer = Customer.objects.get()
    contact = ContactPoint.objects.get()
    location = ServiceLocation.objects.get()
    assert (customer.organization_id, contact.organization_id, location.organization_id) == (
        org.pk,
        org.pk,
        org.pk,
    )
    assert (contact.customer_id, contact.value, contact.raw_value) == (
        customer.pk,
        "+15125550142",
        "(512) 555-0142",
    )
    assert location.customer_id == customer.pk


def test_a_member_of_two_organisations_picks_one_of_theirs(staff_member, client_for):
    # given an owner of two organisations and a third organisation
    first, second, stranger = (factories.OrganizationFactory() for _ in range(3))
    client = client_for(staff_member(first, second, role=Membership.Role.OWNER))
    page = client.get(admin_url(Customer, "add"))

    # when they post without choosing, then with the second organisation
    refused = client.post(
        admin_url(Customer, "add"), {**customer_form(), **inline_management(page)}
    )
    created = client.post(
        admin_url(Customer, "add"),
        {**customer_form(organization=second.pk), **inline_management(page)},
    )
    stolen = client.post(
        admin_url(Customer, "add"),
        {**customer_form(organization=stranger.pk), **inline_management(page)},
    )

    # then only their own organisations are offered and accepted
    choices = page.context["adminform"].form.fields["organization"].queryset
    assert set(choices) == {first, second}
    assert refused.status_code == 200
    assert list(refused.context["adminform"].form.errors) == ["organization"]
    assert created.status_code == 302
    assert stolen.status_code == 200
    assert list(stolen.context["adminform"].form.errors) == ["organization"]
    assert list(Customer.objects.values_list("organization_id", flat=True)) == [second.pk]


def test_logins_tokens_and_organisation_settings_are_beyond_a_dispatcher(staff_member, client_for):
    # given a dispatcher of an organisation
    org = factories.OrganizationFactory(name="Acme Air")
    client = client_for(staff_member(org))

    # when they try the user admin, the token admin and their organisation's settings
    users = client.get(reverse("admin:accounts_user_changelist"))
    tokens = client.get(reverse("admin:accounts_apitoken_changelist"))
    organization_page = client.get(reverse("admin:accounts_organization_change", args=[org.pk]))
    organization_post = client.post(
        reverse("admin:accounts_organization_change", args=[org.pk]), {"name": "Renamed"}
    )

    # then users and tokens are refused; the organisation is visible read-only
    assert users.status_code == 403
    assert tokens.status_code == 403
    assert organization_page.status_code == 200
    assert organization_page.context["has_change_permission"] is False
    assert organization_post.status_code == 403
    assert Organization.objects.get(pk=org.pk).name == "Acme Air"


def test_staff_without_a_membership_sees_nothing(client_for):
    # given a staff login with no membership anywhere, and a customer
    factories.CustomerFactory()
    client = client_for(factories.UserFactory(is_staff=True))

    # when they open the admin index and the customers changelist
    index = client.get(reverse("admin:index"))
    customers = client.get(admin_url(Customer, "changelist"))

    # then no application is offered and the changelist is refused
    assert index.status_code == 200
    assert index.context["app_list"] == []
    assert customers.status_code == 403


def test_technicians_and_integrators_cannot_use_the_admin(staff_member, client_for):
    # given staff logins whose only roles are technician and integrator
    org = factories.OrganizationFactory()
    factories.CustomerFactory(organization=org)
    technician = staff_member(org, role=Membership.Role.TECHNICIAN)
    integrator = staff_member(org, role=Membership.Role.INTEGRATOR)

    # when each opens the customers changelist
    responses = [
        client_for(user).get(admin_url(Customer, "changelist")) for user in (technician, integrator)
    ]

    # then both are refused
    assert [r.status_code for r in responses] == [403, 403]


def test_every_tenant_admin_uses_the_tenant_base():
    from dispatchnode.accounts.admin_base import TenantAdmin

    assert [
        m._meta.label for m in TENANT_ADMINS if not isinstance(admin.site._registry[m], TenantAdmin)
    ] == []


def test_a_member_of_two_organisations_sees_a_column_and_filter_of_theirs_only(
    staff_member, client_for
):
    # given a dispatcher of two organisations, each with a customer, and a third organisation
    first, second = factories.OrganizationFactory(), factories.OrganizationFactory()
    stranger = factories.CustomerFactory()
    ours = [factories.CustomerFactory(organization=org) for org in (first, second)]
    client = client_for(staff_member(first, second))

    # when they open the customers changelist
    response = client.get(admin_url(Customer, "changelist"))

    # then both of their customers are listed, with an organisation filter naming only theirs
    changelist = response.context["cl"]
    assert {row.pk for row in changelist.result_list} == {c.pk for c in ours}
    assert "organization" in changelist.list_display
    (organization_filter,) = [
        spec for spec in changelist.filter_specs if spec.field_path == "organization"
    ]
    assert {pk for pk, _ in organization_filter.lookup_choices} == {first.pk, second.pk}
    assert stranger.organization.name not in response.content.decode()
