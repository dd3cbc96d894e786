from __future__ import annotations

import pytest

from customers.hygiene.emails import NormalizedEmail, email_key, email_normalize


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("bill.jenkins@example.com", "bill.jenkins@example.com"),
        ("  Bill.Jenkins@Example.COM \n", "bill.jenkins@example.com"),
        ("o'brien@acme-hvac.co.uk", "o'brien@acme-hvac.co.uk"),
    ],
)
def test_valid_addresses_are_trimmed_and_lower_cased(raw, value):
    assert email_normalize(raw) == NormalizedEmail(
        value=value, is_valid=True, problem="", suggestion=""
    )


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "no address given"),
        ("   ", "no address given"),
        (None, "no address given"),
        ("bill.jenkins", "missing @"),
        ("bill@@example.com", "more than one @"),
        ("bill@home@example.com", "more than one @"),
        ("@example.com", "nothing before the @"),
        ("bill@", "nothing after the @"),
        ("bill jenkins@example.com", "contains a space"),
        ("bill@example", "domain has no dot"),
        ("bill@example..com", "not a valid email address"),
        ("bill@-example.com", "not a valid email address"),
    ],
)
def test_malformed_addresses_are_kept_with_the_reason(raw, problem):
    normalized = email_normalize(raw)

    assert normalized == NormalizedEmail(
        value=(raw or "").strip().lower(), is_valid=False, problem=problem, suggestion=""
    )
    assert email_key(raw) == ""


@pytest.mark.parametrize(
    ("raw", "typo", "intended"),
    [
        ("bill@gmial.com", "gmial.com", "gmail.com"),
        ("bill@gmai.com", "gmai.com", "gmail.com"),
        ("bill@gmail.con", "gmail.con", "gmail.com"),
        ("bill@yaho.com", "yaho.com", "yahoo.com"),
        ("bill@hotmial.com", "hotmial.com", "hotmail.com"),
        ("bill@outlok.com", "outlok.com", "outlook.com"),
        ("bill@icloud.co", "icloud.co", "icloud.com"),
        ("bill@aol.co", "aol.co", "aol.com"),
        ("bill@comcast.ent", "comcast.ent", "comcast.net"),
        ("bill@att.nte", "att.nte", "att.net"),
        ("Bill@GMIAL.com", "gmial.com", "gmail.com"),
    ],
)
def test_common_domain_typos_get_a_suggestion(raw, typo, intended):
    normalized = email_normalize(raw)

    assert normalized == NormalizedEmail(
        value=raw.lower(),
        is_valid=False,
        problem=f"{typo} looks like a typo for {intended}",
        suggestion=f"bill@{intended}",
    )
    assert email_key(raw) == ""


@pytest.mark.parametrize(
    "domain",
    [
        "mail.com",
        "me.com",
        "msn.com",
        "live.com",
        "aon.com",
        "yahoo.ca",
        "googlemail.com",
        "att.com",
    ],
)
def test_real_domains_near_a_common_one_are_not_corrected(domain):
    normalized = email_normalize(f"bill@{domain}")

    assert (normalized.is_valid, normalized.problem, normalized.suggestion) == (True, "", "")


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("john.smith+hvac@gmail.com", "johnsmith@gmail.com"),
        ("John.Smith@Gmail.com", "johnsmith@gmail.com"),
        ("j.o.h.n.smith@googlemail.com", "johnsmith@gmail.com"),
        ("john.smith+hvac@example.com", "john.smith@example.com"),
        ("john.smith@example.com", "john.smith@example.com"),
        ("john+a+b@yahoo.com", "john@yahoo.com"),
        ("+hvac@example.com", "+hvac@example.com"),
        ("not an email", ""),
        ("", ""),
    ],
)
def test_email_key_is_one_key_per_mailbox(raw, key):
    assert email_key(raw) == key
