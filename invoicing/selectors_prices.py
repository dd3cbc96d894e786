"""The phone agent's view of the price book (`bookings.selectors_prices.PriceBookReader`),
registered by `invoicing.apps`: plain `PriceQuote` values, one query per lookup."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import reduce
from operator import or_

from django.db.models import Case, Q, Value, When

from bookings.selectors_prices import PriceQuote
from dispatchnode.accounts.models import Organization
from invoicing.models import PriceBookItem

# An entry that prices finding the problem rather than fixing it.
_DIAGNOSTIC = re.compile(r"diagnos|service call|call[- ]?out", re.IGNORECASE)


def price_quote_of(item: PriceBookItem, *, currency: str) -> PriceQuote:
    diagnostic = bool(_DIAGNOSTIC.search(item.name) or _DIAGNOSTIC.search(item.code))
    return PriceQuote(
        item_id=item.pk,
        code=item.code,
        name=item.name,
        price=item.unit_price,
        currency=currency,
        kind=item.kind,
        unit=item.unit,
        category=item.category,
        service_type_id=item.service_type_id,
        diagnostic=diagnostic,
        flat_rate=not diagnostic and item.kind != PriceBookItem.Kind.LABOR,
    )


def _own_lines_first(service_type_ids: Sequence[int]) -> Case:
    if not service_type_ids:
        return Case(default=Value(1))
    return Case(When(service_type_id__in=list(service_type_ids), then=Value(0)), default=Value(1))


class PriceBookQuoteReader:
    """`PriceBookReader` for the phone agent."""

    def price_quotes(
        self,
        *,
        organization: Organization,
        service_type_ids: Sequence[int],
        names: Sequence[str],
        limit: int,
    ) -> list[PriceQuote]:
        wanted = [Q(service_type_id__in=list(service_type_ids))] if service_type_ids else []
        wanted += [Q(name__icontains=name) for name in names if name]
        if not wanted:
            return []
        items = (
            PriceBookItem.objects.filter(organization=organization, is_active=True)
            .exclude(kind=PriceBookItem.Kind.DISCOUNT)
            .filter(reduce(or_, wanted))
            # The requested services' own lines first, so the limit never cuts them off.
            .order_by(_own_lines_first(service_type_ids), "code", "id")[:limit]
        )
        currency = organization.currency or "USD"
        return [price_quote_of(item, currency=currency) for item in items]
