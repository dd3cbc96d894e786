"""Twilio webhook authentication: which organisation a request is for, and whether Twilio sent it.

Twilio signs every webhook with the account's auth token over the URL *as Twilio called it* plus
the POST parameters (`X-Twilio-Signature`). Behind a proxy or tunnel the URL Django sees differs
from the public one (scheme, host), so `PUBLIC_BASE_URL` wins when set. The organisation is found
from the numbers on the request before the signature is checked, because its auth token is the
key; nothing is stored before the check passes.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest
from twilio.request_validator import RequestValidator

from dispatchnode.accounts.models import Organization
from dispatchnode.accounts.selectors import organization_by_number

SIGNATURE_HEADER = "X-Twilio-Signature"


def webhook_url(request: HttpRequest) -> str:
    """The URL Twilio signed: `PUBLIC_BASE_URL` + path (and query) when set, else the URL as
    Django received it."""
    base = getattr(settings, "PUBLIC_BASE_URL", "")
    if base:
        return base.rstrip("/") + request.get_full_path()
    return request.build_absolute_uri()


def webhook_organization(
    *, params: Mapping[str, str], callback: bool = False
) -> Organization | None:
    """The organisation a Twilio webhook belongs to, found by our own number on it.

    Inbound calls, their turns and inbound SMS are found by `To` only: the dialled number is
    the organisation. Status and recording callbacks (`callback=True`) may be about outbound
    messages and calls, which carry our number in `From`, and recording callbacks carry neither,
    only `AccountSid`; then the organisation with that Twilio account answers (when exactly one
    does).
    """
    keys = ("To", "Called", "From", "Caller") if callback else ("To", "Called")
    for key in keys:
        number = (params.get(key) or "").strip()
        if number:
            organization = organization_by_number(e164=number)
            if organization is not None:
                return organization
    account_sid = (params.get("AccountSid") or "").strip()
    if callback and account_sid:
        matches = list(
            Organization.objects.filter(twilio_account_sid=account_sid, is_active=True)[:2]
        )
        if len(matches) == 1:
            return matches[0]
    return None


def signature_valid(*, organization: Organization, request: HttpRequest) -> bool:
    """True when the request carries a valid Twilio signature made with the organisation's auth
    token. An organisation without a token cannot be verified, so it is refused."""
    token = organization.twilio_auth_token or ""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(webhook_url(request), request.POST, signature)
