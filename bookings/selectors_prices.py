"""The price book as the phone agent reads it.

The price book lives in `invoicing` (a price is what an invoice line charges), which sits above
bookings, so bookings never imports it: `invoicing.apps` registers a `PriceBookReader` at
start-up, and the agent sees only `PriceQuote` values, never a model. Without a reader (no
invoicing installed) there is no price book, and the agent quotes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from dispatchnode.accounts.models import Organization

# Rows one lookup may return: enough for a service's lines and a handful of name matches, so a
# price book of 5,000 parts costs what one of 50 does.
MAX_QUOTES = 40


@dataclass(frozen=True)
class PriceQuote:
    """One active price-book entry, as the agent may say it."""

    item_id: int
    code: str
    name: str  # as written in the price book ("AC tune-up (precision cooling maintenance)")
    price: Decimal
    currency: str  # the organisation's currency
    kind: str  # service, labor, part, equipment or fee (discounts are never quoted)
    unit: str  # "each", "hour", "lb"
    category: str  # hvac, plumbing, electrical, roofing or general
    service_type_id: int | None  # the service type this is the default line of
    # A diagnostic visit or service-call fee: what finding the problem costs, not the repair.
    diagnostic: bool
    # The price is the price of the work. False for a diagnostic fee (the repair depends on
    # what is found) and for labour (by the hour).
    flat_rate: bool


class PriceBookReader(Protocol):
    def price_quotes(
        self,
        *,
        organization: Organization,
        service_type_ids: Sequence[int],
        names: Sequence[str],
        limit: int,
    ) -> list[PriceQuote]:
        """The organisation's active entries that are the default line of one of
        `service_type_ids` or whose name contains one of `names` (case-insensitive), at most
        `limit`, in one query."""
        ...


_reader: PriceBookReader | None = None


def price_book_reader_register(reader: PriceBookReader) -> PriceBookReader:
    """Make `reader` the reader behind `price_quotes`."""
    global _reader
    _reader = reader
    return reader


def price_quotes(
    *,
    organization: Organization,
    service_type_ids: Sequence[int] = (),
    names: Sequence[str] = (),
    limit: int = MAX_QUOTES,
) -> list[PriceQuote]:
    """Candidate entries for a price question (see `PriceBookReader.price_quotes`); none without
    a registered reader or without anything to look for."""
    if _reader is None or not (service_type_ids or names):
        return []
    return _reader.price_quotes(
        organization=organization,
        service_type_ids=tuple(service_type_ids),
        names=tuple(names),
        limit=limit,
    )
