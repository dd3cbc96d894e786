"""The one retry policy: which failures are worth another try, and when.

Every retrying caller (the outbox relay, the geocoding task, later the connectors) asks
`retry_decide`, so they all agree: timeouts, dropped connections, 5xx and 429 are retried; a
`Retry-After` the provider gave is honoured; otherwise exponential backoff with jitter; a
Celery soft time limit is a retry, never a dead letter; everything else (4xx, bad data, our own
bugs) fails at once with its reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded

from dispatchnode.core.http import ProviderError


class RetryableDeliveryError(Exception):
    """A side effect failed in a way worth retrying (timeout, 5xx, rate limit).

    `retry_after` (seconds) is a wait the other side asked for; when absent, the cause's
    (`raise RetryableDeliveryError(...) from provider_error`) is used.
    """

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay: float  # seconds until the next try (0 when not retrying)
    reason: str


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, RetryableDeliveryError | SoftTimeLimitExceeded | TimeoutError):
        return True
    return isinstance(error, ProviderError) and error.retryable


def _retry_after(error: BaseException) -> float | None:
    seen = error
    for _ in range(3):  # the error, its cause, the cause's cause
        wait = getattr(seen, "retry_after", None)
        if wait is not None:
            return float(wait)
        if seen.__cause__ is None:
            break
        seen = seen.__cause__
    return None


def backoff_delay(*, attempt: int, base: float, cap: float) -> float:
    """Exponential backoff for the `attempt`-th failure (1-based) with up to 25 % jitter."""
    delay = min(base * 2 ** max(attempt - 1, 0), cap)
    return min(delay + random.uniform(0, delay / 4), cap)


def retry_delay(error: BaseException, *, attempt: int, base: float, cap: float) -> float:
    """How long to wait after the `attempt`-th failure: the provider's Retry-After when it gave
    one, else the backoff; both capped."""
    wait = _retry_after(error)
    if wait is None:
        return backoff_delay(attempt=attempt, base=base, cap=cap)
    return max(min(wait, cap), 0.0)


def retry_decide(
    error: BaseException,
    *,
    attempt: int,
    max_attempts: int,
    base: float = 15.0,
    cap: float = 6 * 3600.0,
) -> RetryDecision:
    """Whether the `attempt`-th failure (1-based) earns another try, and after how long."""
    reason = f"{type(error).__name__}: {error}"[:2000]
    if isinstance(error, SoftTimeLimitExceeded):
        reason = "The attempt ran out of time (soft time limit); it will be tried again."
    if not is_retryable(error):
        return RetryDecision(retry=False, delay=0.0, reason=reason)
    if attempt >= max_attempts:
        return RetryDecision(
            retry=False, delay=0.0, reason=f"Gave up after {attempt} attempts. {reason}"
        )
    wait = _retry_after(error)
    delay = (
        min(wait, cap) if wait is not None else backoff_delay(attempt=attempt, base=base, cap=cap)
    )
    return RetryDecision(retry=True, delay=max(delay, 0.0), reason=reason)
