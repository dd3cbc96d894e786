"""Merging customers re-points everything they own; undo puts every row and value back."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from bookings.models import Appointment, CallSession, Job
from customers import selectors
from customers.merge import customer_merge, customer_unmerge
from customers.models import (
    ContactPoint,
    Customer,
    CustomerMerge,
    CustomerNote,
    Equipment,
    Message,
    ServiceLocation,
)
from dispatchnode.accounts.models import Membership
from dispatchnode.core.errors import Conflict, NotFound
from dispatchnode.core.models import OutboxEvent
from invoicing.models import Invoice, Payment
from tests import factories

ROW_MODELS = (
    ContactPoint,
    ServiceLocation,
    Equipment,
    CustomerNote,
    Message,
    Job,
    Appointment,
    CallSession,
    Invoice,
    Payment,
)


def dump() -> dict[str, list[dict]]:
    """Every row of every model a customer owns, directly or through a parent."""
    rows = {m._meta.label: list(m.objects.order_by("pk").values()) for m in ROW_MODELS}
    rows["customers"] = list(Customer.objects.order_by("pk").values())
    return rows


def without_updated_at(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "updated_at"} for row in rows]


def _contact(customer, value, kind=ContactPoint.Kind.PHONE, **fields):
    return factories.ContactPointFactory(customer=customer, kind=kind, value=value, **fields)


@pytest.fixture
def pair(org):
    """William (the survivor) and Bill (his duplicate, who owns everything)."""
    survivor = factories.CustomerFactory(
        organization=org,
        first_name="William",
        last_name="Jenkins",
        tags=["vip"],
        lead_status="lead",
    )
    duplicate = factories.CustomerFactory(
        organization=org,
        first_name="Bill",
        last_name="Jenkins",
        company_name="Jenkins Rentals",
        tags=["rental", "vip"],
        lead_status="active",
        do_not_service=True,
        do_not_service_reason="Aggressive dog",
    )
    rows = {
        "survivor_phone": _contact(survivor, "+15125550177", is_primary=True),
        "survivor_home": factories.ServiceLocationFactory(customer=survivor, is_primary=True),
        # the same number on both: it cannot move, its opt-out must reach the survivor's copy
        "shared_phone": _contact(duplicate, "+15125550177", is_primary=False, sms_opt_out=True),
        "own_phone": _contact(duplicate, "+15125550178", is_primary=True),
        "email": _contact(
            duplicate,
            "bill@example.com",
            kind=ContactPoint.Kind.EMAIL,
            is_primary=True,
            email_opt_out=True,
        ),
        "home": factories.ServiceLocationFactory(customer=duplicate, is_primary=True),
        "rental": factories.ServiceLocationFactory(customer=duplicate, is_primary=False),
        "note": factories.CustomerNoteFactory(customer=duplicate),
        "message": factories.MessageFactory(customer=duplicate),
    }
    rows["furnace"] = factories.EquipmentFactory(location=rows["home"], kind="furnace")
    rows["heater"] = factories.EquipmentFactory(location=rows["rental"], kind="water_heater")
    rows["job"] = factories.JobFactory(organization=org, customer=duplicate, location=rows["home"])
    rows["appointment"] = factories.AppointmentFactory(organization=org, job=rows["job"])
    rows["call"] = factories.CallSessionFactory(
        organization=org, customer=duplicate, job=rows["job"]
    )
    rows["invoice"] = factories.InvoiceFactory(
        organization=org, customer=duplicate, job=rows["job"]
    )
    rows["payment"] = factories.PaymentFactory(invoice=rows["invoice"])
    return survivor, duplicate, rows


def test_merge_moves_every_row_and_undo_restores_the_exact_previous_state(org, pair):
    # given
    survivor, duplicate, rows = pair
    before = dump()

    # when
    merge = customer_merge(
        survivor=survivor, duplicate=duplicate, probability=0.91, evidence={"blocks": ["phone"]}
    )

    # then: everything the duplicate owned points at the survivor, except the shared number
    def owner(row):
        return type(row).objects.values_list("customer_id", flat=True).get(pk=row.pk)

    for name in ("own_phone", "email", "home", "rental", "note", "message", "job", "call"):
        assert owner(rows[name]) == survivor.pk, name
    assert owner(rows["invoice"]) == survivor.pk
    assert owner(rows["shared_phone"]) == duplicate.pk
    # rows hanging off jobs, locations and invoices follow their parents
    assert Appointment.objects.get(pk=rows["appointment"].pk).job.customer_id == survivor.pk
    assert Payment.objects.get(pk=rows["payment"].pk).invoice.customer_id == survivor.pk
    assert {e.location.customer_id for e in Equipment.objects.all()} == {survivor.pk}
    # the survivor's kept number is now opted out; its primaries stay the only primaries
    survivor_phone = ContactPoint.objects.get(pk=rows["survivor_phone"].pk)
    assert (survivor_phone.sms_opt_out, survivor_phone.is_primary) == (True, True)
    assert ContactPoint.objects.get(pk=rows["own_phone"].pk).is_primary is False
    assert ContactPoint.objects.get(pk=rows["email"].pk).is_primary is True  # first email
    assert ServiceLocation.objects.get(pk=rows["home"].pk).is_primary is False
    # the survivor's fields: blanks filled, do-not-service wins, tags unioned, active wins
    survivor.refresh_from_db()
    assert (survivor.first_name, survivor.company_name) == ("William", "Jenkins Rentals")
    assert (survivor.do_not_service, survivor.do_not_service_reason) == (True, "Aggressive dog")
    assert (survivor.tags, survivor.lead_status) == (["vip", "rental"], "active")
    # the duplicate is hidden from lists and lookups, but kept
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk
    assert list(selectors.customer_list(organization=org)) == [survivor]
    everyone = Customer.objects.filter(organization=org)
    assert list(selectors.customers_with_phone(everyone, e164="+15125550177")) == [survivor]
    assert list(selectors.customers_search(everyone, text="Jenkins")) == [survivor]
    # the record and its event
    assert (merge.source, merge.probability, merge.evidence) == (
        "manual",
        Decimal("0.910"),
        {"blocks": ["phone"]},
    )
    event = OutboxEvent.objects.get(topic="customer.merged")
    assert (event.aggregate_type, event.aggregate_id) == ("customers.customer", str(survivor.pk))
    assert event.payload == {
        "merge_id": merge.pk,
        "survivor_id": survivor.pk,
        "duplicate_id": duplicate.pk,
        "moved": {
            "customers.contactpoint": 2,
            "customers.servicelocation": 2,
            "customers.customernote": 1,
            "customers.message": 1,
            "bookings.job": 1,
            "bookings.callsession": 1,
            "invoicing.invoice": 1,
        },
    }

    # when
    restored = customer_unmerge(merge=merge)

    # then: every row is exactly as before; the two customers differ only in updated_at
    after = dump()
    assert restored == duplicate
    for label in before:
        if label == "customers":
            assert without_updated_at(after[label]) == without_updated_at(before[label])
        else:
            assert after[label] == before[label], label
    merge.refresh_from_db()
    assert merge.undone_at is not None
    assert merge.snapshot["undo"] == {"restored": event.payload["moved"], "missing": {}}
    unmerged = OutboxEvent.objects.get(topic="customer.unmerged")
    assert unmerged.payload == {
        "merge_id": merge.pk,
        "survivor_id": survivor.pk,
        "duplicate_id": duplicate.pk,
        "moved": event.payload["moved"],
        "missing": {},
    }
    assert set(selectors.customer_list(organization=org)) == {survivor, duplicate}


def test_undo_keeps_what_happened_since_and_reports_what_is_gone(org, pair):
    # given a merge, then a new note on the survivor, a moved note deleted, a company renamed
    survivor, duplicate, rows = pair
    merge = customer_merge(survivor=survivor, duplicate=duplicate)
    new_note = factories.CustomerNoteFactory(customer=survivor, body="Call before coming")
    CustomerNote.objects.filter(pk=rows["note"].pk).delete()
    Customer.objects.filter(pk=survivor.pk).update(company_name="Jenkins Holdings")

    # when
    customer_unmerge(merge=merge)

    # then
    assert CustomerNote.objects.get(pk=new_note.pk).customer_id == survivor.pk
    assert Message.objects.get(pk=rows["message"].pk).customer_id == duplicate.pk
    survivor.refresh_from_db()
    assert survivor.company_name == "Jenkins Holdings"  # edited since: kept
    assert (survivor.do_not_service, survivor.tags) == (False, ["vip"])  # restored
    merge.refresh_from_db()
    assert merge.snapshot["undo"]["missing"] == {"customers.customernote": [rows["note"].pk]}
    assert OutboxEvent.objects.get(topic="customer.unmerged").payload["missing"] == {
        "customers.customernote": [rows["note"].pk]
    }


def _state(org):
    return (
        list(Customer.objects.filter(organization=org).values("pk", "merged_into_id", "tags")),
        CustomerMerge.objects.count(),
        OutboxEvent.objects.count(),
    )


@pytest.mark.parametrize("case", ["same", "already_merged", "survivor_merged_away"])
def test_refused_merges_are_conflicts_and_change_nothing(org, case):
    # given
    a, b, c = (factories.CustomerFactory(organization=org) for _ in range(3))
    customer_merge(survivor=c, duplicate=b)
    survivor, duplicate = {
        "same": (a, a),
        "already_merged": (a, b),
        "survivor_merged_away": (b, a),
    }[case]
    before = _state(org)

    # when
    with pytest.raises(Conflict) as refused:
        customer_merge(survivor=survivor, duplicate=duplicate)

    # then
    assert (
        refused.value.code
        == {
            "same": "merge_same_customer",
            "already_merged": "merge_already_merged",
            "survivor_merged_away": "merge_survivor_merged",
        }[case]
    )
    assert _state(org) == before


def test_another_organisations_customer_is_not_found(org, other_org):
    # given
    ours = factories.CustomerFactory(organization=org)
    theirs = factories.CustomerFactory(organization=other_org)
    factories.JobFactory(organization=other_org, customer=theirs)

    # when
    with pytest.raises(NotFound):
        customer_merge(survivor=ours, duplicate=theirs)

    # then
    assert Job.objects.get().customer_id == theirs.pk
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0
    assert CustomerMerge.objects.count() == 0


def test_undo_twice_is_a_conflict_and_a_later_merge_must_be_undone_first(org):
    # given A merged into B, then B into C
    a, b, c = (factories.CustomerFactory(organization=org) for _ in range(3))
    note = factories.CustomerNoteFactory(customer=a)
    first = customer_merge(survivor=b, duplicate=a)
    second = customer_merge(survivor=c, duplicate=b)
    assert CustomerNote.objects.get(pk=note.pk).customer_id == c.pk

    # when undoing the first while the second stands
    with pytest.raises(Conflict) as refused:
        customer_unmerge(merge=first)

    # then it is refused with the way out
    assert refused.value.code == "merge_undo_later_first"
    assert "undo that later merge first" in refused.value.message

    # when undoing in the right order, then again
    customer_unmerge(merge=second)
    customer_unmerge(merge=first)
    with pytest.raises(Conflict) as twice:
        customer_unmerge(merge=first)

    # then
    assert twice.value.code == "merge_already_undone"
    assert CustomerNote.objects.get(pk=note.pk).customer_id == a.pk
    assert list(Customer.objects.filter(merged_into__isnull=False)) == []


@pytest.fixture
def dispatcher_client(org):
    user = factories.UserFactory(is_staff=True)
    factories.MembershipFactory(organization=org, user=user, role=Membership.Role.DISPATCHER)
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_add_page_merges_and_the_undo_action_reverses(dispatcher_client, org):
    # given a dispatcher and two customers
    survivor = factories.CustomerFactory(organization=org)
    duplicate = factories.CustomerFactory(organization=org)
    note = factories.CustomerNoteFactory(customer=duplicate)
    client = dispatcher_client

    # when they merge through the add page
    response = client.post(
        reverse("admin:customers_customermerge_add"),
        {"survivor": survivor.pk, "duplicate": duplicate.pk},
    )

    # then
    merge = CustomerMerge.objects.get()
    assert response.status_code == 302
    assert (merge.survivor, merge.duplicate) == (survivor, duplicate)
    assert CustomerNote.objects.get(pk=note.pk).customer_id == survivor.pk
    page = client.get(reverse("admin:customers_customermerge_change", args=[merge.pk]))
    assert page.status_code == 200
    assert "customernote: 1" in page.content.decode()

    # when merging the same duplicate again, then the form says why
    again = client.post(
        reverse("admin:customers_customermerge_add"),
        {"survivor": survivor.pk, "duplicate": duplicate.pk},
    )
    assert again.status_code == 200
    assert f"Customer #{duplicate.pk} is already merged" in again.content.decode()

    # when they undo it from the changelist
    undo = client.post(
        reverse("admin:customers_customermerge_changelist"),
        {"action": "undo_merge", "_selected_action": [merge.pk]},
        follow=True,
    )

    # then
    assert "Undid 1 merge(s)." in [str(m) for m in undo.context["messages"]]
    assert CustomerNote.objects.get(pk=note.pk).customer_id == duplicate.pk
    merge.refresh_from_db()
    assert merge.undone_at is not None


# --- PostgreSQL: A into B and B into A at the same moment -----------------------------------


def merge_both_ways_at_once(a: Customer, b: Customer) -> list[object]:
    """B into A and A into B from two threads (two connections) released together; each
    outcome is the merge or the exception raised."""
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def run(i: int, survivor: Customer, duplicate: Customer) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[i] = customer_merge(survivor=survivor, duplicate=duplicate)
        except Exception as exc:  # the outcome under test
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(0, a, b)),
        threading.Thread(target=run, args=(1, b, a)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a merge hung"
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_opposite_merges_one_wins_the_other_is_a_clean_conflict():
    # given eight pairs, each customer with a note
    org = factories.OrganizationFactory()
    pairs = [
        (factories.CustomerFactory(organization=org), factories.CustomerFactory(organization=org))
        for _ in range(8)
    ]
    for a, b in pairs:
        factories.CustomerNoteFactory(customer=a)
        factories.CustomerNoteFactory(customer=b)

    for a, b in pairs:
        # when both directions race
        outcomes = merge_both_ways_at_once(a, b)

        # then exactly one merge, one clean Conflict, and no cycle
        merges = [o for o in outcomes if isinstance(o, CustomerMerge)]
        conflicts = [o for o in outcomes if isinstance(o, Conflict)]
        assert (len(merges), len(conflicts)) == (1, 1), outcomes
        (merge,) = merges
        assert conflicts[0].code == "merge_survivor_merged"
        links = dict(Customer.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "merged_into"))
        assert links == {merge.duplicate_id: merge.survivor_id, merge.survivor_id: None}
        owners = CustomerNote.objects.filter(customer__in=[a, b]).values_list(
            "customer_id", flat=True
        )
        assert set(owners) == {merge.survivor_id}


def test_a_name_filled_by_a_merge_refreshes_the_matchers_name_key_and_undo_restores_it(org):
    from customers.intake import customer_refresh_name_key

    survivor = factories.CustomerFactory(
        organization=org, first_name="", last_name="", company_name="Oak Rentals"
    )
    customer_refresh_name_key(survivor)
    survivor.save()
    duplicate = factories.CustomerFactory(organization=org, first_name="Ann", last_name="Smyth")
    company_key = survivor.name_key

    merge = customer_merge(survivor=survivor, duplicate=duplicate)

    survivor.refresh_from_db()
    assert (survivor.last_name, survivor.name_key) == ("Smyth", "SM0")
    customer_unmerge(merge=merge)
    survivor.refresh_from_db()
    assert (survivor.last_name, survivor.name_key) == ("", company_key)
