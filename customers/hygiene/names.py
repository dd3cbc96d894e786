"""Person and company names for customer hygiene: parsed parts, nickname groups and phonetics.

Decisions the matcher relies on:
- Parts are upper-case ASCII: accents folded (José → JOSE), dots, apostrophes and other
  punctuation removed (O'Brien → OBRIEN, so both spellings agree); hyphens kept inside names
  (GARCIA-LOPEZ), while comparisons and keys use the letters only. "Mc Donald" and
  "Mac Donald" in the surname are joined (MCDONALD); surname particles stay with the surname
  ("Maria de la Cruz" → last "DE LA CRUZ").
- Order is taken as given: "Jenkins, William" is last-comma-first, "jenkins william" is first
  JENKINS and last WILLIAM. A single word is a first name ("this is Bill").
- A company ("ACME HVAC LLC", "Smith & Sons Plumbing", "The Oaks HOA") has `is_company` set and
  its whole cleaned name in `last`; first, middle, title and suffix stay empty.
- Suffixes are generation markers only (JR, SR, II, III, IV); professional letters (MD, PHD,
  ESQ…) are dropped because they say nothing about which person it is.
- Nicknames come from the `nicknames` package. It is many-to-many and noisy (it has both
  "william has_nickname bill" and "bill has_nickname william"), so it is a scoring feature; for
  blocking, `first_key` pins the usual formal name of the common American nicknames (PINNED).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from nicknames import name_triplets
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

TITLES = {
    "MR": "MR",
    "MRS": "MRS",
    "MS": "MS",
    "MISS": "MISS",
    "MX": "MX",
    "DR": "DR",
    "DOCTOR": "DR",
    "PROF": "PROF",
    "PROFESSOR": "PROF",
    "REV": "REV",
    "FR": "FR",
    "SIR": "SIR",
}
SUFFIXES = {
    "JR": "JR",
    "JUNIOR": "JR",
    "SR": "SR",
    "SENIOR": "SR",
    "II": "II",
    "2ND": "II",
    "III": "III",
    "3RD": "III",
    "IV": "IV",
    "4TH": "IV",
}
PROFESSIONAL_LETTERS = frozenset({"MD", "PHD", "DDS", "DVM", "ESQ", "CPA", "RN", "PE", "JD"})
SURNAME_PARTICLES = frozenset(
    {"DE", "DEL", "DELA", "DELLA", "LA", "LE", "DA", "DI", "DOS", "DAS", "DU", "VAN", "VON"}
    | {"DER", "DEN", "TER", "ST", "SAN", "SANTA"}
)
SURNAME_PREFIXES_JOINED = frozenset({"MC", "MAC"})
COMPANY_WORDS = frozenset(
    {"LLC", "INC", "CORP", "CORPORATION", "INCORPORATED", "CO", "COMPANY", "LTD", "LP", "LLP"}
    | {"PLLC", "PC", "HOA", "ASSOCIATION", "ASSN", "CONDOMINIUM", "CONDOMINIUMS", "CONDO"}
    | {"APARTMENTS", "APTS", "PROPERTIES", "PROPERTY", "MANAGEMENT", "MGMT", "REALTY"}
    | {"HOLDINGS", "GROUP", "TRUST", "SERVICES", "ENTERPRISES", "INDUSTRIES", "PARTNERS"}
    | {"SONS", "BROTHERS", "BROS", "PLUMBING", "HVAC", "ELECTRIC", "ELECTRICAL", "HEATING"}
    | {"ROOFING", "CONSTRUCTION", "RESTAURANT", "CAFE", "SCHOOL", "ACADEMY", "CLINIC"}
    | {"HOSPITAL", "HOTEL", "MOTEL", "STORE", "MARKET", "UNIVERSITY", "COLLEGE"}
    | {"INSTITUTE", "FOUNDATION", "DEPARTMENT", "DEPT", "CITY", "COUNTY"}
)
# The formal name a US customer record most likely means by these nicknames. The package lists
# several candidates for each (BILL: ROBERT, WILL, WILLIAM, WILLIS), which would leave them
# unkeyed; LIAM and KATE→CATHERINE are missing from it.
_PINNED_GROUPS = {
    "WILLIAM": ("BILL", "BILLY", "WILL", "WILLIE", "WILLY", "LIAM"),
    "ROBERT": ("BOB", "BOBBY", "ROB", "ROBBIE"),
    "MARGARET": ("PEGGY", "MAGGIE"),
    "ELIZABETH": ("BETH", "BETSY", "BETTY", "LIZ", "LIZZIE"),
    "KATHERINE": ("KATE", "KATIE", "KATHY"),
    "RICHARD": ("DICK", "RICK", "RICH", "RICKY"),
    "JOHN": ("JACK", "JOHNNY"),
    "MICHAEL": ("MIKE", "MICKEY"),
    "THOMAS": ("TOM",),
    "JOSEPH": ("JOE", "JOEY"),
    "ANTHONY": ("TONY",),
    "DANIEL": ("DAN", "DANNY"),
    "NICHOLAS": ("NICK",),
    "EDWARD": ("ED", "EDDIE"),
    "LAWRENCE": ("LARRY",),
    "CHARLES": ("CHUCK", "CHARLIE"),
    "HENRY": ("HANK",),
    "JEFFREY": ("JEFF",),
    "ANDREW": ("ANDY",),
    "BENJAMIN": ("BEN",),
    "MATTHEW": ("MATT",),
    "SUSAN": ("SUE", "SUSIE"),
    "JENNIFER": ("JEN", "JENNY"),
    "DEBORAH": ("DEBBIE",),
    "KENNETH": ("KEN", "KENNY"),
    "RONALD": ("RON", "RONNIE"),
    "DONALD": ("DON", "DONNIE"),
    "TIMOTHY": ("TIM",),
}
PINNED = {nickname: formal for formal, group in _PINNED_GROUPS.items() for nickname in group}
# Nickname rows the package lacks, as (formal, nickname).
EXTRA_NICKNAMES = (("CATHERINE", "KATE"), ("CATHERINE", "KATIE"))

SIMILARITY_NICKNAME = 0.95
SIMILARITY_INITIAL = 0.8
SIMILARITY_PHONETIC = 0.9
SIMILARITY_SURNAME_PART = 0.9

_FOLD = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ł": "l", "Ł": "L"})
_FOLD.update(str.maketrans({"đ": "d", "Đ": "D", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH"}))
_NOT_NAME = re.compile(r"[^A-Z0-9,\- ]+")
_APOSTROPHES = re.compile(r"['’‘`´]")
_SPACES = re.compile(r"\s+")
_NOT_LETTER = re.compile(r"[^A-Z]+")
# A generation suffix a typist glued to the last name: "SMITHJR", "RIVERAAJR", "JONESIII". No
# surname ends in JR or SR; "II" and "IV" are left alone (KOVALSKII, PETRIV are surnames).
_GLUED_SUFFIX = re.compile(r"^([A-Z][A-Z'\-]{2,}?)(JR|SR|III)\.?$")


@dataclass(frozen=True)
class PersonName:
    raw: str
    title: str = ""
    first: str = ""
    middle: str = ""
    last: str = ""
    suffix: str = ""
    is_company: bool = False
    first_key: str = ""
    first_phonetic: str = ""
    last_phonetic: str = ""
    last_nysiis: str = ""


def name_parse(first: str = "", last: str = "", *, full: str = "") -> PersonName:
    """Split fields or one full string → `PersonName`. Never raises; no name gives empty parts."""
    if full:
        return _parse_full(full)
    raw = " ".join(part.strip() for part in (first or "", last or "") if part and part.strip())
    if _looks_like_company(_tokens(raw)):
        return _company(raw)
    first_tokens = _tokens(first or "")
    title = _take_title(first_tokens)
    last_tokens = _tokens(last or "")
    suffix_in_first = _take_suffix(first_tokens)
    suffix = _take_suffix(last_tokens) or suffix_in_first
    return _person(
        raw,
        title=title,
        first=first_tokens[0] if first_tokens else "",
        middle=" ".join(first_tokens[1:]),
        last=_surname(last_tokens),
        suffix=suffix,
    )


@lru_cache(maxsize=4096)
def nickname_group(first: str) -> frozenset[str]:
    """All formal names `first` may stand for, plus itself, upper-case. "" gives an empty set."""
    name = _letters(first)
    if not name:
        return frozenset()
    formal = FORMAL_NAMES_OF.get(name, frozenset())
    pinned = {PINNED[name]} if name in PINNED else set()
    return frozenset({name} | formal | pinned)


def first_key(first: str) -> str:
    """One deterministic blocking key per first name:
    1. a pinned common nickname → its formal name (BILL → WILLIAM);
    2. a name used mostly as a formal name (more nicknames than names it stands for) → itself,
       so the package's reversed rows cannot turn WILLIAM into WILMA;
    3. a nickname of exactly one formal name → that name (JIM → JAMES);
    4. otherwise (ambiguous like CHRIS, or unknown) → itself.
    """
    name = _letters(first)
    return FIRST_KEYS.get(name, name)


def first_names_related(a: str, b: str) -> bool:
    """True when both names may stand for one formal name: BILL~WILLIAM, BILL~WILL, LIZ~BETH.

    Two different formal names are never related, whatever the package's rows say: WILLIAM and
    WILMA, or MARY and MARION, are a couple as often as one person, and a household is the one
    mistake a matcher must not make.
    """
    left, right = _letters(a), _letters(b)
    if left != right and left in FORMAL_NAMES and right in FORMAL_NAMES:
        return False
    group_a, group_b = nickname_group(left), nickname_group(right)
    if not group_a or not group_b:
        return False
    if left in group_b or right in group_a:
        return True  # one stands for the other: BILL~WILLIAM
    # Two nicknames of one formal name (BILL~WILL); a formal name is not a nickname of a third
    # one: LAURA and LAWRENCE both stand for LAURINDA in the package, and are a couple.
    return (
        left not in FORMAL_NAMES and right not in FORMAL_NAMES and not group_a.isdisjoint(group_b)
    )


def distinct_given_names(a: str, b: str) -> bool:
    """True for two different formal given names that are not nicknames of one another
    (DANIEL and DANIELLE, PATRICK and PATRICIA): however alike they look, not a typo."""
    left, right = _letters(a), _letters(b)
    return (
        left != right
        and left in FORMAL_NAMES
        and right in FORMAL_NAMES
        and not first_names_related(left, right)
        and not _transposed(left, right)
    )


def _transposed(a: str, b: str) -> bool:
    """Two neighbouring letters swapped (MICHAEL, MICHEAL): a slip of the keyboard, even when
    both spellings are in the name tables."""
    return OSA.distance(a, b) == 1 and Levenshtein.distance(a, b) == 2


@lru_cache(maxsize=65536)
def first_name_similarity(a: str, b: str) -> float:
    """0..1: equal 1.0, nickname-related 0.95, an initial against a name it starts 0.8, else
    Jaro-Winkler. Empty on either side is 0.0: a missing first name is no evidence of a match."""
    left, right = _letters(a), _letters(b)
    if not left or not right:
        return 0.0
    if left == right:
        return 1.0
    if first_names_related(left, right):
        return SIMILARITY_NICKNAME
    if (len(left) == 1 and right.startswith(left)) or (len(right) == 1 and left.startswith(right)):
        return SIMILARITY_INITIAL
    return JaroWinkler.normalized_similarity(left, right)


@lru_cache(maxsize=65536)
def last_name_similarity(a: str, b: str) -> float:
    """0..1: equal (ignoring spaces, hyphens and apostrophes) 1.0; one side a whole part of a
    double surname ("GARCIA-LOPEZ" vs "GARCIA") 0.9; else Jaro-Winkler, raised to 0.9 when the
    metaphone or NYSIIS codes agree (JENKINS/JENKENS, SMITH/SMYTH)."""
    left, right = _letters(a), _letters(b)
    if not left or not right:
        return 0.0
    if left == right:
        return 1.0
    score = JaroWinkler.normalized_similarity(left, right)
    if _shares_surname_part(a, b):
        score = max(score, SIMILARITY_SURNAME_PART)
    if _metaphone(left) == _metaphone(right) or _nysiis(left) == _nysiis(right):
        score = max(score, SIMILARITY_PHONETIC)
    return score


def _parse_full(full: str) -> PersonName:
    raw = full.strip()
    tokens = _tokens(raw)
    if _looks_like_company(tokens):
        return _company(raw)
    title = _take_title(tokens)
    if "," in tokens:
        head, tail = _split_at_comma(tokens)
        suffix = _take_suffix(tail, keep=0)
        suffix = _take_suffix(head) or suffix
        if tail:  # "Jenkins, William H." — surname first
            return _person(
                raw,
                title=title or _take_title(tail),
                first=tail[0],
                middle=" ".join(tail[1:]),
                last=_surname(head),
                suffix=suffix,
            )
        tokens = head  # "William Jenkins, Jr." — the comma only set off the suffix
    else:
        suffix = _take_suffix(tokens)
    if len(tokens) <= 1:  # one word is a first name: "this is Bill"
        first = tokens[0] if tokens else ""
        return _person(raw, title=title, first=first, middle="", last="", suffix=suffix)
    surname_start = _surname_start(tokens)
    return _person(
        raw,
        title=title,
        first=tokens[0],
        middle=" ".join(tokens[1:surname_start]),
        last=_surname(tokens[surname_start:]),
        suffix=suffix,
    )


def _person(raw: str, *, title: str, first: str, middle: str, last: str, suffix: str) -> PersonName:
    return PersonName(
        raw=raw,
        title=title,
        first=first,
        middle=middle,
        last=last,
        suffix=suffix,
        is_company=False,
        first_key=first_key(first),
        first_phonetic=_metaphone(first),
        last_phonetic=_metaphone(_letters(last)),
        last_nysiis=_nysiis(_letters(last)),
    )


def _company(raw: str) -> PersonName:
    name = " ".join(word for word in _tokens(raw) if word != ",")
    letters = _NOT_LETTER.sub("", name)
    return PersonName(
        raw=raw,
        last=name,
        is_company=True,
        last_phonetic=_metaphone(letters),
        last_nysiis=_nysiis(letters),
    )


def _tokens(text: str) -> list[str]:
    """Upper-case folded words and commas. Apostrophes are dropped inside words, "&" is spelled
    AND, other punctuation splits words, hyphens are kept inside words, digit-only words go."""
    folded = _APOSTROPHES.sub("", _fold(text)).replace("&", " AND ").replace(",", " , ")
    words = (word.strip("-") for word in _NOT_NAME.sub(" ", folded).split())
    return [word for word in words if word == "," or any(c.isalpha() for c in word)]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(_FOLD))
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", folded).strip().upper()


def _looks_like_company(tokens: list[str]) -> bool:
    words = [word for word in tokens if word != ","]
    if not words:
        return False
    return words[0] == "THE" or any(word in COMPANY_WORDS for word in words)


def _take_title(tokens: list[str]) -> str:
    """Removes leading titles ("Mr. and Mrs.") in place and returns the first, canonical."""
    title = ""
    while tokens and (tokens[0] in TITLES or (title and tokens[0] == "AND")):
        word = tokens.pop(0)
        title = title or TITLES.get(word, "")
    return title


def _take_suffix(tokens: list[str], *, keep: int = 1) -> str:
    """Removes trailing suffixes and professional letters in place, leaving at least `keep`
    words (a lone "II" may be all there is); returns the generation marker."""
    suffix = ""
    while len(tokens) > keep and (tokens[-1] in SUFFIXES or tokens[-1] in PROFESSIONAL_LETTERS):
        word = tokens.pop()
        suffix = SUFFIXES.get(word, suffix)
    if not suffix and tokens and (glued := _GLUED_SUFFIX.match(tokens[-1])):
        tokens[-1], suffix = glued.group(1), glued.group(2)
    return suffix


def _split_at_comma(tokens: list[str]) -> tuple[list[str], list[str]]:
    at = tokens.index(",")
    return tokens[:at], [word for word in tokens[at + 1 :] if word != ","]


def _surname_start(tokens: list[str]) -> int:
    """Index where the surname begins: the last word plus any particles before it, never the
    first word (that is the given name)."""
    start = len(tokens) - 1
    while start > 1 and (
        tokens[start - 1] in SURNAME_PARTICLES or tokens[start - 1] in SURNAME_PREFIXES_JOINED
    ):
        start -= 1
    return start


def _surname(tokens: list[str]) -> str:
    words: list[str] = []
    for word in tokens:
        if words and words[-1] in SURNAME_PREFIXES_JOINED:
            words[-1] += word
        else:
            words.append(word)
    return " ".join(word for word in words if word != ",")


def _letters(name: str) -> str:
    """Folded upper-case letters only, the form names are compared and keyed in."""
    return _NOT_LETTER.sub("", _fold(name))


def _shares_surname_part(a: str, b: str) -> bool:
    parts_a, parts_b = _surname_parts(a), _surname_parts(b)
    shorter, longer = sorted((parts_a, parts_b), key=len)
    return bool(shorter) and shorter <= longer


def _surname_parts(name: str) -> frozenset[str]:
    words = re.split(r"[\s\-]+", _APOSTROPHES.sub("", _fold(name)))
    return frozenset(
        _NOT_LETTER.sub("", word) for word in words if word and word not in SURNAME_PARTICLES
    ) - {""}


@lru_cache(maxsize=65536)
def _metaphone(name: str) -> str:
    letters = _NOT_LETTER.sub("", name)
    return jellyfish.metaphone(letters) if letters else ""


@lru_cache(maxsize=65536)
def _nysiis(letters: str) -> str:
    return jellyfish.nysiis(letters) if letters else ""


def _nickname_rows() -> frozenset[tuple[str, str]]:
    """(formal, nickname) pairs, upper-case. Where the package lists a pair both ways the longer
    name is taken as the formal one (WILLIAM/BILL, not BILL/WILLIAM)."""
    rows = {
        (formal.upper(), nickname.upper())
        for formal, relationship, nickname in name_triplets()
        if relationship == "has_nickname" and formal != nickname
    }
    rows |= set(EXTRA_NICKNAMES) | {(formal, nickname) for nickname, formal in PINNED.items()}
    return frozenset(
        (formal, nickname)
        for formal, nickname in rows
        if (nickname, formal) not in rows or len(formal) >= len(nickname)
    )


def _formal_names(rows: frozenset[tuple[str, str]]) -> dict[str, frozenset[str]]:
    formal_of: dict[str, set[str]] = defaultdict(set)
    for formal, nickname in rows:
        formal_of[nickname].add(formal)
    return {nickname: frozenset(formals) for nickname, formals in formal_of.items()}


def _formal_set(rows: frozenset[tuple[str, str]]) -> frozenset[str]:
    """Names used mostly as formal names: more nicknames than names they stand for."""
    nickname_count: dict[str, int] = defaultdict(int)
    for formal, _nickname in rows:
        nickname_count[formal] += 1
    formal_of = _formal_names(rows)
    return frozenset(
        name for name in nickname_count if nickname_count[name] > len(formal_of.get(name, ()))
    )


def _first_keys(rows: frozenset[tuple[str, str]]) -> dict[str, str]:
    """The `first_key` table for every name that does not key to itself."""
    formal_of = _formal_names(rows)
    formal_names = _formal_set(rows)

    def is_formal(name: str) -> bool:
        return name in formal_names

    keys = dict(PINNED)
    for nickname, formals in formal_of.items():
        if nickname in keys or is_formal(nickname):
            continue
        candidates = [formal for formal in formals if is_formal(formal)]
        if len(candidates) == 1:
            keys[nickname] = candidates[0]
    return keys


_ROWS = _nickname_rows()
FORMAL_NAMES_OF = _formal_names(_ROWS)
FIRST_KEYS = _first_keys(_ROWS)
FORMAL_NAMES = _formal_set(_ROWS) - set(PINNED)
