"""A local fake of Twilio's Messages REST resource (a real socket on 127.0.0.1, no mocks).

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (and `GET`, the list filtered by `To` and
`From`, newest first) answers as Twilio does (see
/work/shared/reference/contracts.md §1.1-1.2): HTTP Basic auth with the account SID and auth
token, a form-encoded body, `201` with the message resource (RFC 2822 dates, counts as strings)
and the legacy error body `{"code", "message", "more_info", "status"}` otherwise:

- 401 / 20003 without the right credentials (or with another account's SID in the path);
- 400 / 21604, 21603, 21602 when `To`, `From` or `Body` is missing; 21617 for a body over 1,600
  characters; 21606 for a `From` that is not one of the account's `numbers` (when set);
- 400 / 21211 for a `To` that is not E.164 or is in `invalid`;
- 400 / 21610 for a `To` in `blocked` (the recipient replied STOP to this sender).

The defaults of `invalid` and `blocked` are Twilio's own magic test numbers (+15005550001 is
invalid, +15005550004 is blocked). Accepted messages are kept in `messages` for assertions;
the misbehaviours, scripted replies and request log come from `LocalHttpServer`.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.geocoders import LocalHttpServer, Reply, SeenRequest

API_VERSION = "2010-04-01"
MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
GSM_7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
MAX_BODY = 1600

DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token-" + "7" * 9


def twilio_error(status: int, code: int, message: str) -> Reply:
    return Reply.json(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )


def segments(body: str) -> int:
    """How many SMS segments Twilio bills for a body: GSM-7 160/153, otherwise UCS-2 70/67."""
    single, multi = (160, 153) if set(body) <= GSM_7 else (70, 67)
    return 1 if len(body) <= single else math.ceil(len(body) / multi)


class FakeTwilioRest(LocalHttpServer):
    """One Twilio account's Messages resource."""

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        numbers: set[str] | None = None,
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.numbers = numbers  # the account's senders; None accepts any E.164 `From`
        self.invalid: set[str] = {"+15005550001"}
        self.blocked: set[str] = {"+15005550004"}
        self.initial_status = "queued"
        self.messages: list[dict[str, Any]] = []
        self.lists = 0  # how often the Messages list was read (a redelivery's reconcile)

    # --- routing ---------------------------------------------------------------------------

    def answer(self, request: SeenRequest) -> Reply:
        match = MESSAGES_PATH.match(request.path)
        if match is None:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        if not self._authenticated(request, account=match["account"]):
            reply = twilio_error(401, 20003, "Authenticate")
            reply.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return reply
        if request.method == "GET":
            return self._list(request.query)
        if request.method != "POST":
            return twilio_error(405, 20004, "Method not allowed")
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type != "application/x-www-form-urlencoded":
            return twilio_error(400, 20001, "Request body must be form-encoded")
        form = {
            k: v[-1] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()
        }
        return self._create(form)

    def _authenticated(self, request: SeenRequest, *, account: str) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.account_sid == account and password == self.auth_token

    # --- the resource ----------------------------------------------------------------------

    def _create(self, form: dict[str, str]) -> Reply:
        to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not sender:
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return twilio_error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            return twilio_error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if self.numbers is not None and sender not in self.numbers:
            return twilio_error(
                400,
                21606,
                f"The From phone number {sender} is not a valid, SMS-capable inbound phone "
                "number or short code for your account.",
            )
        if not E164.match(to) or to in self.invalid:
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.blocked:
            return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
        resource = self._resource(to=to, sender=sender, body=body)
        with self._lock:
            self.messages.append({**resource, "status_callback": form.get("StatusCallback")})
        return Reply.json(resource, status=201)

    def _list(self, query: dict[str, str]) -> Reply:
        """The Messages list, newest first, filtered by `To` and `From` as Twilio does."""
        to, sender = query.get("To", ""), query.get("From", "")
        size = min(int(query.get("PageSize") or 50), 1000)
        with self._lock:
            found = [
                {k: v for k, v in m.items() if k != "status_callback"}
                for m in reversed(self.messages)
                if (not to or m["to"] == to) and (not sender or m["from"] == sender)
            ][:size]
        with self._lock:
            self.lists += 1
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        return Reply.json(
            {
                "messages": found,
                "page": 0,
                "page_size": size,
                "uri": uri,
                "first_page_uri": uri,
                "next_page_uri": None,
                "previous_page_uri": None,
            }
        )

    def _resource(self, *, to: str, sender: str, body: str) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(datetime.now(UTC).replace(microsecond=0))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "status": self.initial_status,
            "direction": "outbound-api",
            "from": sender,
            "to": to,
            "body": body,
            "num_segments": str(segments(body)),
            "num_media": "0",
            "messaging_service_sid": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "api_version": API_VERSION,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "uri": f"{uri}.json",
            "subresource_uris": {"media": f"{uri}/Media.json"},
        }
