"""Money is `Decimal` with the organisation's currency; amounts are rounded half-up to cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | str) -> Decimal:
    """Quantise to cents, half-up (how invoices and tax authorities round)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
