"""A hot unbooked call becomes a call back for the office at call end, even without a
"call back" action item; a cool one does not (it is nurtured by the follow-ups instead)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bookings.models import Callback
from bookings.services_callbacks import callback_open_for_call
from tests import factories


def _call(**kwargs):
    return factories.CallSessionFactory(ended_at=timezone.now(), action_items=[], **kwargs)


@pytest.mark.django_db
def test_a_hot_unbooked_call_is_queued_with_its_score_and_summary():
    # given a call that scored 85 and ended without a booking or a call-back item
    call = _call(outcome="no_booking", lead_score=85, summary="AC out, wants a quote today")

    # when the call ends
    callback = callback_open_for_call(call)
    again = callback_open_for_call(call)  # a repeated status callback

    # then one open call back, with why
    assert callback is not None
    assert again.pk == callback.pk
    assert Callback.objects.count() == 1
    assert callback.status == Callback.Status.OPEN
    assert callback.reason == "Hot lead (score 85) did not book: AC out, wants a quote today"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("outcome", "score"),
    [("no_booking", 69), ("no_booking", None), ("booked", 95), ("transferred", 90)],
)
def test_a_cool_booked_or_transferred_call_without_an_item_is_not_queued(outcome, score):
    call = _call(outcome=outcome, lead_score=score)

    assert callback_open_for_call(call) is None
    assert not Callback.objects.exists()


@pytest.mark.django_db
def test_a_call_back_item_wins_over_the_hot_lead_reason():
    call = factories.CallSessionFactory(
        ended_at=timezone.now(),
        outcome="no_booking",
        lead_score=90,
        action_items=["Call back Ana at 4pm"],
    )

    assert callback_open_for_call(call).reason == "Call back Ana at 4pm"
