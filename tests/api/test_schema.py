"""The OpenAPI schema and its docs page."""

from __future__ import annotations

import re

import yaml
from django.core.management import call_command
from drf_spectacular.drainage import reset_generator_stats
from rest_framework.test import APIClient

from tests.api.resources import api_routes


def _list_paths() -> set[str]:
    return {route.list_url for route in api_routes() if "list" in route.actions}


def test_the_schema_endpoint_serves_openapi_3_with_every_list_path(db):
    # when
    response = APIClient().get("/api/v1/schema/")

    # then
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert _list_paths() <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <key>`; a key belongs to one organisation and has scopes.",
    }


def test_the_schema_generates_without_warnings_and_validates(db, tmp_path):
    # given
    reset_generator_stats()
    output = tmp_path / "schema.yml"

    # when: raises SchemaGenerationError on any warning, SchemaValidationError if invalid
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(output))

    # then: and every $ref points at a component that exists
    text = output.read_text()
    schema = yaml.safe_load(text)
    refs = set(re.findall(r"\$ref: '#/components/schemas/([^']+)'", text))
    assert refs
    assert refs <= set(schema["components"]["schemas"])


def test_the_docs_page_is_served(db):
    # when
    response = APIClient().get("/api/v1/docs/")

    # then
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
