"""What the phone agent says to a price question, from the organisation's price book.

`price_answer` reads the price book once (`bookings.selectors_prices.price_quotes`: the lines of
the service asked about and the entries whose names share a word with the question) and picks:

1. the service-call or diagnostic fee, when that is what was asked ("what's your service call
   fee?"): the service's own diagnostic line, else a general service-call entry;
2. the service's own line (the price book's default line of that service type): a flat-rate
   price is quoted as it is ("An AC tune-up is $129, flat rate."); a diagnostic line means the
   repair is priced once the problem is found, and that is what the agent says, with the
   diagnostic fee; a repair or emergency service with no line of its own says the same with a
   general service-call fee, if the book has one;
3. an entry whose name says everything the caller named ("how much is a flame sensor?").

Nothing else is quoted: with no entry, the agent says it can't quote that on the phone and
offers a visit or the office. Every amount said comes from a `PriceQuote`; none is ever made up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz

from bookings.selectors_prices import PriceQuote, price_quotes
from bookings.voice import lexicon
from bookings.voice.brain import UNSURE, asks_fee, normalise, price_subject
from bookings.voice.speech import money_spoken

# Words of a name shorter than this are not looked up by name ("ac", "a"): the service finds
# those.
MIN_NAME_WORD = 4
MAX_NAME_WORDS = 6
# Services with a repair's price: found at the visit.
DIAGNOSED_KINDS = ("repair", "emergency")
# How close a price-book name must be to what the caller named, when no service matched.
NAME_MATCH = 88

NO_QUOTE = (
    "I'm sorry, I can't quote a price for that over the phone. A technician can take a look and "
    "give you a price at the visit, or our office can help."
)
ASK_WHAT = "Sure. What would you like a price for?"


@dataclass(frozen=True)
class PriceAnswer:
    """What to say, and what could be booked from here."""

    text: str
    found: bool  # a price from the price book was said
    # The services the answer was about, best first: what "yes, book it" books.
    service_type_ids: tuple[int, ...] = ()
    service_confidence: float = 0.0
    quotes: tuple[PriceQuote, ...] = field(default=())  # every entry whose price was said
    asked_nothing: bool = False  # "how much is it?" with nothing to go by: ask what


def price_answer(
    *,
    organization: Any,
    catalogue: Sequence[Any],
    words: str,
    service_type_id: int | None,
    service_confidence: float = 0.0,
    current_service: Any = None,
) -> PriceAnswer:
    """The answer to the price question `words`, about `service_type_id` (what the brain heard
    in it) or, when the question names nothing ("how much will that cost?"), about
    `current_service` (what the call is booking)."""
    said = normalise(words)
    subject = price_subject(said)
    fee = asks_fee(said)
    by_id = {s.pk if hasattr(s, "pk") else s.id: s for s in catalogue}
    service = by_id.get(service_type_id) if service_type_id is not None else None
    confidence = service_confidence
    # Named nothing the catalogue knows: the price of what the call is booking, unless a
    # price-book entry is named ("how much is a flame sensor?").
    current = current_service if service is None else None
    if service is None and not subject and not fee and current is None:
        return PriceAnswer(text=ASK_WHAT, found=False, asked_nothing=True)
    services = [service] if service is not None else []
    if service is not None and confidence < UNSURE:
        services += _look_alikes(service, subject, catalogue)
    names = _name_words(subject)
    diagnosed = [*services, *([current] if current is not None else [])]
    if fee or any(getattr(s, "kind", "") in DIAGNOSED_KINDS for s in diagnosed):
        names += list(lexicon.FEE_NAMES)
    quotes = price_quotes(
        organization=organization,
        service_type_ids=[_pk(s) for s in diagnosed],
        names=names,
    )
    named = _by_name(quotes, subject)
    if named is not None and service is not None and _names_all(subject, service.name):
        named = None  # the service says it as well ("an AC tune-up"): the service's price
    if named is None and current is not None:
        services, service, confidence = [current], current, 1.0
    ids = tuple(_pk(s) for s in services)
    if fee:
        return _fee_answer(quotes, service=service, ids=ids, confidence=confidence)
    if named is not None:
        return PriceAnswer(
            text=f"{_sentence_start(_named(named))} is {amount_spoken(named)}.",
            found=True,
            service_type_ids=tuple(i for i in (named.service_type_id,) if i in by_id),
            service_confidence=1.0,
            quotes=(named,),
        )
    if services:
        answer = _services_answer(quotes, services)
        if answer is not None:
            return PriceAnswer(
                text=answer[0],
                found=True,
                service_type_ids=ids,
                service_confidence=confidence,
                quotes=answer[1],
            )
    return PriceAnswer(
        text=NO_QUOTE, found=False, service_type_ids=ids, service_confidence=confidence
    )


# --- choosing ------------------------------------------------------------------------------


def _fee_answer(
    quotes: list[PriceQuote], *, service: Any, ids: tuple[int, ...], confidence: float
) -> PriceAnswer:
    own = [q for q in quotes if q.diagnostic and service is not None and q.service_type_id in ids]
    general = [q for q in quotes if q.diagnostic and q.service_type_id is None]
    general.sort(key=lambda q: _fee_rank(q.name))
    chosen = (own or general or [None])[0]
    if chosen is None:
        return PriceAnswer(
            text=NO_QUOTE, found=False, service_type_ids=ids, service_confidence=confidence
        )
    text = (
        f"Our {_lower_first(spoken_name(chosen.name))} is {amount_spoken(chosen)}. "
        "The price of any repair depends on what the technician finds."
    )
    return PriceAnswer(
        text=text,
        found=True,
        service_type_ids=ids,
        service_confidence=confidence,
        quotes=(chosen,),
    )


def _services_answer(
    quotes: list[PriceQuote], services: list[Any]
) -> tuple[str, tuple[PriceQuote, ...]] | None:
    """One sentence per service with a price (at most two), or None when none has one."""
    parts: list[str] = []
    said: list[PriceQuote] = []
    for service in services:
        own = [q for q in quotes if q.service_type_id == _pk(service)]
        own.sort(key=lambda q: (q.kind == "labor", q.diagnostic))  # the work's own price first
        line = own[0] if own else None
        if line is not None and line.flat_rate:
            extra = ""
            if not normalise(line.name).startswith(normalise(service.name)):
                extra = f": that's our {_lower_first(spoken_name(line.name))}"
            parts.append(
                f"{_sentence_start(_spoken_service(service))} is {amount_spoken(line)}, "
                f"flat rate{extra}."
            )
            said.append(line)
            continue
        diagnostic = line
        if diagnostic is None and getattr(service, "kind", "") in DIAGNOSED_KINDS:
            general = [q for q in quotes if q.diagnostic and q.service_type_id is None]
            general.sort(key=lambda q: _fee_rank(q.name))
            diagnostic = general[0] if general else None
        if diagnostic is None:
            continue
        parts.append(
            f"The price of {_spoken_service(service)} depends on what the technician finds. "
            f"The {_lower_first(spoken_name(diagnostic.name))} is {amount_spoken(diagnostic)}."
        )
        said.append(diagnostic)
        if len(parts) == 2:
            break
    if not parts:
        return None
    return " ".join(parts), tuple(said)


def _look_alikes(service: Any, subject: str, catalogue: Sequence[Any]) -> list[Any]:
    """When the brain was unsure ("a tune-up": the AC's or the furnace's?): one other active
    service of the same kind and trade whose name shares a word with the question."""
    wanted = {w for w in subject.split() if len(w) >= 3 and w not in lexicon.STOPWORDS}
    for other in catalogue:
        if _pk(other) == _pk(service) or not getattr(other, "is_active", True):
            continue
        if (other.kind, other.category) != (service.kind, service.category):
            continue
        if wanted & set(normalise(other.name).split()):
            return [other]
    return []


def _by_name(quotes: list[PriceQuote], subject: str) -> PriceQuote | None:
    """The entry whose name says everything the caller named, closely."""
    words = [w for w in subject.split() if w not in lexicon.STOPWORDS]
    if not words:
        return None
    best, best_score = None, 0.0
    for quote in quotes:
        name = normalise(spoken_name(quote.name))
        if not all(_in_name(word, name) for word in words):
            continue
        score = fuzz.token_set_ratio(" ".join(words), name)
        if score >= NAME_MATCH and score > best_score:
            best, best_score = quote, score
    return best


def _names_all(subject: str, name: str) -> bool:
    words = [w for w in subject.split() if w not in lexicon.STOPWORDS]
    said = normalise(spoken_name(name))
    return all(_in_name(word, said) for word in words)


def _in_name(word: str, name: str) -> bool:
    return any(t == word or (len(word) > 4 and t.startswith(word[:-1])) for t in name.split())


def _name_words(subject: str) -> list[str]:
    words = [w for w in subject.split() if len(w) >= MIN_NAME_WORD and w not in lexicon.STOPWORDS]
    return words[:MAX_NAME_WORDS]


def _fee_rank(name: str) -> int:
    lowered = name.lower()
    for n, phrase in enumerate(lexicon.FEE_NAMES):
        if phrase in lowered:
            return n
    return len(lexicon.FEE_NAMES)


def _pk(service: Any) -> int:
    return service.pk if hasattr(service, "pk") else service.id


# --- saying it ----------------------------------------------------------------------------

_UNITS = {"hour": " an hour", "hr": " an hour", "lb": " a pound", "ft": " a foot"}


def amount_spoken(quote: PriceQuote) -> str:
    return money_spoken(Decimal(quote.price), quote.currency) + _UNITS.get(quote.unit, "")


def spoken_name(name: str) -> str:
    """A price-book name as said: without its parenthesis ("AC tune-up (precision cooling
    maintenance)" -> "AC tune-up")."""
    return re.sub(r"\s*\([^)]*\)", "", name).strip() or name


def _lower_first(name: str) -> str:
    first = name.split()[0] if name.split() else name
    if len(first) > 1 and first[:2].isupper():
        return name  # "AC", "HVAC", "GFCI"
    return name[:1].lower() + name[1:]


def _sentence_start(text: str) -> str:
    return text[:1].upper() + text[1:]


def _named(quote: PriceQuote) -> str:
    """An entry named on its own: "a flame sensor", "the trip charge", "HVAC labour"."""
    name = _lower_first(spoken_name(quote.name))
    if quote.kind == "labor":
        return name
    if quote.kind == "fee":
        return f"the {name}"
    return _with_article(name)


def _with_article(name: str) -> str:
    first = name.split()[0] if name.split() else name
    article = "an" if name[:1].lower() in "aeio" or first in ("AC", "HVAC", "EV") else "a"
    return f"{article} {name}"


def _spoken_service(service: Any) -> str:
    """ "AC tune-up" -> "an AC tune-up"; "Furnace tune-up" -> "a furnace tune-up"."""
    return _with_article(_lower_first(str(service.name)))
