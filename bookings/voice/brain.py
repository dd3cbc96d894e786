"""How the phone agent understands a caller: one utterance in, one `Understanding` out.

The dialogue (a state machine) asks a `Brain` what the caller meant, telling it what it just asked
(`expecting`), so that "yes" after "is this for the same location?" and "the second one" after an
offer of slots are read in context. `RuleBrain` is the default: deterministic, offline and fast
(well under 2 ms per utterance), so every call works without a network and every test is exact.
An LLM brain can implement the same protocol later; the dialogue never needs to know which one
it has.

Rules, in order, whatever was asked: keypad 0 or asking for a person wins; then emergencies (a gas
smell outranks everything the caller says after it); then a price question ("how much is a
tune-up?", never "how much do I owe?", which is billing); then what was asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from rapidfuzz import fuzz

from bookings.voice import lexicon

INTENTS = (
    "book",
    "reschedule",
    "cancel",
    "billing",
    "price",
    "emergency",
    "person",
    "yes",
    "no",
    "unknown",
)
EXPECTING = (
    "intent",
    "service",
    "yes_no",
    "slot_choice",
    "name",
    "address",
    "verification",
    "anything",
)
UNSURE = 0.6  # below this service_confidence the dialogue asks one clarifying question


@dataclass(frozen=True)
class Understanding:
    """What the caller meant. `words` is what they said, trimmed, for the transcript and for
    free-text answers (names, addresses) the dialogue parses itself."""

    intent: str  # one of INTENTS
    service_type_id: int | None = None
    service_confidence: float = 0.0
    emergency: str = ""  # a key of lexicon.SAFETY_INSTRUCTIONS, or ""
    choice: int | None = None  # index into the offered slots
    preference_text: str = ""  # "anything Friday?" -> "Friday"; feed to preference_parse
    words: str = ""
    # A thing the caller named that the catalogue does not cover ("water softener"), or "".
    # Then `service_type_id` is None: the dialogue says so and offers a call back.
    unserved: str = ""


class BrainTools(Protocol):
    """What a brain may ask the dialogue while it thinks. The dialogue answers from the domain
    services and applies the privacy rules; a brain never books, transfers or reads data itself."""

    def lookup_caller(self) -> dict: ...  # only what the privacy rules let the agent say

    def find_slots(self, preference: str) -> list[str]: ...  # spoken labels

    # What the price book says about a price question (the agent says exactly this, or that
    # it can't quote one): {"found": bool, "answer": str, "prices": [...]}.
    def lookup_price(self, question: str) -> dict: ...


class Brain(Protocol):
    def understand(
        self,
        *,
        text: str,
        digits: str = "",
        expecting: str,
        organization: Any,
        catalogue: Iterable[Any],
        offered: Sequence[str] = (),
        tools: BrainTools | None = None,
    ) -> Understanding: ...


def safety_instructions(emergency: str) -> str:
    """What to tell the caller before anything else in an emergency; "" for no emergency, so the
    dialogue can always say it unconditionally."""
    return lexicon.SAFETY_INSTRUCTIONS.get(emergency, "")


def normalise(text: str) -> str:
    """Lower case, plain apostrophes, "a.m." as "am", everything else that is not a word
    character, an apostrophe or a colon turned into single spaces."""
    said = text.lower().replace("’", "'").replace("‘", "'")
    said = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", said)
    said = re.sub(r"(\w)-(\w)", r"\1 \2", said)  # "tune-up" -> "tune up"
    said = re.sub(r"[^\w':]+", " ", said)
    said = re.sub(r"(?<!\w)'|'(?!\w)", " ", said)
    return " ".join(said.split())


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_PERSON = _compile(lexicon.PERSON_PATTERNS)
_CANCEL = _compile(lexicon.CANCEL_PATTERNS)
_RESCHEDULE = _compile(lexicon.RESCHEDULE_PATTERNS)
_BILLING = _compile(lexicon.BILLING_PATTERNS)
_BOOK = _compile(lexicon.BOOK_PATTERNS)
_BALANCE = _compile(lexicon.BALANCE_PATTERNS)
_PRICE = _compile(lexicon.PRICE_PATTERNS)
_FEE = _compile(lexicon.FEE_PATTERNS)
_NO = _compile(lexicon.NO_PHRASES)
_YES = _compile(lexicon.YES_PHRASES)
_EMERGENCY = {code: _compile(p) for code, p in lexicon.EMERGENCY_PATTERNS.items()}
_NO_HEAT = _compile(lexicon.NO_HEAT_PATTERNS)
_FREEZING = _compile(lexicon.FREEZING_PATTERNS)
_DEGREES = re.compile(r"\b(-?\d{1,3}) ?(?:degrees|degree|°)")
_NEGATED = re.compile(
    r"\b(?:" + "|".join(re.escape(n) for n in lexicon.NEGATIONS) + r")(?: \w+){0,2} $"
)
_PREFERENCE = re.compile(lexicon.PREFERENCE_PATTERN)
_ASKING = re.compile(lexicon.ASKING_FOR_OTHER)
_WEEKDAY = re.compile(r"\b(" + "|".join(lexicon.WEEKDAY_NAMES) + r")\b")
_NUMBER = re.compile(r"\b\d{1,2}\b")


class RuleBrain:
    """The deterministic brain: regular expressions, a symptom lexicon and fuzzy matching
    against the organisation's own catalogue (names and `spoken_synonyms`)."""

    def understand(
        self,
        *,
        text: str,
        digits: str = "",
        expecting: str,
        organization: Any = None,
        catalogue: Iterable[Any] = (),
        offered: Sequence[str] = (),
        tools: BrainTools | None = None,  # unused: the rules need no information
    ) -> Understanding:
        """Interpret one answer. `expecting` is what the agent just asked (one of EXPECTING);
        `offered` the spoken labels of the slots just offered, in order, when it asked for a
        choice. Never raises on what a caller says: garbage is intent "unknown"."""
        if expecting not in EXPECTING:
            raise ValueError(f"expecting must be one of {EXPECTING}, not {expecting!r}")
        words = (text or "").strip()
        said = normalise(words)
        keys = "".join(ch for ch in (digits or "") if ch.isdigit() or ch in "*#")

        if keys.rstrip("#*") == "0" or _PERSON.search(said):  # 0 alone; "0731" is a code
            return Understanding(intent="person", words=words)
        emergency = _emergency(said)
        if emergency:
            service_id, confidence = _service(said, catalogue, emergency=True)
            return Understanding(
                intent="emergency",
                emergency=emergency,
                service_type_id=service_id,
                service_confidence=confidence,
                words=words,
            )
        if keys:
            return _keypad(keys, expecting=expecting, offered=offered, words=words)
        if not said:
            return Understanding(intent="unknown", words=words)

        if expecting not in ("name", "address", "verification") and price_question(said):
            # Before a slot choice too: "how much is the first one?" asks, it does not pick.
            return _price(said, catalogue=catalogue, words=words)
        if expecting in ("name", "address", "verification"):
            # Free text the dialogue parses itself; only a plain yes/no is read here ("no,
            # that's wrong" after an address read-back).
            yes_no = _yes_no(said) if len(said.split()) <= 6 else ""
            return Understanding(intent=yes_no or "unknown", words=words)
        if expecting == "slot_choice":
            understood = _slot_choice(said, offered=offered, words=words)
            if understood is not None:
                return understood
        if expecting == "yes_no":
            yes_no = _yes_no(said)
            other = _intent(said)
            if yes_no and other in ("unknown", "book"):
                return Understanding(intent=yes_no, words=words)
        return _open(said, expecting=expecting, catalogue=catalogue, words=words)


def _open(said: str, *, expecting: str, catalogue: Iterable[Any], words: str) -> Understanding:
    """An open answer: what the caller wants, and which service if they described a problem,
    or what they named that the organisation does not serve."""
    intent = _intent(said)
    # Asking for work ("my pool pump stopped working", "do you service septic tanks?"), a
    # problem described ("the septic tank is backing up"), or a thing named when asked to
    # describe the problem; never a stray word in noise ("purple monkey dishwasher").
    asks = intent == "book" or (
        intent == "unknown" and (expecting == "service" or _describes_a_problem(said))
    )
    if asks:
        thing = unserved_thing(said, catalogue)
        if thing:
            return Understanding(intent="book", unserved=thing, words=words)
    service_id, confidence = _service(said, catalogue)
    preference = _preference(said) if intent == "reschedule" else ""
    yes_no = _yes_no(said)
    if intent == "unknown" and yes_no and len(said.split()) <= 3 and confidence < UNSURE:
        return Understanding(intent=yes_no, words=words)  # "no" is not a "no heat" service
    if intent == "unknown" and service_id is not None and confidence >= 0.35:
        intent = "book"
    if intent == "unknown":
        intent = yes_no or "unknown"
    if intent in ("cancel", "billing", "yes", "no"):
        service_id, confidence = None, 0.0
    return Understanding(
        intent=intent,
        service_type_id=service_id,
        service_confidence=confidence,
        preference_text=preference,
        words=words,
    )


def price_question(said: str) -> bool:
    """Whether `said` (normalised) asks what something costs; never a question about the
    caller's own bill or balance ("how much do I owe?"), which is billing."""
    return _PRICE.search(said) is not None and _BALANCE.search(said) is None


def price_subject(said: str) -> str:
    """What a price question (normalised) asks about, its price words and fee words taken
    out: "how much do you charge to fix an ac" -> "fix ac"; "" when it names nothing ("how
    much is it?", "what's your service call fee?")."""
    rest = _FEE.sub(" ", said)
    return " ".join(t for t in rest.split() if t not in lexicon.PRICE_FILLER)


def asks_fee(said: str) -> bool:
    """Whether a price question (normalised) asks for the service-call or diagnostic fee."""
    return _FEE.search(said) is not None


def _price(said: str, *, catalogue: Iterable[Any], words: str) -> Understanding:
    """A price question: the service it names, if any (matched like a need, on its subject),
    or the thing named that the organisation does not serve."""
    subject = price_subject(said)
    if not subject:
        return Understanding(intent="price", words=words)
    services = list(catalogue)
    thing = unserved_thing(subject, services)
    if thing:
        return Understanding(intent="price", unserved=thing, words=words)
    service_id, confidence = _service(subject, services)
    return Understanding(
        intent="price",
        service_type_id=service_id,
        service_confidence=confidence if service_id is not None else 0.0,
        words=words,
    )


def _intent(said: str) -> str:
    if _CANCEL.search(said):
        return "cancel"
    if _RESCHEDULE.search(said):
        return "reschedule"
    if _BILLING.search(said) or _BALANCE.search(said):
        return "billing"
    if _BOOK.search(said):
        return "book"
    return "unknown"


def _yes_no(said: str) -> str:
    no = _NO.search(said)
    yes = _YES.search(said)
    if no and (not yes or no.start() <= yes.start() or _NOT_YES.search(said)):
        return "no"
    if yes:
        return "yes"
    return ""


_NOT_YES = re.compile(r"\bnot (?:right|correct|quite|really|exactly)\b|\bisn't (?:right|correct)\b")


def _emergency(said: str) -> str:
    for code, pattern in _EMERGENCY.items():
        for match in pattern.finditer(said):
            if not _NEGATED.search(said[: match.start()]):
                return code
    no_heat = _NO_HEAT.search(said)
    if no_heat and not _NEGATED.search(said[: no_heat.start()]):
        if _FREEZING.search(said):
            return "no_heat_freezing"
        for degrees in _DEGREES.finditer(said):
            if int(degrees.group(1)) <= lexicon.FREEZING_DEGREES:
                return "no_heat_freezing"
    return ""


def _keypad(keys: str, *, expecting: str, offered: Sequence[str], words: str) -> Understanding:
    if expecting == "slot_choice" and keys[:1].isdigit():
        index = int(keys[:1]) - 1
        if index >= 0 and (not offered or index < len(offered)):
            return Understanding(intent="yes", choice=index, words=words)
        return Understanding(intent="unknown", words=words)
    if expecting == "yes_no" and keys[:1] in ("1", "2"):
        return Understanding(intent="yes" if keys[:1] == "1" else "no", words=words)
    return Understanding(intent="unknown", words=words or keys)


def _slot_choice(said: str, *, offered: Sequence[str], words: str) -> Understanding | None:
    """A pick among the offered slots, or a request for other times; None when it is neither
    (the caller changed the subject and the open reading applies)."""
    choice = _choice(said, offered)
    if choice is not None:
        return Understanding(intent="yes", choice=choice, words=words)
    preference = _preference(said)
    if preference:
        return Understanding(intent="no", preference_text=preference, words=words)
    yes_no = _yes_no(said)
    if yes_no == "no" or _DECLINED.search(said):
        return Understanding(intent="no", words=words)
    if yes_no == "yes" and len(offered) == 1:
        return Understanding(intent="yes", choice=0, words=words)
    return None


# A refusal of the offers: "either" in it is not a pick ("none of those work either").
_DECLINED = re.compile(
    r"\b(?:none|neither|nor|no)\b|(?:\bnot|n't) (?:work|suit|fit|good)|\bcan't (?:do|make)"
)


def _choice(said: str, offered: Sequence[str]) -> int | None:
    if re.search(r"\b(?:earlier|earliest|sooner|soonest) one\b", said):
        return 0
    if offered and re.search(r"\b(?:later|latest) one\b", said):
        return len(offered) - 1
    if offered and re.search(lexicon.ANY_OF_THEM, said) and not re.search(_DECLINED, said):
        return 0  # "either one is fine", but not "none of those work either"
    tokens = said.split()
    for token in tokens:
        if token in lexicon.ORDINALS:
            return _within(lexicon.ORDINALS[token], offered)
        if token in lexicon.LAST_WORDS and offered:
            return len(offered) - 1
    bare = re.fullmatch(r"(?:the |number |option |slot )*(\w+)(?: one)?(?: please)?", said)
    if bare and bare.group(1) in lexicon.CARDINALS:
        return _within(lexicon.CARDINALS[bare.group(1)], offered)
    if not offered:
        return None
    if _ASKING.search(said) and not re.search(r"\b(?:one|that|works?|take|sounds)\b", said):
        return None  # "anything Wednesday?" asks; "Wednesday works" picks
    return _by_feature(said, offered)


def _within(index: int, offered: Sequence[str]) -> int | None:
    if offered and index >= len(offered):
        return None
    return index


def _by_feature(said: str, offered: Sequence[str]) -> int | None:
    """The one offer whose label shares a weekday, a part of the day or an hour with the
    answer ("Wednesday", "the afternoon one", "the 8 o'clock")."""
    said_days = set(_WEEKDAY.findall(said))
    said_parts = {part for part, names in lexicon.DAY_PARTS.items() if _has_any(said, names)}
    said_numbers = set(_NUMBER.findall(said))
    if not (said_days or said_parts or said_numbers):
        return None
    scores = []
    for label in offered:
        text = normalise(label)
        days = set(_WEEKDAY.findall(text))
        parts = {part for part, names in lexicon.DAY_PARTS.items() if _has_any(text, names)}
        if not parts:
            parts = _parts_from_hours(text)
        numbers = set(_NUMBER.findall(text))
        if said_days and not said_days & days:
            scores.append(-1)
            continue
        if said_parts and not said_parts & parts:
            scores.append(-1)
            continue
        scores.append(
            2 * len(said_days & days) + 2 * len(said_parts & parts) + len(said_numbers & numbers)
        )
    best = max(scores)
    if best <= 0 or scores.count(best) > 1:
        return None
    return scores.index(best)


def _has_any(text: str, names: Iterable[str]) -> bool:
    return any(re.search(rf"\b{re.escape(name)}\b", text) for name in names)


def _parts_from_hours(label: str) -> set[str]:
    """ "between 8 and 10" is a morning; "between 1 and 3" an afternoon (phone convention)."""
    match = re.search(r"\b(\d{1,2})(?::\d{2})?\b", label)
    if not match:
        return set()
    hour = int(match.group(1))
    if 7 <= hour <= 11:
        return {"morning"}
    if hour == 12 or 1 <= hour <= 4:
        return {"afternoon"}
    return {"evening"} if 5 <= hour <= 8 else set()


def _preference(said: str) -> str:
    return " ".join(match.group(0) for match in _PREFERENCE.finditer(said))


# --- Service understanding ------------------------------------------------------------------


def unserved_thing(said: str, catalogue: Iterable[Any]) -> str:
    """The first thing named in `said` (normalised) that the organisation does not serve, or "".

    Things are the equipment and trades of `lexicon.EQUIPMENT_CATEGORY` and
    `lexicon.OTHER_TRADE_THINGS`. A thing is served when the active catalogue has a service in
    its trade's category, or a service whose name or spoken synonyms name the thing or a word of
    its trade (`lexicon.TRADE_WORDS`). A request that names no thing ("something's wrong", "it
    makes a noise") or any served thing is never unserved, and neither is anything said to an
    organisation with no catalogue: there is nothing to decide against."""
    things = _things(_expand(said))
    if not things:
        return ""
    services = [s for s in catalogue if getattr(s, "is_active", True)]
    if not services:
        return ""
    categories = {getattr(s, "category", "") for s in services}
    phrases = " | ".join(
        _prepared(str(phrase))[0]
        for s in services
        for phrase in (getattr(s, "name", ""), *(getattr(s, "spoken_synonyms", None) or ()))
    )

    def served(thing: str, trade: str) -> bool:
        words = (thing, *lexicon.TRADE_WORDS.get(trade, ()))
        return trade in categories or any(_contains(phrases, word) for word in words)

    if any(served(thing, trade) for thing, trade in things):
        return ""
    return things[0][0]


def _describes_a_problem(said: str) -> bool:
    """A symptom or a kind of work in the words ("backing up", "leaking", "tune up")."""
    said = _expand(said)
    return any(_contains(said, phrase) for phrase in lexicon.SYMPTOMS) or any(
        _contains(said, word) for word in lexicon.KIND_WORDS
    )


def unserved_spoken(thing: str) -> str:
    """How the agent names the trade of an unserved thing: "water softeners or water treatment"
    for "water softener"."""
    trade = lexicon.OTHER_TRADE_THINGS.get(thing) or lexicon.EQUIPMENT_CATEGORY.get(thing, "")
    return lexicon.TRADE_SPOKEN.get(trade, "that kind of work")


@lru_cache(maxsize=4096)
def _things(said: str) -> tuple[tuple[str, str], ...]:
    """The (thing, trade) pairs named, in the order said; the longest phrase wins, so a "pool
    heater" is not also a "heater"."""
    known = {**lexicon.EQUIPMENT_CATEGORY, **lexicon.OTHER_TRADE_THINGS}
    found: list[tuple[int, str, str]] = []
    rest = f" {said} "
    for phrase in lexicon.NOT_THINGS:
        rest = rest.replace(f" {phrase} ", " | ")
    for thing in sorted(known, key=len, reverse=True):
        pattern = re.compile(rf"(?<= ){re.escape(thing)}(?:s|es)?(?= )")  # "hot tubs" too
        while match := pattern.search(rest):
            found.append((match.start(), thing, known[thing]))
            blank = "|" * (match.end() - match.start())
            rest = rest[: match.start()] + blank + rest[match.end() :]
    return tuple((thing, trade) for _, thing, trade in sorted(found))


def _service(
    said: str, catalogue: Iterable[Any], *, emergency: bool = False
) -> tuple[int | None, float]:
    """The catalogue entry the caller's words describe, with a confidence in [0, 1].

    Each service scores by its best phrase (its name and spoken synonyms): a phrase said verbatim
    is near-certain; otherwise rapidfuzz's token-set and partial ratios. The symptom lexicon, the
    equipment named and kind words ("tune-up", "replace") add or subtract, so "my AC is blowing
    warm air" lands on AC repair even when the synonyms are worded differently. Confidence drops
    when the runner-up is about as good, so the dialogue asks which one."""
    if not said:
        return None, 0.0
    said = _expand(said)
    categories = _categories(said)
    kinds = _kinds(said)
    things = _equipment(said)
    scored: list[tuple[float, Any]] = []
    for service in catalogue:
        if not getattr(service, "is_active", True):
            continue
        score = _phrase_score(said, service)
        if things:
            # "maintenance for my furnace": the furnace tune-up, not the AC one.
            named = _equipment(_prepared(str(getattr(service, "name", "")))[0])  # cached
            if named & things:
                score += 0.1
            elif named:
                score -= 0.05
        category = getattr(service, "category", "")
        kind = getattr(service, "kind", "")
        if categories:
            score += 0.15 if category in categories else -0.25
        if kinds:
            score += 0.12 if kind in kinds else -0.08
        if kind == "emergency":
            score += 0.2 if emergency else -0.15
        scored.append((score, service))
    if not scored:
        return None, 0.0
    scored.sort(key=lambda pair: pair[0], reverse=True)
    best_score, best = scored[0]
    confidence = max(0.0, min(1.0, best_score))
    if len(scored) > 1 and best_score - scored[1][0] < lexicon.AMBIGUITY_MARGIN:
        confidence = min(confidence, UNSURE - 0.05)
    if confidence < 0.3:
        return None, round(confidence, 3)
    return best.id, round(confidence, 3)


_CONTRACTIONS = (("won't", "will not"), ("can't", "can not"), ("n't", " not"))


def _expand(said: str) -> str:
    """ "isn't cooling" -> "is not cooling", so synonyms written either way match."""
    for short, long in _CONTRACTIONS:
        said = said.replace(short, long)
    return said


def _phrase_score(said: str, service: Any) -> float:
    phrases = [str(getattr(service, "name", ""))]
    phrases.extend(str(p) for p in (getattr(service, "spoken_synonyms", None) or ()))
    said_stems = {_stem(t) for t in said.split()}
    best = 0.0
    for phrase in phrases:
        wanted, content = _prepared(phrase)
        if not wanted:
            continue
        if re.search(rf"\b{re.escape(wanted)}\b", said):
            score = 0.85 + min(0.1, 0.02 * len(wanted.split()))
        else:
            # How much of the phrase was said (word by word, forgiving "heater's" for
            # "heater"), times how closely: a short answer that shares one word with a long
            # synonym is not a match.
            covered = sum(1 for stem in content if _said(stem, said_stems)) / len(content)
            if not covered:
                continue
            closeness = max(fuzz.token_set_ratio(said, wanted), fuzz.partial_ratio(said, wanted))
            score = 0.8 * covered * closeness / 100
        best = max(best, score)
    return best


@lru_cache(maxsize=4096)
def _prepared(phrase: str) -> tuple[str, tuple[str, ...]]:
    """A catalogue phrase normalised once, with the stems of its meaningful words."""
    wanted = _expand(normalise(phrase))
    words = [t for t in wanted.split() if t not in lexicon.STOPWORDS] or wanted.split()
    return wanted, tuple(_stem(t) for t in words)


def _stem(token: str) -> str:
    """A crude stem, enough for "leaking"/"leak", "pipes"/"pipe", "heater's"/"heater"."""
    token = token.removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s"):
        if len(token) > len(suffix) + 3 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


def _said(stem: str, said_stems: set[str]) -> bool:
    if stem in said_stems:
        return True
    return any(s[:3] == stem[:3] and fuzz.ratio(s, stem) >= 85 for s in said_stems if len(stem) > 4)


@lru_cache(maxsize=4096)
def _equipment(said: str) -> frozenset[str]:
    """The kinds of equipment named ("ac", "furnace", "water heater"), longest phrase first so
    "water heater" is not also a "heater"."""
    found = set()
    rest = f" {said} "
    for thing in sorted(lexicon.EQUIPMENT_CATEGORY, key=len, reverse=True):
        if f" {thing} " in rest:
            found.add(lexicon.EQUIPMENT_SAME.get(thing, thing))
            rest = rest.replace(f" {thing} ", " | ")
    return frozenset(found)


def _categories(said: str) -> set[str]:
    found = {cat for phrase, (cat, _) in lexicon.SYMPTOMS.items() if _contains(said, phrase)}
    found |= {cat for thing, cat in lexicon.EQUIPMENT_CATEGORY.items() if _contains(said, thing)}
    if "water heater" in said or "hot water" in said:
        found.discard("hvac")  # "heater" inside "water heater"
    return found


def _kinds(said: str) -> set[str]:
    found = {kind for word, kind in lexicon.KIND_WORDS.items() if _contains(said, word)}
    found |= {kind for phrase, (_, kind) in lexicon.SYMPTOMS.items() if _contains(said, phrase)}
    if "maintenance" in found or "installation" in found or "inspection" in found:
        found.discard("repair")  # "service my AC, it isn't broken" is still a tune-up
    return found


def _contains(said: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(phrase)}\b", said) is not None
