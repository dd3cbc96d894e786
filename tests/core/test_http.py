"""The outbound HTTP client against a real local server: every answer maps to one error class."""

from __future__ import annotations

import json
import logging
import pickle
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from dispatchnode.core.http import (
    BODY_EXCERPT_CHARS,
    AuthExpired,
    HttpClient,
    InvalidResponse,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
    parse_retry_after,
)
from tests.fakes.geocoders import Reply, ScriptedServer


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    running = ScriptedServer().start()
    yield running
    running.stop()


@pytest.fixture
def client(server) -> Iterator[HttpClient]:
    with HttpClient(
        provider="acme", label="Acme CRM", base_url=server.url, timeout=0.5
    ) as http_client:
        yield http_client


def raised(call) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        call()
    return info.value


# --- success ------------------------------------------------------------------------------


def test_get_json_returns_the_parsed_body_and_sends_params(server, client):
    server.reply(Reply.json({"customers": [{"id": "c_1"}]}))

    data = client.get_json("/v1/customers", params={"page": 2, "q": "smith"})

    assert data == {"customers": [{"id": "c_1"}]}
    [seen] = server.requests
    assert (seen.method, seen.path, seen.query) == (
        "GET",
        "/v1/customers",
        {"page": "2", "q": "smith"},
    )
    assert seen.headers["accept"] == "application/json"


def test_user_agent_names_the_product_version_and_public_address(server, settings):
    settings.PUBLIC_BASE_URL = "https://dispatch.example.com"
    server.reply(Reply.json({}))

    with HttpClient(provider="acme", base_url=server.url) as http_client:
        http_client.get_json("/ping")

    assert server.requests[0].headers["user-agent"] == (
        "DispatchNode/0.1.0 (+https://dispatch.example.com)"
    )


def test_user_agent_without_public_address(server, settings):
    settings.PUBLIC_BASE_URL = ""
    server.reply(Reply.json({}))

    with HttpClient(provider="acme", base_url=server.url) as http_client:
        http_client.get_json("/ping")

    assert server.requests[0].headers["user-agent"] == "DispatchNode/0.1.0"


def test_post_json_sends_the_body_and_the_idempotency_key(server, client):
    server.reply(Reply.json({"id": "inv_9"}, status=201))

    data = client.post_json(
        "/v1/invoices",
        json={"total": "120.00"},
        headers={"X-Tenant": "7"},
        idempotency_key="job-42",
    )

    assert data == {"id": "inv_9"}
    [seen] = server.requests
    assert seen.method == "POST"
    assert json.loads(seen.body) == {"total": "120.00"}
    assert seen.headers["idempotency-key"] == "job-42"
    assert seen.headers["x-tenant"] == "7"


def test_post_json_without_key_sends_no_idempotency_header(server, client):
    server.reply(Reply(status=204))

    assert client.post_json("/v1/ping", data={"a": "1"}) is None
    assert "idempotency-key" not in server.requests[0].headers
    assert server.requests[0].body == b"a=1"


def test_an_absolute_url_bypasses_the_base_url(server):
    server.reply(Reply.json([1, 2]))

    with HttpClient(provider="acme", base_url="http://127.0.0.1:9") as http_client:
        assert http_client.get_json(f"{server.url}/elsewhere") == [1, 2]

    assert server.requests[0].path == "/elsewhere"


# --- status codes -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_unavailable_and_retryable(server, client, status):
    server.reply(Reply(status, b"oops", {"Content-Type": "text/plain"}))

    error = raised(lambda: client.get_json("/v1/x"))

    assert type(error) is ProviderUnavailable
    assert (error.retryable, error.provider, error.status) == (True, "acme", status)
    assert error.message == f"Acme CRM is having trouble (HTTP {status}); we will try again."
    assert error.retry_after is None


def test_503_keeps_its_retry_after_hint(server, client):
    server.reply(Reply(503, b"", {"Retry-After": "120"}))

    error = raised(lambda: client.get_json("/v1/x"))

    assert type(error) is ProviderUnavailable
    assert error.retry_after == 120.0


def test_429_is_rate_limited_with_retry_after_in_seconds(server, client):
    server.reply(Reply(429, b"slow down", {"Retry-After": "30"}))

    error = raised(lambda: client.get_json("/v1/x"))

    assert type(error) is RateLimited
    assert (error.retryable, error.status, error.retry_after) == (True, 429, 30.0)
    assert error.message == "Acme CRM is limiting how often we may ask. It asks us to wait 30 s."


def test_429_with_an_http_date(server, client):
    server.reply(Reply(429, b"", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))

    error = raised(lambda: client.get_json("/v1/x"))

    assert type(error) is RateLimited
    assert error.retry_after == 0.0  # that date is long past: retry now


def test_429_without_retry_after(server, client):
    server.reply(Reply(429, b""))

    error = raised(lambda: client.get_json("/v1/x"))

    assert type(error) is RateLimited
    assert error.retry_after is None
    assert error.message == "Acme CRM is limiting how often we may ask."


def test_401_is_auth_expired_and_not_retryable(server, client):
    server.reply(Reply.json({"error": "invalid_token"}, status=401))

    error = raised(lambda: client.get_json("/v1/x"))

    assert type(error) is AuthExpired
    assert (error.retryable, error.status) == (False, 401)
    assert error.message == "Acme CRM no longer accepts our credentials (HTTP 401); reconnect it."


def test_403_is_a_rejection_by_default(server, client):
    server.reply(Reply(403, b"forbidden"))

    error = raised(lambda: client.get_json("/v1/x"))

    assert type(error) is ProviderRejected
    assert (error.retryable, error.status, error.body) == (False, 403, "forbidden")


def test_403_is_auth_expired_when_the_caller_says_so(server):
    server.reply(Reply(403, b"token revoked"))

    with HttpClient(provider="acme", base_url=server.url, forbidden_is_auth=True) as http_client:
        error = raised(lambda: http_client.get_json("/v1/x"))

    assert type(error) is AuthExpired
    assert error.status == 403


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_other_4xx_are_rejections_that_keep_the_body(server, client, status):
    server.reply(Reply.json({"errors": ["Street address cannot be empty"]}, status=status))

    error = raised(lambda: client.post_json("/v1/x", json={}))

    assert type(error) is ProviderRejected
    assert (error.retryable, error.status) == (False, status)
    assert json.loads(error.body) == {"errors": ["Street address cannot be empty"]}
    assert error.message == f"Acme CRM refused the request (HTTP {status})."


def test_a_long_rejection_body_is_truncated(server, client):
    server.reply(Reply(400, b"x" * 50_000))

    error = raised(lambda: client.get_json("/v1/x"))

    assert error.body == "x" * BODY_EXCERPT_CHARS + "…"


def test_a_redirect_is_not_followed_and_is_an_invalid_response(server, client):
    server.reply(Reply(301, b"", {"Location": "https://elsewhere.example.com/"}))

    error = raised(lambda: client.get_json("/v1/x"))

    assert type(error) is InvalidResponse
    assert (error.retryable, error.status) == (False, 301)
    assert len(server.requests) == 1


# --- bodies -------------------------------------------------------------------------------


def test_html_with_200_is_an_invalid_response(server, client):
    server.reply(
        Reply(200, b"<html><body>Maintenance</body></html>", {"Content-Type": "text/html"})
    )

    error = raised(lambda: client.get_json("/v1/x"))

    assert type(error) is InvalidResponse
    assert (error.retryable, error.status) == (False, 200)
    assert error.message == "Acme CRM answered with something that is not JSON (text/html)."


def test_an_empty_200_is_an_invalid_response_for_json(server, client):
    server.reply(Reply(200, b"", {"Content-Type": "application/json"}))

    assert type(raised(lambda: client.get_json("/v1/x"))) is InvalidResponse


def test_request_returns_the_raw_response_for_non_json_bodies(server, client):
    server.reply(Reply(200, b"id,name\n1,Smith\n", {"Content-Type": "text/csv"}))

    response = client.request("GET", "/v1/export.csv")

    assert response.text == "id,name\n1,Smith\n"


# --- transport failures -------------------------------------------------------------------


def test_a_slow_answer_is_unavailable_in_the_dispatchers_words(server):
    server.reply(Reply(200, b"{}", {"Content-Type": "application/json"}, delay=3.0))

    with HttpClient(
        provider="census", label="Census geocoder", base_url=server.url, timeout=0.2
    ) as http_client:
        error = raised(lambda: http_client.request("GET", "/slow"))

    assert type(error) is ProviderUnavailable
    assert error.retryable is True
    assert error.status is None
    assert error.message == "Census geocoder did not answer within 0.2 s."


def test_nobody_listening_is_unavailable():
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with HttpClient(provider="acme", label="Acme CRM", base_url=f"http://127.0.0.1:{port}") as c:
        error = raised(lambda: c.get_json("/v1/x"))

    assert type(error) is ProviderUnavailable
    assert error.message == "Acme CRM could not be reached."


def test_a_dropped_connection_is_unavailable(server, client):
    server.reply(Reply(drop=True))

    error = raised(lambda: client.get_json("/v1/x"))

    assert type(error) is ProviderUnavailable
    assert error.message == "Acme CRM dropped the connection before answering."


def test_a_misconfigured_address_is_not_retryable():
    with HttpClient(provider="acme", label="Acme CRM", base_url="ftp://files.example.com") as c:
        error = raised(lambda: c.get_json("/v1/x"))

    assert type(error) is ProviderError
    assert error.retryable is False
    assert error.message.startswith("Acme CRM cannot be called:")


def test_an_undecodable_body_is_an_invalid_response():
    # A socket cannot easily send a broken gzip stream through http.server; MockTransport can.
    def broken_gzip(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip")

    with HttpClient(
        provider="acme",
        base_url="https://api.example.com",
        transport=httpx.MockTransport(broken_gzip),
    ) as c:
        error = raised(lambda: c.get_json("/v1/x"))

    assert type(error) is InvalidResponse


# --- the API envelope and logging ---------------------------------------------------------


def test_errors_render_in_the_api_envelope_naming_the_provider(server, client):
    server.reply(Reply(429, b"", {"Retry-After": "5"}))

    error = raised(lambda: client.get_json("/v1/x"))

    assert error.status_code == 503
    assert error.as_dict() == {
        "detail": "Acme CRM is limiting how often we may ask. It asks us to wait 5 s.",
        "code": "provider_rate_limited",
        "provider": "acme",
    }


def test_logs_method_host_status_and_time_but_never_the_query_or_body(server, client, caplog):
    server.reply(Reply.json({"secret": "body-secret"}), Reply(503, b""))

    with caplog.at_level(logging.INFO, logger="dispatchnode.core.http"):
        client.get_json("/v1/x", params={"api_key": "query-secret"})
        raised(lambda: client.post_json("/v1/y", json={"card": "body-secret"}))

    ok, failed = [r for r in caplog.records if r.name == "dispatchnode.core.http"]
    assert ok.levelno == logging.INFO
    assert ok.getMessage().startswith("acme GET 127.0.0.1 200 in ")
    assert ok.getMessage().endswith(" ms")
    assert failed.levelno == logging.WARNING
    assert failed.getMessage().startswith("acme POST 127.0.0.1 503 in ")
    assert failed.getMessage().endswith("ms: ProviderUnavailable")
    assert "secret" not in caplog.text


def test_errors_survive_pickling_with_their_class_and_attributes(server, client):
    # Celery pickles a task's exception (retries, worker pools); a lossy copy would turn a
    # RateLimited into a bare ApplicationError and lose retry_after.
    server.reply(Reply(429, b"", {"Retry-After": "9"}))
    error = raised(lambda: client.get_json("/v1/x"))

    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)

    assert type(copy) is RateLimited
    assert (copy.message, copy.provider, copy.status, copy.retry_after) == (
        error.message,
        "acme",
        429,
        9.0,
    )
    assert copy.retryable is True
    assert copy.as_dict() == error.as_dict()


def test_the_client_never_retries_by_itself(server, client):
    server.reply(Reply(503, b""), Reply.json({"ok": True}))

    raised(lambda: client.get_json("/v1/x"))

    assert len(server.requests) == 1


# --- Retry-After parsing ------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("-4", 0.0),
        ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header, now=NOW) == seconds
