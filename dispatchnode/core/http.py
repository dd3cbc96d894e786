"""The one outbound HTTP client, and the typed errors every third-party call raises.

Geocoders today, messaging, payment and CRM connectors later: all of them go through
`HttpClient`, so a caller only ever has to decide between two things, "retry later"
(`error.retryable`) or "give up and record why". The client never retries by itself: retries
belong to Celery tasks, which know whether repeating a call is safe.

Error messages are written for a dispatcher reading the sync log ("Census geocoder did not
answer within 10 s"); the machine-readable part is the class, `provider`, `status` and, for rate
limits and outages, `retry_after`.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib import metadata
from typing import Any

import httpx
from django.conf import settings

from dispatchnode.core.errors import ApplicationError

logger = logging.getLogger(__name__)

# How much of a refused request's body is kept for the sync log.
BODY_EXCERPT_CHARS = 1000


class ProviderError(ApplicationError):
    """A third-party call failed. `retryable` says whether trying again later can help.

    `status_code` is what our own API answers when the failure reaches it (502: the fault is
    upstream); `status` is the HTTP status the provider gave, if it answered at all.
    """

    status_code = 502
    code = "provider_error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retry_after: float | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message, provider=provider, **extra)
        self.provider = provider
        self.status = status
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        """Celery and worker pools pickle exceptions; the default rebuilds from `args` alone and
        would lose the keyword-only provider (Celery then degrades the error to a base class)."""
        return (_rebuild_error, (type(self), self.message), self.__dict__)


def _rebuild_error(cls: type[ProviderError], message: str) -> ProviderError:
    error = cls.__new__(cls)
    error.args = (message,)
    return error


class ProviderUnavailable(ProviderError):
    """No answer, a dropped connection or a 5xx: the provider may be back in a moment."""

    status_code = 503
    code = "provider_unavailable"
    retryable = True


class RateLimited(ProviderError):
    """429: we asked too often. `retry_after` (seconds) is the provider's own hint, if any."""

    status_code = 503
    code = "provider_rate_limited"
    retryable = True


class AuthExpired(ProviderError):
    """401 (or 403 where the provider uses it so): the credentials must be renewed by a person."""

    code = "provider_auth_expired"


class ProviderRejected(ProviderError):
    """Any other 4xx: the provider refused this request; repeating it will not help."""

    code = "provider_rejected"

    def __init__(self, message: str, *, body: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.body = body


class InvalidResponse(ProviderError):
    """The provider said yes (2xx) but the body is not what its contract promises."""

    code = "provider_invalid_response"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).

    A date in the past means "now" (0.0); a value we cannot read means no hint (None).
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds else None  # NaN is no hint
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def user_agent() -> str:
    """`DispatchNode/<version> (+PUBLIC_BASE_URL)`: providers such as Nominatim require a UA that
    identifies the application and a way to reach its operator."""
    try:
        version = metadata.version("dispatchnode")
    except metadata.PackageNotFoundError:
        version = "dev"
    base_url = getattr(settings, "PUBLIC_BASE_URL", "")
    return f"DispatchNode/{version} (+{base_url})" if base_url else f"DispatchNode/{version}"


def _excerpt(text: str) -> str:
    return text if len(text) <= BODY_EXCERPT_CHARS else text[:BODY_EXCERPT_CHARS] + "…"


class HttpClient:
    """A thin, strict wrapper over `httpx.Client` for one provider.

    `provider` names the vendor in errors and logs ("census"); `label` is how a dispatcher
    knows it ("Census geocoder", defaults to `provider`). `forbidden_is_auth` makes 403 an
    `AuthExpired` for providers that answer a revoked token with 403 instead of 401.
    Redirects are not followed: an API that moved is a configuration problem to surface.
    The client is safe to share between threads; `close()` releases its pooled connections.
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str = "",
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        label: str = "",
        forbidden_is_auth: bool = False,
    ) -> None:
        self.provider = provider
        self.label = label or provider
        self.timeout = timeout
        self.forbidden_is_auth = forbidden_is_auth
        self._client = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            headers={"User-Agent": user_agent(), "Accept": "application/json", **(headers or {})},
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- public calls ---------------------------------------------------------------------

    def get_json(
        self,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        response = self.request("GET", path_or_url, params=params, headers=headers)
        return self._json(response)

    def post_json(
        self,
        path_or_url: str,
        *,
        json: Any = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """POST and read the JSON answer (None for 204). `idempotency_key` is sent as
        `Idempotency-Key`, so a task that repeats the call cannot create a second charge."""
        merged = dict(headers or {})
        if idempotency_key:
            merged["Idempotency-Key"] = idempotency_key
        response = self.request("POST", path_or_url, json=json, data=data, headers=merged)
        return self._json(response)

    def request(self, method: str, path_or_url: str, **kwargs: Any) -> httpx.Response:
        """Send one request; a 2xx comes back, everything else raises a `ProviderError`."""
        started = time.monotonic()
        try:
            response = self._client.request(method, path_or_url, **kwargs)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = self._transport_error(exc)
            self._log(method, self._host(path_or_url), None, started, error)
            raise error from exc
        error = self._status_error(response)
        self._log(method, response.request.url.host, response.status_code, started, error)
        if error is not None:
            raise error
        return response

    # --- mapping --------------------------------------------------------------------------

    def _transport_error(self, exc: httpx.HTTPError | httpx.InvalidURL) -> ProviderError:
        name = self.label
        if isinstance(exc, httpx.TimeoutException):
            return ProviderUnavailable(
                f"{name} did not answer within {self.timeout:g} s.", provider=self.provider
            )
        if isinstance(exc, httpx.ConnectError):
            return ProviderUnavailable(f"{name} could not be reached.", provider=self.provider)
        if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError | httpx.ProxyError):
            return ProviderUnavailable(
                f"{name} dropped the connection before answering.", provider=self.provider
            )
        if isinstance(exc, httpx.DecodingError):
            return InvalidResponse(
                f"{name} sent a body that could not be decoded.", provider=self.provider
            )
        # A bad URL or scheme: our configuration is wrong, retrying cannot fix it.
        return ProviderError(
            f"{name} cannot be called: {exc}. Check its configured address.",
            provider=self.provider,
        )

    def _status_error(self, response: httpx.Response) -> ProviderError | None:
        status = response.status_code
        name = self.label
        common = {"provider": self.provider, "status": status}
        if 200 <= status < 300:
            return None
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            wait = f" It asks us to wait {retry_after:g} s." if retry_after is not None else ""
            return RateLimited(
                f"{name} is limiting how often we may ask.{wait}", retry_after=retry_after, **common
            )
        if status >= 500:
            return ProviderUnavailable(
                f"{name} is having trouble (HTTP {status}); we will try again.",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                **common,
            )
        if status == 401 or (status == 403 and self.forbidden_is_auth):
            return AuthExpired(
                f"{name} no longer accepts our credentials (HTTP {status}); reconnect it.",
                **common,
            )
        if 400 <= status < 500:
            return ProviderRejected(
                f"{name} refused the request (HTTP {status}).",
                body=_excerpt(response.text),
                **common,
            )
        return InvalidResponse(f"{name} answered with unexpected HTTP {status}.", **common)

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code == 204:
            return None
        try:
            return json.loads(response.content)
        except ValueError as exc:  # JSONDecodeError and undecodable bytes
            kind = response.headers.get("Content-Type", "no content type").split(";")[0]
            raise InvalidResponse(
                f"{self.label} answered with something that is not JSON ({kind}).",
                provider=self.provider,
                status=response.status_code,
            ) from exc

    # --- logging --------------------------------------------------------------------------

    def _host(self, path_or_url: str) -> str:
        try:
            return self._client.build_request("GET", path_or_url).url.host or "?"
        except (httpx.HTTPError, httpx.InvalidURL):
            return "?"

    def _log(
        self,
        method: str,
        host: str,
        status: int | None,
        started: float,
        error: ProviderError | None,
    ) -> None:
        """Method, host, status and time only: query strings and bodies may carry secrets."""
        elapsed_ms = round((time.monotonic() - started) * 1000)
        outcome = status if status is not None else "no answer"
        if error is None:
            logger.info("%s %s %s %s in %d ms", self.provider, method, host, outcome, elapsed_ms)
        else:
            logger.warning(
                "%s %s %s %s in %d ms: %s",
                self.provider,
                method,
                host,
                outcome,
                elapsed_ms,
                type(error).__name__,
            )
