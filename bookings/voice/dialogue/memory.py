"""The dialogue's working memory: everything a call remembers from one turn to the next, typed
and commented in one place.

It is kept as plain JSON in `call.context["dialogue"]` (`DialogueMemory.from_dict`, `to_dict`),
so a turn needs nothing but the call row. Only the fields that differ from their defaults are
written, and keys this version does not know (from an older or newer version, for a call in
progress during a deploy) are kept as they were and written back unchanged."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypedDict


class Offer(TypedDict):
    """A slot offered to the caller."""

    technician: int  # Technician id
    start: str  # the appointment start, ISO 8601 with offset
    label: str  # how it was said ("Tuesday the 8th between 8 and 10 in the morning")


@dataclass
class DialogueMemory:
    # --- asking -----------------------------------------------------------------------------
    # The question last asked, said again when an answer is not understood.
    question: str = ""
    # Answers not understood in a row since the state last changed (then a person is offered).
    misses: int = 0

    # --- who is calling ---------------------------------------------------------------------
    # The privacy rules let the agent read the account back (attested, trusted or verified).
    full: bool = False
    # The caller's number in E.164, from caller ID ("" when it is not a valid number).
    phone: str = ""
    # The caller's name: from the customer record when known, else as they said it.
    first_name: str = ""
    # The last name, likewise ("" when only a first name was given or known).
    last_name: str = ""
    # Served as a new caller: name and address are asked, and the customer matched or created.
    new_caller: bool = False
    # Verification failed: nothing of the account is said, and the caller is served as new.
    unverified: bool = False
    # The caller said what they need before verifying; the ZIP was asked once more.
    asked_first: bool = False
    # "cancel", "reschedule" or "billing" said during verification, served once verified.
    pending_intent: str = ""
    # Something the organisation does not serve, asked for during verification: said once
    # the caller is verified and has confirmed the location.
    pending_unserved: str = ""
    # HMAC (see `GreetingStage._digest`) of the verification code texted to the caller.
    code_digest: str = ""
    # Wrong ZIP, street or code answers so far.
    verify_attempts: int = 0

    # --- what they need ---------------------------------------------------------------------
    # The ServiceLocation the greeting read back ("is this for the same location?").
    offered_location_id: int | None = None
    # The ServiceLocation the visit is for, once confirmed or created.
    location_id: int | None = None
    # The ServiceType the visit is for, once the caller said it (or the office's best guess).
    service_type_id: int | None = None
    # The ServiceType asked about in the clarifying question.
    candidate_service_id: int | None = None
    # The clarifying question was asked for this request (it is asked once).
    clarified: bool = False
    # What the caller said about the need, for the job and the summary (at most 1,000 chars).
    description: str = ""
    # The emergency kind (a key of `lexicon.SAFETY_INSTRUCTIONS`), or "".
    emergency: str = ""
    # A thing the caller named that the organisation does not serve ("water softener"), or "".
    unserved: str = ""
    # What the caller came for when no service says it: "cancel", "billing", "unserved" or
    # "price".
    wanted: str = ""

    # --- price questions --------------------------------------------------------------------
    # The services of the price just said (best first): what "yes, book that" books.
    price_service_ids: list[int] = field(default_factory=list)
    # The brain's confidence in the first of them.
    price_confidence: float = 0.0
    # The other service of a price that named two ("a tune-up"): booked when the caller says
    # the clarifying question's service is not the one.
    price_alternative_id: int | None = None
    # "What would you like a price for?" was asked: the next answer is a price question.
    price_asked: bool = False
    # What was quoted in this call ("AC tune-up $129", "no price quoted"), for the summary.
    prices_said: list[str] = field(default_factory=list)

    # --- a new caller's address and number ------------------------------------------------
    # The service address as said (cleaned), with the ZIP when asked for separately.
    address_text: str = ""
    # The caller confirmed the address read back (or it was kept after too many tries).
    address_confirmed: bool = False
    # Times the caller said the read-back address was wrong.
    address_tries: int = 0
    # The confirmed number to call back and text, E.164.
    callback: str = ""
    # A callback number heard and read back, not yet confirmed.
    callback_candidate: str = ""

    # --- offers and booking -----------------------------------------------------------------
    # The Job this call books (created once, when times are first offered).
    job_id: int | None = None
    # The slots just offered, in the order said.
    offered: list[Offer] = field(default_factory=list)
    # [technician id, start ISO] pairs not to offer again in this call (the latest 30).
    excluded: list[list[Any]] = field(default_factory=list)
    # The openings from a week out were offered after a decline (they are offered once).
    offered_later: bool = False
    # "Which one would you like?" was asked when one answer fitted every offer.
    asked_which: bool = False
    # Why a call back is offered, kept as the call's outcome reason.
    callback_reason: str = ""
    # "reschedule" while moving an existing visit, else "".
    mode: str = ""
    # The Appointment booked, moved or about to be cancelled.
    appointment_id: int | None = None
    # Something was booked or cancelled in this call ("no" then means goodbye).
    after_booking: bool = False

    # Keys of the stored JSON this version does not know, kept and written back as they were.
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DialogueMemory:
        """The memory stored in `call.context["dialogue"]`; a missing or null value is the
        field's default."""
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in (data or {}).items():
            if key not in _FIELD_BY_NAME:
                extra[key] = value
            elif value is not None:
                values[key] = value
        return cls(**values, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the fields that differ from their defaults, and the unknown keys."""
        data = dict(self.extra)
        for f in _FIELDS:
            value = getattr(self, f.name)
            if value != _default(f):
                data[f.name] = value
        return data

    def new_request(self) -> None:
        """Forget the request just served (its service, job, offers and appointment), keeping
        who the caller is and where, for the next thing they ask in the same call."""
        for name in _REQUEST_FIELDS:
            setattr(self, name, _default(_FIELD_BY_NAME[name]))


_FIELDS = tuple(f for f in dataclasses.fields(DialogueMemory) if f.name != "extra")
_FIELD_BY_NAME = {f.name: f for f in _FIELDS}
# What `new_request` forgets.
_REQUEST_FIELDS = (
    "service_type_id",
    "description",
    "job_id",
    "offered",
    "excluded",
    "clarified",
    "candidate_service_id",
    "mode",
    "appointment_id",
    "emergency",
    "asked_which",
    "unserved",
    "price_service_ids",
    "price_confidence",
    "price_alternative_id",
    "price_asked",
)


def _default(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default
