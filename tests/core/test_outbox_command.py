"""`manage.py outbox status|replay|backfill`, as an operator runs it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dispatchnode.core.models import OutboxDelivery
from dispatchnode.core.outbox import outbox_emit, outbox_relay_run
from tests import factories


def run(*args) -> str:
    out = StringIO()
    call_command("outbox", *args, stdout=out)
    return out.getvalue()


def test_replay_puts_back_only_the_chosen_dead_deliveries(
    org, other_org, outbox_handlers, not_eager
):
    # given dead deliveries of two subscribers here and one at another organisation
    fixed = {"yes": False}

    def flaky(event):
        if not fixed["yes"]:
            raise ValueError("mapping missing")

    outbox_handlers("t.a", key="crm")(flaky)
    outbox_handlers("t.a", key="books")(flaky)
    outbox_emit(organization=org, topic="t.a")
    outbox_emit(organization=other_org, topic="t.a")
    outbox_relay_run(time_budget=30)
    fixed["yes"] = True

    # when the operator replays this organisation's crm deliveries and the relay runs
    said = run("replay", "--organization", org.slug, "--subscriber", "crm")
    outbox_relay_run(time_budget=30)

    # then exactly that one was delivered; the rest stay dead
    assert said.strip() == "Replayed 1 dead deliveries."
    assert sorted(
        OutboxDelivery.objects.values_list("organization_id", "subscriber", "status")
    ) == sorted(
        [
            (org.pk, "crm", "delivered"),
            (org.pk, "books", "dead"),
            (other_org.pk, "crm", "dead"),
            (other_org.pk, "books", "dead"),
        ]
    )
    assert run("status").splitlines() == [
        f"{'books':<32} {'dead':<10} {2:>8}",
        f"{'crm':<32} {'dead':<10} {1:>8}",
        f"{'crm':<32} {'delivered':<10} {1:>8}",
        "Events with no subscriber (unrouted): 0",
    ]


def test_backfill_gives_a_new_subscriber_the_backlog(org, outbox_handlers, not_eager):
    # given four events nobody received, then a subscriber added
    events = [
        outbox_emit(organization=org, topic="job.created", payload={"n": n}) for n in range(4)
    ]
    seen = []
    outbox_handlers("job.created", key="crm.new")(lambda event: seen.append(event.payload["n"]))

    # when it is backfilled from the start and the relay runs
    said = run("backfill", "crm.new", "--organization", org.slug)
    outbox_relay_run(time_budget=30)

    # then it received all four, in order
    assert said.splitlines()[-1] == f"Backfilled 4 deliveries to crm.new; cursor {events[-1].pk}."
    assert seen == [0, 1, 2, 3]


def test_backfill_refuses_an_unknown_subscriber_or_organisation(org):
    with pytest.raises(CommandError, match="No subscriber named 'nobody'"):
        run("backfill", "nobody", "--organization", org.slug)
    factories.OrganizationFactory(slug="real")
    with pytest.raises(CommandError, match="No organisation with the slug 'missing'"):
        run("replay", "--organization", "missing")
