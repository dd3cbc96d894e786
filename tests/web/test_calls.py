"""The calls pages: today's calls, one call's transcript, and the callback queue."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from bookings.models import Callback, CallSession
from bookings.services_callbacks import callback_claim, callback_open_for_call
from bookings.voice.services import call_status_record
from dispatchnode.accounts.models import Membership
from dispatchnode.core.errors import Conflict
from tests import factories
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db

CALL_BACK = "Call back Ana at +15125550142: wants AC repair; no offered time suited them"


def _call(org, **kwargs):
    defaults = {"outcome": CallSession.Outcome.BOOKED, "summary": "Booked an AC repair."}
    return factories.CallSessionFactory(organization=org, **{**defaults, **kwargs})


def _unbooked(org, *, score=40, **kwargs):
    call = _call(
        org,
        outcome=CallSession.Outcome.NO_BOOKING,
        action_items=[CALL_BACK],
        lead_score=score,
        ended_at=timezone.now(),
        **kwargs,
    )
    return callback_open_for_call(call)


# --- today's calls -----------------------------------------------------------------------------


def test_the_calls_list_shows_todays_calls_in_progress_first(org, office_client):
    customer = factories.CustomerFactory(organization=org, first_name="Ana", last_name="Reyes")
    _call(org, customer=customer, lead_score=72, summary="Ana asked for an AC repair.")
    _call(org, outcome="", summary="Caller describing a leak.", from_number="+15125550177")
    old = _call(org, summary="A call from two days ago.")
    CallSession.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=2))

    page = office_client.get("/dashboard/calls/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Ana Reyes" in html
    assert "Ana asked for an AC repair." in html
    assert ">72<" in html
    assert html.index("Caller describing a leak.") < html.index("Ana asked for an AC repair.")
    assert "In progress (1)" in html
    assert "Finished today (1)" in html
    assert "two days ago" not in html


def test_the_calls_list_says_what_to_expect_when_empty(office_client):
    html = office_client.get("/dashboard/calls/").content.decode()
    assert "No call is in progress" in html
    assert "No finished calls yet today" in html


def test_times_are_in_the_organisations_timezone(org, office_client):
    call = _call(org)
    at = dt.datetime(2026, 12, 7, 15, 30, tzinfo=dt.UTC)  # 9:30 AM in Chicago
    CallSession.objects.filter(pk=call.pk).update(created_at=at)
    html = office_client.get(f"/dashboard/calls/{call.pk}/").content.decode()
    assert "9:30 AM" in html


def test_a_call_page_shows_the_transcript_in_order_recording_and_action_items(org, office_client):
    call = _call(
        org,
        recording_url="https://api.twilio.com/recordings/RE1",
        action_items=["Call back: the caller did not book"],
    )
    factories.CallTurnFactory(call=call, sequence=2, heard="Tomorrow morning", said="Booked.")
    factories.CallTurnFactory(call=call, sequence=1, heard="My AC is out", said="When suits?")

    html = office_client.get(f"/dashboard/calls/{call.pk}/").content.decode()

    assert html.index("My AC is out") < html.index("When suits?") < html.index("Tomorrow morning")
    assert 'href="https://api.twilio.com/recordings/RE1"' in html
    assert "Call back: the caller did not book" in html


def test_a_call_of_another_organisation_is_a_404_like_a_missing_one(org, other_org, office_client):
    theirs = _call(other_org)
    other = office_client.get(f"/dashboard/calls/{theirs.pk}/")
    missing = office_client.get("/dashboard/calls/999999/")
    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content


def test_a_technician_is_refused_the_calls_pages(org, tech_client):
    call = _call(org)
    assert tech_client.get("/dashboard/calls/").status_code == 403
    assert tech_client.get(f"/dashboard/calls/{call.pk}/").status_code == 403
    assert tech_client.get("/dashboard/callbacks/").status_code == 403


@pytest.mark.parametrize("rows", [3, 30])
def test_the_calls_list_costs_the_same_queries_for_3_or_30_calls(
    org, office_client, django_assert_max_num_queries, rows
):
    for n in range(rows):
        customer = factories.CustomerFactory(organization=org)
        _unbooked(org, customer=customer, score=n)
    office_client.get("/dashboard/calls/")  # warm the session
    with django_assert_max_num_queries(8):
        assert office_client.get("/dashboard/calls/").status_code == 200


# --- the callback queue opens at the end of a call --------------------------------------------


def _end(call):
    return call_status_record(
        organization=call.organization,
        call_sid=call.call_sid,
        status="completed",
        duration="95",
        from_number=call.from_number,
        to_number=call.to_number,
    )


def test_a_call_ending_unbooked_with_a_call_back_item_opens_one_call_back(org):
    call = factories.CallSessionFactory(organization=org, action_items=[CALL_BACK])
    _end(call)
    _end(call)  # Twilio repeats status callbacks
    callback = Callback.objects.get(call=call)
    assert callback.status == Callback.Status.OPEN
    assert callback.reason == CALL_BACK
    call.refresh_from_db()
    assert call.outcome == CallSession.Outcome.NO_BOOKING


@pytest.mark.parametrize(
    ("outcome", "items"),
    [
        (CallSession.Outcome.BOOKED, [CALL_BACK]),
        (
            CallSession.Outcome.NO_BOOKING,
            ["Ana wanted AC repair but booked no time (declined a call back)"],
        ),
        (CallSession.Outcome.NO_BOOKING, []),
    ],
)
def test_no_call_back_for_a_booking_a_declined_offer_or_no_item(org, outcome, items):
    call = factories.CallSessionFactory(organization=org, outcome=outcome, action_items=items)
    _end(call)
    assert not Callback.objects.filter(call=call).exists()


def test_a_transferred_call_with_a_call_back_item_is_queued(org):
    call = factories.CallSessionFactory(
        organization=org,
        outcome=CallSession.Outcome.TRANSFERRED,
        action_items=[{"kind": "call_back", "text": "Ring back about the quote"}],
    )
    _end(call)
    assert Callback.objects.get(call=call).reason == "Ring back about the quote"


# --- the queue page, claiming and closing -------------------------------------------------------


def test_the_queue_lists_leads_hottest_first_with_what_they_wanted(org, office_client):
    warm = _unbooked(
        org,
        score=30,
        customer=factories.CustomerFactory(organization=org, first_name="Warm", last_name="Lead"),
    )
    hot = _unbooked(
        org,
        score=85,
        customer=factories.CustomerFactory(organization=org, first_name="Hot", last_name="Lead"),
    )
    cold = _unbooked(org, score=None)
    html = office_client.get("/dashboard/callbacks/").content.decode()
    assert html.index(f'id="callback-{hot.pk}"') < html.index(f'id="callback-{warm.pk}"')
    assert html.index(f'id="callback-{warm.pk}"') < html.index(f'id="callback-{cold.pk}"')
    assert "Hot Lead" in html
    assert "(512) 555-0142" in html
    assert "wants AC repair" in html


def test_the_queue_says_so_when_empty(office_client):
    assert (
        b"No one is waiting for a call back" in office_client.get("/dashboard/callbacks/").content
    )


def test_a_claimed_call_back_shows_who_has_it_and_a_second_claim_is_told(
    org, office_client, dispatcher
):
    callback = _unbooked(org)
    response = office_client.post(f"/dashboard/callbacks/{callback.pk}/claim/", follow=True)
    assert b"The call back is yours" in response.content
    assert b"You have this one" in response.content

    other = factories.MembershipFactory(organization=org, role=Membership.Role.DISPATCHER).user
    other.first_name, other.last_name = "Sam", "Other"
    other.save()
    second = signed_in(other).post(f"/dashboard/callbacks/{callback.pk}/claim/", follow=True)
    html = second.content.decode()
    assert f"{dispatcher.display_name} already has this call back." in html
    assert f"{dispatcher.display_name} has this one" in html
    callback.refresh_from_db()
    assert callback.claimed_by == dispatcher


def test_closing_records_the_outcome_and_note_and_leaves_the_queue(org, office_client, dispatcher):
    callback = _unbooked(org)
    office_client.post(f"/dashboard/callbacks/{callback.pk}/claim/")
    response = office_client.post(
        f"/dashboard/callbacks/{callback.pk}/close/",
        {"outcome": "booked", "note": "Booked Thursday 9am"},
        follow=True,
    )
    callback.refresh_from_db()
    assert callback.status == Callback.Status.CLOSED
    assert callback.outcome == "booked"
    assert callback.note == "Booked Thursday 9am"
    assert callback.closed_at is not None
    html = response.content.decode()
    assert "Call back closed." in html
    assert "Closed today (1)" in html
    assert f'id="callback-{callback.pk}"' not in html


def test_closing_needs_an_outcome_and_other_needs_a_note(org, office_client):
    callback = _unbooked(org)
    bad = office_client.post(
        f"/dashboard/callbacks/{callback.pk}/close/", {"outcome": ""}, follow=True
    )
    assert b"Choose what happened on the call back." in bad.content
    other = office_client.post(
        f"/dashboard/callbacks/{callback.pk}/close/", {"outcome": "other"}, follow=True
    )
    assert b"Say what happened in the note." in other.content
    callback.refresh_from_db()
    assert callback.status == Callback.Status.OPEN


def test_someone_elses_claim_cannot_be_closed(org, office_client):
    callback = _unbooked(org)
    other = factories.MembershipFactory(organization=org, role=Membership.Role.DISPATCHER).user
    callback_claim(callback=callback, actor=other)
    response = office_client.post(
        f"/dashboard/callbacks/{callback.pk}/close/", {"outcome": "no_answer"}, follow=True
    )
    assert b"only they can close it" in response.content
    callback.refresh_from_db()
    assert callback.status == Callback.Status.CLAIMED


def test_another_organisations_call_back_is_a_404_like_a_missing_one(other_org, office_client):
    theirs = _unbooked(other_org)
    for action in ("claim", "close"):
        other = office_client.post(
            f"/dashboard/callbacks/{theirs.pk}/{action}/", {"outcome": "booked"}
        )
        missing = office_client.post(
            f"/dashboard/callbacks/999999/{action}/", {"outcome": "booked"}
        )
        assert other.status_code == missing.status_code == 404
        assert other.content == missing.content
    theirs.refresh_from_db()
    assert theirs.status == Callback.Status.OPEN


@pytest.mark.parametrize("rows", [3, 30])
def test_the_queue_costs_the_same_queries_for_3_or_30(
    org, office_client, dispatcher, django_assert_max_num_queries, rows
):
    for n in range(rows):
        callback = _unbooked(org, score=n, customer=factories.CustomerFactory(organization=org))
        if n % 3 == 0:
            callback_claim(callback=callback, actor=dispatcher)
    office_client.get("/dashboard/callbacks/")
    with django_assert_max_num_queries(8):
        assert office_client.get("/dashboard/callbacks/").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_dispatchers_claiming_at_once_one_wins_the_other_is_told():
    org = factories.OrganizationFactory()
    callback = _unbooked(org)
    users = [
        factories.MembershipFactory(organization=org, role=Membership.Role.DISPATCHER).user
        for _ in range(2)
    ]
    barrier = threading.Barrier(2)
    results: list[object] = []

    def claim(user):
        try:
            barrier.wait(timeout=10)
            results.append(callback_claim(callback=callback, actor=user).claimed_by_id)
        except Conflict as error:
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert "already has this call back" in str(losers[0])
    callback.refresh_from_db()
    assert callback.claimed_by_id == winners[0]
