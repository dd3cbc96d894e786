"""Payment gateways: how invoicing asks a provider for a pay link or a refund.

Invoicing sits below integrations, so it never imports a vendor: a gateway (Stripe first,
`integrations.providers.stripe.gateway`) implements `PaymentGateway` and registers itself from
its app's `ready()`. `gateway_for` picks the first registered gateway that the organisation
has credentials for; None means the invoice is paid by hand (cash, check, card in person).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from dispatchnode.core.errors import ApplicationError

if TYPE_CHECKING:
    from dispatchnode.accounts.models import Organization
    from invoicing.models import Invoice, Payment


@dataclass(frozen=True)
class CheckoutLink:
    """A hosted payment page for one amount of one invoice."""

    provider: str
    provider_id: str
    url: str
    expires_at: dt.datetime | None = None


class GatewayError(ApplicationError):
    """The provider failed or refused. `retryable` says whether trying again later can work
    (a timeout, a 5xx, a 429) or not (bad credentials, a refused request)."""

    status_code = 502
    code = "gateway_error"

    def __init__(self, message: str, *, retryable: bool, **extra) -> None:
        super().__init__(message, retryable=retryable, **extra)
        self.retryable = retryable


class PaymentGateway(Protocol):
    key: str

    def available(self, *, organization: Organization) -> bool: ...

    def checkout_create(
        self,
        *,
        invoice: Invoice,
        amount: Decimal,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutLink: ...

    def refund_create(
        self, *, payment: Payment, amount: Decimal, reason: str, idempotency_key: str
    ) -> str: ...


_gateways: list[PaymentGateway] = []


def gateway_register(gateway: PaymentGateway) -> PaymentGateway:
    if all(known.key != gateway.key for known in _gateways):
        _gateways.append(gateway)
    return gateway


def gateway_get(key: str) -> PaymentGateway | None:
    return next((gateway for gateway in _gateways if gateway.key == key), None)


def gateway_for(*, organization: Organization) -> PaymentGateway | None:
    return next((g for g in _gateways if g.available(organization=organization)), None)
