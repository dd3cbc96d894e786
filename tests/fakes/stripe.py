"""A local fake of the Stripe API parts we use (a real socket on 127.0.0.1, no mocks).

Follows /work/shared/reference/contracts.md §2: form bodies in bracket notation, `Bearer` key
(401 envelope otherwise), `{"error": {...}}` envelopes with a `Request-Id` header, ids minted
with Stripe's prefixes, the idempotency store (same key and params → the same answer with
`Idempotent-Replayed: true`; other params → 400 `idempotency_error`).

API: `POST /v1/checkout/sessions`, `GET /v1/checkout/sessions/{id}`,
`POST /v1/checkout/sessions/{id}/expire`, `GET /v1/payment_intents/{id}`, `POST /v1/refunds`,
`GET /v1/events`. Controls: `POST /_fake/reset`, `GET /_fake/requests`, the `POST /_fake/...`
routes of `_control`, and in Python
`complete_session`, `refund`, `dispute`, `dispute_close` (each returns the events Stripe
would send, in Stripe's order), `signed(event)` → (body, Stripe-Signature) and
`deliver(event, url)`.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.geocoders import LocalHttpServer, Reply, SeenRequest

API_VERSION = "2026-10-28.endive"
DEFAULT_KEY = "sk_test_fake_" + "4" * 24
DEFAULT_WEBHOOK_SECRET = "whsec_fake_" + "9" * 24
SESSION = re.compile(r"^/v1/checkout/sessions/(?P<id>[^/]+)(?P<expire>/expire)?$")
INTENT = re.compile(r"^/v1/payment_intents/(?P<id>[^/]+)$")


def mint(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def form_parse(body: str) -> dict[str, Any]:
    """`a[b][0][c]=1&expand[]=x` → {"a": {"b": [{"c": "1"}]}, "expand": ["x"]}."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head, *rest = re.split(r"\[", key)
        parts = [head] + [p.rstrip("]") for p in rest]
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                node.setdefault("__list__", []).append(value)
                break
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if set(node) == {"__list__"}:
        return node["__list__"]
    if node and all(k.isdigit() for k in node):
        return [_lists(node[k]) for k in sorted(node, key=int)]
    return {k: _lists(v) for k, v in node.items()}


def stripe_sig(payload: str, secret: str, ts: int | None = None) -> str:
    ts = ts or int(time.time())
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def stripe_error(
    status: int, message: str, *, type: str = "invalid_request_error", code: str = "", param=""
) -> Reply:
    error = {"type": type, "message": message}
    if code:
        error.update(code=code, doc_url=f"https://stripe.com/docs/error-codes/{code}")
    if param:
        error["param"] = param
    return Reply.json({"error": error}, status=status, **{"Request-Id": mint("req")})


class FakeStripe(LocalHttpServer):
    def __init__(self, *, api_key: str = DEFAULT_KEY, webhook_secret=DEFAULT_WEBHOOK_SECRET):
        super().__init__()
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self._state = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._state:
            self.sessions: dict[str, dict] = {}
            self.intents: dict[str, dict] = {}
            self.charges: dict[str, dict] = {}
            self.refunds: dict[str, dict] = {}
            self.disputes: dict[str, dict] = {}
            self.events: list[dict] = []
            self.idempotency: dict[str, tuple[str, Reply]] = {}
        self.requests.clear()

    def forms(self, path: str) -> list[dict]:
        """The parsed form bodies of the POSTs to `path`, in order."""
        return [form_parse(r.body.decode()) for r in self.requests if r.path == path]

    # --- routing -----------------------------------------------------------------------------

    def answer(self, request: SeenRequest) -> Reply:
        if request.path == "/_fake/reset":
            self.reset()
            return Reply.json({"ok": True})
        if request.path == "/_fake/requests":
            return Reply.json(
                [
                    {"method": r.method, "path": r.path, "form": form_parse(r.body.decode())}
                    for r in self.requests
                    if not r.path.startswith("/_fake/")
                ]
            )
        if request.path.startswith("/_fake/") and request.method == "POST":
            return self._control(request.path, form_parse(request.body.decode()))
        if request.headers.get("authorization", "") != f"Bearer {self.api_key}":
            return stripe_error(
                401, "Invalid API Key provided.", type="invalid_request_error", code=""
            )
        key = request.headers.get("idempotency-key", "")
        if request.method != "POST" or not key:
            return self._route(request)
        fingerprint = f"{request.path}?{request.body.decode()}"
        with self._state:
            seen = self.idempotency.get(key)
            if seen is not None:
                if seen[0] != fingerprint:
                    return stripe_error(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with.",
                        type="idempotency_error",
                    )
                replay = copy.copy(seen[1])
                replay.headers = {**seen[1].headers, "Idempotent-Replayed": "true"}
                return replay
            reply = self._route(request)
            if reply.status not in (401, 429):
                self.idempotency[key] = (fingerprint, reply)
            return reply

    def _route(self, request: SeenRequest) -> Reply:
        form = form_parse(request.body.decode()) if request.method == "POST" else {}
        with self._state:
            if request.path == "/v1/checkout/sessions" and request.method == "POST":
                return self._session_create(form)
            if (match := SESSION.match(request.path)) is not None:
                session = self.sessions.get(match["id"])
                if session is None:
                    return self._missing("checkout.session", match["id"])
                if match["expire"] and request.method == "POST":
                    return self._session_expire(session)
                return Reply.json(session)
            if (match := INTENT.match(request.path)) is not None:
                intent = self.intents.get(match["id"])
                return (
                    Reply.json(intent) if intent else self._missing("payment_intent", match["id"])
                )
            if request.path == "/v1/refunds" and request.method == "POST":
                return self._refund_create(form)
            if request.path == "/v1/events" and request.method == "GET":
                found = list(reversed(self.events))
                if request.query.get("type"):
                    found = [e for e in found if e["type"] == request.query["type"]]
                limit = int(request.query.get("limit") or 10)
                return Reply.json(
                    {
                        "object": "list",
                        "data": found[:limit],
                        "has_more": len(found) > limit,
                        "url": "/v1/events",
                    }
                )
        return stripe_error(404, f"Unrecognized request URL ({request.method}: {request.path}).")

    def _missing(self, kind: str, ident: str) -> Reply:
        return stripe_error(404, f"No such {kind}: '{ident}'", code="resource_missing", param="id")

    def _control(self, path: str, form: dict) -> Reply:
        """`/_fake/sessions/{id}/complete` (amount), `/_fake/refunds` (payment_intent, amount),
        `/_fake/disputes` (payment_intent, amount), `/_fake/disputes/{id}/close` (won=true|false),
        `/_fake/deliver` (event, url): the Python controls over HTTP; they answer the events."""
        amount = int(form["amount"]) if form.get("amount") else None
        try:
            if m := re.match(r"^/_fake/sessions/([^/]+)/complete$", path):
                events = self.complete_session(m[1], amount=amount)
            elif path == "/_fake/refunds":
                events = self.refund(form["payment_intent"], amount=amount)
            elif path == "/_fake/disputes":
                events = self.dispute(form["payment_intent"], amount=amount)
            elif m := re.match(r"^/_fake/disputes/([^/]+)/close$", path):
                events = self.dispute_close(m[1], won=form.get("won") == "true")
            elif path == "/_fake/deliver":
                event = next(e for e in self.events if e["id"] == form["event"])
                status, body = self.deliver(event, form["url"])
                return Reply.json({"status": status, "body": body})
            else:
                return stripe_error(404, f"Unknown control {path}.")
        except (KeyError, StopIteration) as error:
            return stripe_error(404, f"Unknown object: {error}", code="resource_missing")
        return Reply.json({"object": "list", "data": events})

    # --- resources ---------------------------------------------------------------------------

    def _session_create(self, form: dict) -> Reply:
        if form.get("mode") != "payment":
            return stripe_error(400, "This fake supports mode=payment only.", param="mode")
        items = form.get("line_items") or []
        if not items:
            return stripe_error(400, "Missing required param: line_items.", param="line_items")
        total, currency = 0, None
        for i, item in enumerate(items):
            price = item.get("price_data") or {}
            try:
                unit, quantity = int(price["unit_amount"]), int(item.get("quantity") or 1)
            except (KeyError, ValueError):
                return stripe_error(
                    400, "Invalid line item.", param=f"line_items[{i}][price_data][unit_amount]"
                )
            if not (price.get("product_data") or {}).get("name"):
                return stripe_error(400, "Missing product name.", param=f"line_items[{i}]")
            total += unit * quantity
            currency = price.get("currency")
        if not form.get("success_url"):
            return stripe_error(400, "Missing required param: success_url.", param="success_url")
        now = int(time.time())
        expires_at = int(form.get("expires_at") or now + 86400)
        if not now + 1800 - 5 <= expires_at <= now + 86400 + 5:
            return stripe_error(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours.",
                param="expires_at",
            )
        ident = "cs_test_" + secrets.token_hex(16)
        session = {
            "id": ident,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": form.get("cancel_url"),
            "client_reference_id": form.get("client_reference_id"),
            "created": now,
            "currency": currency,
            "customer": None,
            "expires_at": expires_at,
            "livemode": False,
            "metadata": form.get("metadata") or {},
            "mode": "payment",
            "payment_intent": None,
            "payment_link": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": form["success_url"],
            "url": f"{self.url}/c/pay/{ident}",
            "_intent_metadata": (form.get("payment_intent_data") or {}).get("metadata") or {},
        }
        self.sessions[ident] = session
        return Reply.json(self._public(session))

    def _session_expire(self, session: dict) -> Reply:
        if session["status"] != "open":
            return stripe_error(
                400, 'Only Checkout Sessions with a status in ["open"] can be expired.'
            )
        session["status"] = "expired"
        self._emit("checkout.session.expired", session)
        return Reply.json(self._public(session))

    def _refund_create(self, form: dict) -> Reply:
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None:
            return self._missing("payment_intent", form.get("payment_intent", ""))
        charge = self.charges[intent["latest_charge"]]
        left = charge["amount"] - charge["amount_refunded"]
        amount = int(form.get("amount") or left)
        if left <= 0:
            return stripe_error(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount > left:
            return stripe_error(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount ({left}).",
                code="amount_too_large",
                param="amount",
            )
        refund = self._refund(intent, amount, form.get("reason") or None, form.get("metadata"))
        return Reply.json(refund)

    def _refund(self, intent: dict, amount: int, reason, metadata) -> dict:
        charge = self.charges[intent["latest_charge"]]
        refund = {
            "id": mint("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "created": int(time.time()),
            "currency": charge["currency"],
            "metadata": metadata or {},
            "payment_intent": intent["id"],
            "reason": reason,
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        charge["refunds"]["data"].insert(0, refund)
        self._emit("charge.refunded", charge)
        self._emit("refund.created", refund)
        return refund

    @staticmethod
    def _public(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _emit(self, kind: str, obj: dict) -> dict:
        event = {
            "id": mint("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": copy.deepcopy(self._public(obj))},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        self.events.append(event)
        return event

    # --- controls: make Stripe do something ----------------------------------------------------

    def complete_session(self, session_id: str, *, amount: int | None = None) -> list[dict]:
        """The customer pays the session (`amount` in cents, the whole total by default):
        charge.succeeded, payment_intent.succeeded, checkout.session.completed."""
        with self._state:
            session = self.sessions[session_id]
            start = len(self.events)
            cents = session["amount_total"] if amount is None else amount
            now = int(time.time())
            intent = {
                "id": mint("pi"),
                "object": "payment_intent",
                "amount": cents,
                "amount_received": cents,
                "currency": session["currency"],
                "created": now,
                "livemode": False,
                "metadata": dict(session["_intent_metadata"]),
                "status": "succeeded",
                "latest_charge": None,
            }
            charge = {
                "id": mint("ch"),
                "object": "charge",
                "amount": cents,
                "amount_captured": cents,
                "amount_refunded": 0,
                "captured": True,
                "created": now,
                "currency": session["currency"],
                "disputed": False,
                "livemode": False,
                "metadata": dict(session["_intent_metadata"]),
                "paid": True,
                "payment_intent": intent["id"],
                "refunded": False,
                "status": "succeeded",
                "refunds": {
                    "object": "list",
                    "data": [],
                    "has_more": False,
                    "url": f"/v1/charges/{mint('ch')}/refunds",
                },
            }
            intent["latest_charge"] = charge["id"]
            self.intents[intent["id"]], self.charges[charge["id"]] = intent, charge
            session.update(
                status="complete",
                payment_status="paid",
                payment_intent=intent["id"],
                amount_total=cents,
            )
            self._emit("charge.succeeded", charge)
            self._emit("payment_intent.succeeded", intent)
            self._emit("checkout.session.completed", session)
            return self.events[start:]

    def refund(self, payment_intent: str, *, amount: int | None = None) -> list[dict]:
        with self._state:
            start = len(self.events)
            intent = self.intents[payment_intent]
            charge = self.charges[intent["latest_charge"]]
            self._refund(
                intent,
                amount or charge["amount"] - charge["amount_refunded"],
                "requested_by_customer",
                {},
            )
            return self.events[start:]

    def dispute(self, payment_intent: str, *, amount: int | None = None) -> list[dict]:
        with self._state:
            start = len(self.events)
            intent = self.intents[payment_intent]
            charge = self.charges[intent["latest_charge"]]
            dispute = {
                "id": mint("dp"),
                "object": "dispute",
                "amount": amount or charge["amount"],
                "charge": charge["id"],
                "created": int(time.time()),
                "currency": charge["currency"],
                "livemode": False,
                "metadata": {},
                "payment_intent": payment_intent,
                "reason": "fraudulent",
                "status": "needs_response",
            }
            self.disputes[dispute["id"]] = dispute
            charge["disputed"] = True
            self._emit("charge.dispute.created", dispute)
            self._emit("charge.dispute.funds_withdrawn", dispute)
            return self.events[start:]

    def dispute_close(self, dispute_id: str, *, won: bool) -> list[dict]:
        with self._state:
            start = len(self.events)
            dispute = self.disputes[dispute_id]
            dispute["status"] = "won" if won else "lost"
            if won:
                self._emit("charge.dispute.funds_reinstated", dispute)
            self._emit("charge.dispute.closed", dispute)
            return self.events[start:]

    # --- delivery ---------------------------------------------------------------------------

    def signed(self, event: dict, *, secret: str | None = None, timestamp: int | None = None):
        """(body bytes, Stripe-Signature header) exactly as Stripe sends them."""
        body = json.dumps(event, indent=2)
        return body.encode(), stripe_sig(body, secret or self.webhook_secret, timestamp)

    def deliver(self, event: dict, url: str, **sign) -> tuple[int, dict]:
        body, header = self.signed(event, **sign)
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an HTTP URL: {url}")
        request = urllib.request.Request(  # noqa: S310 (checked above)
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": header,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
