"""Stripe JSON ↔ our values: minor units ↔ Decimal, checkout params, event summaries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF"}


def exponent(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def to_minor(amount: Decimal, currency: str) -> int:
    scaled = Decimal(amount).scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(scaled)


def from_minor(value: int, currency: str) -> Decimal:
    places = exponent(currency)
    return (Decimal(int(value)).scaleb(-places)).quantize(Decimal(1).scaleb(-places))


def when(timestamp) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC) if timestamp else None


def checkout_params(
    *, invoice, amount: Decimal, success_url: str, cancel_url: str, expires_at: dt.datetime
) -> dict:
    metadata = {
        "invoice_id": str(invoice.pk),
        "invoice_number": invoice.number or "",
        "organization_id": str(invoice.organization_id),
    }
    return {
        "mode": "payment",
        "client_reference_id": str(invoice.pk),
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": invoice.currency.lower(),
                    "unit_amount": to_minor(amount, invoice.currency),
                    "product_data": {"name": f"Invoice {invoice.number or invoice.pk}"},
                },
            }
        ],
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires_at.timestamp()),
    }


@dataclass(frozen=True)
class Paid:
    """A payment that succeeded: a completed Checkout Session or a PaymentIntent."""

    session_id: str
    payment_intent: str
    invoice_id: int | None
    organization_id: int | None
    amount: Decimal
    currency: str
    received_at: dt.datetime | None


@dataclass(frozen=True)
class Refunded:
    refund_id: str
    payment_intent: str
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class Disputed:
    payment_intent: str
    amount: Decimal
    status: str  # needs_response, ..., won, lost, warning_closed


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def paid_from(event: dict) -> Paid | None:
    """The payment an event reports, or None when it reports none (an unpaid session)."""
    obj = event["data"]["object"]
    metadata = obj.get("metadata") or {}
    currency = (obj.get("currency") or "").upper()
    if event["type"] == "checkout.session.completed":
        if obj.get("payment_status") != "paid":
            return None
        cents, session_id = obj.get("amount_total") or 0, obj.get("id") or ""
        intent = obj.get("payment_intent") or ""
        if isinstance(intent, dict):
            intent = intent.get("id") or ""
    else:
        cents, session_id, intent = obj.get("amount_received") or 0, "", obj.get("id") or ""
    return Paid(
        session_id=session_id,
        payment_intent=intent,
        invoice_id=_int_or_none(metadata.get("invoice_id")),
        organization_id=_int_or_none(metadata.get("organization_id")),
        amount=from_minor(cents, currency or "USD"),
        currency=currency,
        received_at=when(obj.get("created") or event.get("created")),
    )


def refunds_from(event: dict) -> list[Refunded]:
    """Succeeded refunds in a `charge.refunded` (its `refunds` list) or `refund.*` event."""
    obj = event["data"]["object"]
    if event["type"] == "charge.refunded":
        items = (obj.get("refunds") or {}).get("data") or []
    else:
        items = [obj]
    found = []
    for item in items:
        if item.get("status") != "succeeded":
            continue
        currency = (item.get("currency") or obj.get("currency") or "usd").upper()
        found.append(
            Refunded(
                refund_id=item["id"],
                payment_intent=item.get("payment_intent") or obj.get("payment_intent") or "",
                amount=from_minor(item.get("amount") or 0, currency),
                reason=item.get("reason") or "requested_by_customer",
            )
        )
    return found


def dispute_from(event: dict) -> Disputed:
    obj = event["data"]["object"]
    return Disputed(
        payment_intent=obj.get("payment_intent") or "",
        amount=from_minor(obj.get("amount") or 0, (obj.get("currency") or "usd").upper()),
        status=obj.get("status") or "",
    )
