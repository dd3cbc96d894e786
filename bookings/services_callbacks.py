"""The callback queue: calls that ended unbooked with a "call back" action item, and hot leads.

A call that ended unbooked with a lead score of at least `HOT_LEAD_SCORE` is queued too, even
without a call-back item ("Hot lead (score 85) did not book: …"); the cooler ones enter the
nurture follow-ups instead (`bookings.followups.lead_unbooked_due`).

A `Callback` row is opened when a call ends (`bookings.voice.services.call_status_record` calls
`callback_open_for_call`), once per call. A dispatcher claims one (two claiming at once: the
row lock makes one win, the other gets a Conflict naming who has it) and closes it with an
outcome and a note.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import Callback, CallSession
from dispatchnode.accounts.models import User
from dispatchnode.core.errors import ApplicationError, Conflict

# Outcomes of a finished call that leave a lead to ring back (a booking does not).
UNBOOKED_OUTCOMES = frozenset({CallSession.Outcome.NO_BOOKING, CallSession.Outcome.TRANSFERRED})
_DECLINED = "declined a call back"
# A lead scoring at least this that did not book is rung back by the office within minutes.
HOT_LEAD_SCORE = 70


def callback_reason(action_items: list) -> str:
    """The call's first "call back" action item ("" if none). Items are the dialogue's
    sentences ("Call back Ana at …", "Listen to the voicemail and call back", "Call back: the
    caller did not book"); a dict item `{"kind": "call_back", "text": …}` counts too. A caller
    who declined a call back is not queued."""
    for item in action_items or []:
        if isinstance(item, dict):
            if item.get("kind") == "call_back":
                return str(item.get("text") or item.get("note") or "Call back")[:500]
            continue
        text = str(item)
        lowered = text.lower()
        if "call back" in lowered and _DECLINED not in lowered:
            return text[:500]
    return ""


def hot_lead_reason(call: CallSession) -> str:
    """Why a hot unbooked call is queued ("" when it is not hot or was a transfer)."""
    score = call.lead_score
    if call.outcome != CallSession.Outcome.NO_BOOKING or score is None or score < HOT_LEAD_SCORE:
        return ""
    about = (call.summary or call.outcome_reason or "no summary").strip()
    return f"Hot lead (score {score}) did not book: {about}"[:500]


def callback_open_for_call(call: CallSession) -> Callback | None:
    """Queue `call` for a call back when it ended unbooked with a call-back action item.
    Idempotent (status callbacks repeat): the existing row is returned, never reopened."""
    if call.outcome not in UNBOOKED_OUTCOMES or call.ended_at is None:
        return None
    reason = callback_reason(call.action_items) or hot_lead_reason(call)
    if not reason:
        return None
    existing = Callback.objects.filter(organization_id=call.organization_id, call=call).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Callback.objects.create(
                organization_id=call.organization_id, call=call, reason=reason
            )
    except IntegrityError:  # a concurrent status callback opened it first
        return Callback.objects.get(organization_id=call.organization_id, call=call)


def _locked(callback: Callback) -> Callback:
    return (
        Callback.objects.select_for_update(of=("self",))
        .select_related("claimed_by")
        .get(organization_id=callback.organization_id, pk=callback.pk)
    )


@transaction.atomic
def callback_claim(*, callback: Callback, actor: User) -> Callback:
    """`actor` takes the call back. Claiming one's own claim again is a no-op; a call back
    someone else holds, or one already closed, is a Conflict that says so."""
    callback = _locked(callback)
    if callback.status == Callback.Status.CLOSED:
        raise Conflict("This call back is already closed.", code="callback_closed")
    if callback.status == Callback.Status.CLAIMED:
        if callback.claimed_by_id == actor.pk:
            return callback
        who = callback.claimed_by.display_name if callback.claimed_by else "someone else"
        raise Conflict(f"{who} already has this call back.", code="callback_claimed")
    callback.status = Callback.Status.CLAIMED
    callback.claimed_by = actor
    callback.claimed_at = timezone.now()
    callback.save(update_fields=["status", "claimed_by", "claimed_at", "updated_at"])
    return callback


@transaction.atomic
def callback_close(*, callback: Callback, actor: User, outcome: str, note: str = "") -> Callback:
    """Close the call back with what happened. An open one is claimed by `actor` as it closes;
    one held by someone else, or already closed, is a Conflict."""
    if outcome not in Callback.Outcome.values:
        raise ApplicationError("Choose what happened on the call back.", code="callback_outcome")
    note = (note or "").strip()
    if outcome == Callback.Outcome.OTHER and not note:
        raise ApplicationError("Say what happened in the note.", code="callback_note")
    callback = _locked(callback)
    if callback.status == Callback.Status.CLOSED:
        raise Conflict("This call back is already closed.", code="callback_closed")
    if callback.status == Callback.Status.CLAIMED and callback.claimed_by_id != actor.pk:
        who = callback.claimed_by.display_name if callback.claimed_by else "someone else"
        raise Conflict(
            f"{who} has this call back; only they can close it.", code="callback_claimed"
        )
    now = timezone.now()
    if callback.claimed_by_id is None:
        callback.claimed_by, callback.claimed_at = actor, now
    callback.status = Callback.Status.CLOSED
    callback.closed_at = now
    callback.outcome = outcome
    callback.note = note[:2000]
    callback.save()
    return callback
