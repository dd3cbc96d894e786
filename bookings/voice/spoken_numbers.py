"""Numbers as speech recognisers write them: "one twenty three", "twelve oh five", "forty two
hundred", "nineteen hundred", "one two three four", "seven eight seven oh two", "double five".

Pure functions. A run of number words becomes the digits a caller means by it, the way people
say house numbers, units, ZIP codes and phone numbers: groups are said one after the other and
written one after the other ("one twenty three" is 1 then 23: 123; "twelve oh five" is 12, 0, 5:
1205), "hundred" and "thousand" multiply what came before them ("forty two hundred" is 4200),
and what follows them is added ("one hundred twenty three" is 123).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ONES = {
    "zero": 0,
    "oh": 0,
    "o": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALES = {"hundred": 100, "thousand": 1000}
REPEATS = {"double": 2, "triple": 3}
NUMBER_WORDS = frozenset({*ONES, *TEENS, *TENS, *SCALES, *REPEATS})

# A word, a run of digits, or anything else (kept as it is).
_TOKEN = re.compile(r"[A-Za-z]+|\d+|[^A-Za-z\d]+")
# Between two number words of one run: spaces and hyphens ("forty-two"), and an "and" after a
# scale ("one hundred and five").
_JOINER = re.compile(r"[\s-]+")


@dataclass
class _Run:
    """The number words of one run, read into digit groups written one after the other."""

    groups: list[str] = field(default_factory=list)
    pending_tens: int | None = None  # "twenty" waiting for a "three"
    # A compound being built with "hundred"/"thousand": thousands, and the part below them.
    compound: bool = False
    thousands: int = 0
    rest: int = 0
    may_add: bool = False  # right after a scale word, a following number is added to it

    def number(self, value: int) -> None:
        """A number under 100 said as one group ("5", "12", "23")."""
        if self.compound and self.may_add:
            self.rest += value
            self.may_add = False
            return
        self.close()
        self.groups.append(str(value))

    def tens(self, value: int) -> None:
        self.flush()
        self.pending_tens = value

    def ones(self, digit: int) -> None:
        if self.pending_tens is not None and digit:
            value, self.pending_tens = self.pending_tens + digit, None
            self.number(value)
            return
        self.flush()
        self.number(digit)

    def scale(self, scale: int) -> None:
        if self.compound:
            self.flush()  # "one hundred twenty thousand": the twenty joins the hundred first
            if scale == 100 and self.rest < 100:
                self.rest = (self.rest or 1) * 100  # "two thousand five hundred"
            elif scale == 1000 and not self.thousands:
                self.thousands, self.rest = (self.rest or 1) * 1000, 0
            else:  # a second compound ("one hundred two hundred"): said one after the other
                self.close()
                self._start(scale, base=1)
        elif self.pending_tens is not None:
            base, self.pending_tens = self.pending_tens, None
            self._start(scale, base=base)  # "forty hundred"
        elif self.groups and int(self.groups[-1]) < scale:
            self._start(scale, base=int(self.groups.pop()))  # "forty two hundred"
        else:
            self._start(scale, base=1)
        self.may_add = True

    def _start(self, scale: int, *, base: int) -> None:
        self.compound = True
        self.thousands, self.rest = (base * 1000, 0) if scale == 1000 else (0, base * 100)

    def flush(self) -> None:
        if self.pending_tens is not None:
            value, self.pending_tens = self.pending_tens, None
            self.number(value)

    def close(self) -> None:
        if self.compound:
            self.groups.append(str(self.thousands + self.rest))
            self.compound, self.thousands, self.rest, self.may_add = False, 0, 0, False

    def text(self) -> str:
        self.flush()
        self.close()
        return "".join(self.groups)


def run_to_digits(words: list[str]) -> str:
    """The digits a run of number words means (all of `words` must be number words, lower
    case): ["one", "twenty", "three"] -> "123"."""
    run = _Run()
    repeat = 1
    for word in words:
        if word in REPEATS:
            run.flush()
            run.close()
            repeat = REPEATS[word]
        elif word in ONES and repeat > 1:
            run.groups.append(str(ONES[word]) * repeat)
            repeat = 1
        elif word in ONES:
            run.ones(ONES[word])
        elif word in TEENS:
            run.flush()
            run.number(TEENS[word])
        elif word in TENS:
            run.tens(TENS[word])
        elif word in SCALES:
            run.scale(SCALES[word])
    return run.text()


def numbers_from_speech(text: str, *, single_words: bool = True) -> str:
    """`text` with each run of number words written as digits: "one twenty three Oak Street" ->
    "123 Oak Street". Digits already written are kept; words that are no number are kept as they
    are. With `single_words=False` a lone number word is kept as a word unless it starts the
    text or follows a unit word ("Nine" in "County Road Nine" stays; "four" in "four Elm Street"
    and in "apartment four" does not)."""
    tokens = _TOKEN.findall(text or "")
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.lower() not in NUMBER_WORDS or token.lower() in ("o", "and"):
            out.append(token)
            i += 1
            continue
        words = [token.lower()]
        j = i + 1
        while j + 1 < len(tokens) and _JOINER.fullmatch(tokens[j]):
            nxt = tokens[j + 1].lower()
            if nxt == "and" and words[-1] in SCALES:
                j += 2
                continue
            if nxt not in NUMBER_WORDS:
                break
            words.append(nxt)
            j += 2
        if words[-1] in REPEATS:  # "double" with nothing after it is a word
            words.pop()
            j -= 2
        if not words:
            out.append(token)
            i += 1
            continue
        alone = len(words) == 1
        counted = _after_unit_word(out)  # "apartment four", "unit number two"
        if alone and (words[0] in SCALES or (not single_words and i > 0 and not counted)):
            out.append(token)
            i += 1
            continue
        out.append(run_to_digits(words))
        i = j
    return "".join(out)


UNIT_WORDS = frozenset({"apartment", "apt", "unit", "suite", "ste", "number", "no", "building"})


def _after_unit_word(out: list[str]) -> bool:
    for token in reversed(out):
        if token.strip(" #,.-") == "":
            if "#" in token:
                return True
            continue
        return token.lower() in UNIT_WORDS
    return False


def digits_from_speech(text: str) -> str:
    """Only the digits of what was said, number words read as above: for phone numbers and
    ZIP codes ("five one two, five five five, oh one four two" -> "5125550142")."""
    spoken = numbers_from_speech(text)
    # a lone "o" between digits is a zero ("seven eight seven o two")
    spoken = re.sub(r"(?<=\d)\s*\b[oO]\b\s*(?=\d)", "0", spoken)
    return "".join(ch for ch in spoken if ch.isdigit())
