"""What a call leaves behind for the office: a one-paragraph summary, the action items, and a
lead score. Recomputed after every turn and when the call ends, from the call row and its
working memory only (no queries beyond the rows already loaded), so a call that is cut off
mid-sentence still has an up-to-date summary.

Lead score (0-100), for sorting the calls worth a callback:
- what the caller wanted: emergency 35, booking 25, a price 10, reschedule 10, billing 5, cancel 0;
- what the work is worth: installation 25, estimate/inspection 15, repair 15, emergency 15,
  maintenance 10;
- urgency: +15 for an emergency;
- how far it got: booked +25; a person took it over +10;
- a new customer +5.
"""

from __future__ import annotations

from bookings.models import CallSession, ServiceType
from bookings.voice.dialogue.memory import DialogueMemory

INTENT_POINTS = {
    "emergency": 35,
    "book": 25,
    "price": 10,
    "reschedule": 10,
    "billing": 5,
    "cancel": 0,
}
KIND_POINTS = {
    ServiceType.Kind.INSTALLATION: 25,
    ServiceType.Kind.INSPECTION: 15,
    ServiceType.Kind.REPAIR: 15,
    ServiceType.Kind.EMERGENCY: 15,
    ServiceType.Kind.MAINTENANCE: 10,
}
_FOLLOW_UP = {
    CallSession.Outcome.TRANSFERRED: "Make sure the transferred caller was answered",
    CallSession.Outcome.NO_BOOKING: "Call back: the caller did not book",
}


def call_wrap_up(call: CallSession, *, service: ServiceType | None = None) -> None:
    """Refresh `summary`, `action_items` and `lead_score` on `call` (not saved)."""
    memory = DialogueMemory.from_dict(call.context.get("dialogue"))
    wanted = _wanted(call, memory)
    call.summary = _summary(call, memory, service=service)[:2000]
    call.lead_score = _lead_score(call, memory, wanted=wanted, service=service)
    follow_up = _FOLLOW_UP.get(call.outcome)
    if follow_up and wanted in ("emergency", "book") and follow_up not in call.action_items:
        call.action_items = [*call.action_items, follow_up]


def _wanted(call: CallSession, memory: DialogueMemory) -> str:
    if memory.emergency or call.priority == "emergency":
        return "emergency"
    if memory.mode == "reschedule":
        return "reschedule"
    if call.outcome == CallSession.Outcome.CANCELLED:
        return "cancel"
    if memory.service_type_id:
        return "book"
    return memory.wanted


def _lead_score(
    call: CallSession, memory: DialogueMemory, *, wanted: str, service: ServiceType | None
) -> int:
    score = INTENT_POINTS.get(wanted, 0)
    if service is not None:
        score += KIND_POINTS.get(service.kind, 10)
    if wanted == "emergency":
        score += 15
    if call.outcome in (CallSession.Outcome.BOOKED, CallSession.Outcome.RESCHEDULED):
        score += 25
    elif call.outcome == CallSession.Outcome.TRANSFERRED:
        score += 10
    if call.new_customer:
        score += 5
    return max(0, min(100, score))


def _summary(call: CallSession, memory: DialogueMemory, *, service: ServiceType | None) -> str:
    who = _who(call, memory)
    parts = [who]
    if memory.emergency:
        parts.append(f"reported an emergency ({memory.emergency.replace('_', ' ')})")
    elif service is not None:
        parts.append(f"asked for {service.name}")
    description = memory.description
    if description:
        parts[-1] += f': "{description[:200]}"'
    if memory.prices_said:
        parts.append(f"{'and ' if len(parts) > 1 else ''}asked about prices")
        parts[-1] += f" ({'; '.join(memory.prices_said)})"
    sentence = " ".join(parts) + "."
    if call.outcome_reason:
        outcome = call.get_outcome_display() if call.outcome else "In progress"
        sentence += f" {outcome}: {call.outcome_reason}."
    elif not call.outcome:
        sentence += f" Call in progress ({call.state.replace('_', ' ')})."
    if call.verified:
        sentence += f" Verified by {call.verification_method.replace('_', ' ')}."
    elif memory.unverified:
        sentence += " Could not be verified; no account details were given."
    return sentence


def _who(call: CallSession, memory: DialogueMemory) -> str:
    name = " ".join(p for p in (memory.first_name, memory.last_name) if p)
    if call.customer_id is not None and call.new_customer:
        return f"New customer {name or 'caller'} ({call.from_number})"
    if call.customer_id is not None:
        return f"{name or 'Customer'} (returning customer, {call.from_number})"
    return f"{name or 'Unknown caller'} ({call.from_number})"
