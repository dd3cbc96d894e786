"""Invoice lines from price book items: parsing what a technician or the API sent, and the
one rounding rule (see `invoice_totals`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from invoicing.models import PriceBookItem

CENT = Decimal("0.01")
MAX_LINES = 100

Line = tuple[PriceBookItem | int | str, Decimal | int | str]


def invoice_totals(
    *, lines: Iterable[tuple[Decimal, Decimal, bool]], tax_rate: Decimal
) -> tuple[list[tuple[Decimal, Decimal]], Decimal, Decimal]:
    """`(quantity, unit_price, taxable)` lines → ([(amount, tax)], subtotal, tax_total), each
    figure rounded half-up to cents per line (see `job_complete`)."""
    figures = []
    for quantity, unit_price, taxable in lines:
        amount = (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
        tax = (amount * tax_rate).quantize(CENT, rounding=ROUND_HALF_UP) if taxable else Decimal(0)
        figures.append((amount, tax))
    subtotal = sum((a for a, _ in figures), Decimal("0.00"))
    tax_total = sum((t for _, t in figures), Decimal("0.00"))
    return figures, subtotal, tax_total


def invoice_lines_parse(
    *, organization, lines: Iterable[Line]
) -> list[tuple[PriceBookItem, Decimal]]:
    lines = list(lines)
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": [f"At most {MAX_LINES} lines."]})
    wanted: list[tuple[object, Decimal | None]] = []
    errors: list[str] = []
    for index, (item, quantity) in enumerate(lines, start=1):
        ref = item.pk if isinstance(item, PriceBookItem) else item
        try:
            qty = Decimal(str(quantity))
        except (InvalidOperation, ValueError):
            qty = None
        if qty is None or not qty.is_finite() or qty <= 0:
            errors.append(f"Line {index}: the quantity must be a number above zero.")
        elif qty != qty.quantize(CENT):
            errors.append(f"Line {index}: the quantity has at most two decimals.")
        wanted.append((ref, qty))
    ids = set()
    for ref, _ in wanted:
        with contextlib.suppress(TypeError, ValueError):
            ids.add(int(ref))
    items = {
        item.pk: item
        for item in PriceBookItem.objects.filter(
            organization=organization, is_active=True, pk__in=ids
        )
    }
    parsed = []
    for index, (ref, qty) in enumerate(wanted, start=1):
        try:
            item = items.get(int(ref))
        except (TypeError, ValueError):
            item = None
        if item is None:
            errors.append(f"Line {index}: no active price book item {ref!s}.")
        parsed.append((item, qty))
    if errors:
        raise ValidationError({"lines": errors})
    return parsed
