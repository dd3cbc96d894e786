"""The Stripe client of one organisation: its secret key, our base URL, explicit timeouts and
retries; every Stripe error becomes a `GatewayError` saying whether a retry can help."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import stripe
from django.conf import settings

from invoicing.gateways import GatewayError

T = TypeVar("T")


def stripe_client(*, organization) -> stripe.StripeClient:
    return stripe.StripeClient(
        organization.stripe_secret_key,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT),
    )


def stripe_call(what: str, call: Callable[[], T]) -> T:
    """Run one SDK call; translate its errors."""
    try:
        return call()
    except stripe.APIConnectionError as error:
        raise GatewayError(
            f"Stripe could not be reached to {what}; try again shortly. ({error.user_message})",
            retryable=True,
        ) from error
    except stripe.RateLimitError as error:
        raise GatewayError(
            f"Stripe is busy ({what}); try again shortly.", retryable=True
        ) from error
    except stripe.AuthenticationError as error:
        raise GatewayError(
            f"Stripe refused this company's secret key ({what}).", retryable=False
        ) from error
    except stripe.StripeError as error:
        status = error.http_status or 0
        retryable = status >= 500 or status == 409
        message = error.user_message or str(error) or "no message"
        raise GatewayError(
            f"Stripe failed to {what} (HTTP {status or '-'}): {message}",
            retryable=retryable,
            provider_code=error.code or "",
        ) from error
