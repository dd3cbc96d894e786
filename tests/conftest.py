"""Shared fixtures. The database is whatever DATABASE_URL names (PostgreSQL in CI) or SQLite."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from dispatchnode.accounts.services import api_token_issue
from tests import factories


def pytest_collection_modifyitems(config, items):
    """`postgres` tests need PostgreSQL; `redis` tests need REDIS_URL. Skip with the reason."""
    is_sqlite = settings.DATABASE_IS_SQLITE
    for item in items:
        if is_sqlite and item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if not settings.REDIS_URL and item.get_closest_marker("redis"):
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))


@pytest.fixture(autouse=True)
def hermetic_settings(settings):
    """The settings the suite relies on, pinned whatever the shell exports: on a real host
    PUBLIC_BASE_URL, ALLOWED_HOSTS and the DEMO_* values are set, and Twilio signatures, host
    checks and the demo's logins would follow them. A test that needs another value sets it."""
    settings.PUBLIC_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1", "[::1]"]
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.DEMO_PASSWORD = "demo"
    settings.DEMO_API_TOKEN = ""
    settings.DEMO_TWILIO_AUTH_TOKEN = "demo-twilio-auth-token"


@pytest.fixture
def broker_for_tests(settings):
    """Broker mode on the test Redis (REDIS_URL) for this test only, its queues emptied before
    and after: for the tests that run a real Celery worker."""
    from dispatchnode.celery import app

    settings.TASKS = "broker"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = app.conf.broker_url
    app.conf.broker_url = settings.REDIS_URL
    app.control.purge()
    yield app
    app.control.purge()
    app.conf.broker_url = saved


@pytest.fixture
def org(db):
    return factories.OrganizationFactory()


@pytest.fixture
def other_org(db):
    return factories.OrganizationFactory()


@pytest.fixture
def api_client_for():
    """`api_client_for(org, scopes=[...])` → an APIClient authenticated with a fresh token."""

    def make(organization, scopes=("*:write",)):
        issued = api_token_issue(organization=organization, name="test", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
        client.token = issued.token
        return client

    return make


@pytest.fixture
def api(org, api_client_for):
    return api_client_for(org)


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"
