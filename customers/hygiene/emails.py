"""Email addresses for customer hygiene: a clean value, a reason when it is wrong, and a key.

The value is never dropped: a mistyped address is still what the customer gave us, and the office
may fix it by hand from the suggestion. Only valid addresses produce a matching key.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from rapidfuzz.distance import OSA

# Mailbox providers most US customers use. A domain within a small edit distance of one of these
# (and not itself a real provider domain, below) is almost always a slip of the finger.
COMMON_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "aol.com",
    "comcast.net",
    "att.net",
)
# Real domains that sit close to a common one; they must never be "corrected".
REAL_LOOKALIKES = frozenset(
    {
        "googlemail.com",
        "mail.com",
        "email.com",
        "gmx.com",
        "ymail.com",
        "me.com",
        "mac.com",
        "live.com",
        "msn.com",
        "aim.com",
        "aon.com",
        "hotmail.ca",
        "yahoo.ca",
        "outlook.fr",
        "hotmail.fr",
        "yahoo.fr",
        "hotmail.de",
        "yahoo.de",
        "outlook.de",
        "hotmail.es",
        "yahoo.es",
        "outlook.es",
        "hotmail.it",
        "yahoo.it",
        "outlook.it",
        "yahoo.co.uk",
        "hotmail.co.uk",
    }
)
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_validate = EmailValidator()


@dataclass(frozen=True)
class NormalizedEmail:
    value: str  # trimmed and lower-cased; "" for empty input
    is_valid: bool
    problem: str  # "" or the reason, in words for the office
    suggestion: str  # "" or the corrected address when the domain looks like a typo


def email_normalize(raw: str) -> NormalizedEmail:
    """Never raises. A typo in a common domain makes the address invalid (mail to it bounces) but
    the value is kept and the likely intended address is offered as the suggestion."""
    value = (raw or "").strip().lower()
    problem = _syntax_problem(value)
    if problem:
        return NormalizedEmail(value=value, is_valid=False, problem=problem, suggestion="")
    local, domain = value.rsplit("@", 1)
    intended = _intended_domain(domain)
    if intended:
        return NormalizedEmail(
            value=value,
            is_valid=False,
            problem=f"{domain} looks like a typo for {intended}",
            suggestion=f"{local}@{intended}",
        )
    return NormalizedEmail(value=value, is_valid=True, problem="", suggestion="")


def email_key(raw: str) -> str:
    """One key per mailbox, "" unless the address is valid.

    A "+tag" never changes the mailbox, so it is removed everywhere; Gmail also ignores dots in
    the local part and treats googlemail.com as gmail.com.
    """
    normalized = email_normalize(raw)
    if not normalized.is_valid:
        return ""
    local, domain = normalized.value.rsplit("@", 1)
    untagged = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        return f"{untagged.replace('.', '')}@gmail.com"
    return f"{untagged}@{domain}"


def _syntax_problem(value: str) -> str:
    if not value:
        return "no address given"
    if "@" not in value:
        return "missing @"
    if value.count("@") > 1:
        return "more than one @"
    local, domain = value.split("@")
    if not local:
        return "nothing before the @"
    if not domain:
        return "nothing after the @"
    if any(character.isspace() for character in value):
        return "contains a space"
    if "." not in domain:
        return "domain has no dot"
    try:
        _validate(value)
    except ValidationError:
        return "not a valid email address"
    return ""


def _intended_domain(domain: str) -> str:
    """The common domain this one is a typo of, or "". Short domains allow one edit (aol.com vs
    aon.com is already a different company), longer ones two; transpositions count as one."""
    if domain in COMMON_DOMAINS or domain in REAL_LOOKALIKES:
        return ""
    best, best_distance = "", 3
    for common in COMMON_DOMAINS:
        allowed = 1 if len(common) <= 7 else 2
        distance = OSA.distance(domain, common, score_cutoff=allowed)
        if distance <= allowed and distance < best_distance:
            best, best_distance = common, distance
    return best
