"""Schema-driven fuzzing: Schemathesis generates requests for every operation in our OpenAPI
schema, valid and invalid ones, and sends them to the app in-process, authenticated with an API
token of an organisation that holds one object of every API model. No answer may be a 5xx: a bad
user value is a 4xx naming the field, never a crash. Every operation in the schema must be
called, so a new endpoint cannot slip out of the fuzzing.

Bounded and deterministic: a fixed seed, derandomized Hypothesis, a fixed number of examples per
operation, no deadline, no example database. Run only this file with
`pytest tests/api/test_fuzz.py`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error

from bookings.models import Job, Technician
from customers.models import DuplicateReview
from dispatchnode.accounts.services import api_token_issue
from dispatchnode.wsgi import application
from invoicing.models import Invoice
from tests.api.resources import MAKERS, object_routes

SCHEMA_PATH = "/api/v1/schema/"
SEED = 20261207
MAX_EXAMPLES = 30
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Hypothesis draws days from the whole calendar, so its two ends, where date arithmetic
# overflows, would come up about never: they are offered as often as any other day.
DAYS = st.one_of(st.dates(), st.sampled_from([dt.date.min, dt.date.max])).map(dt.date.isoformat)
TIMES = st.times().map(dt.time.isoformat)
OFFSETS = st.sampled_from(["Z", "+00:00", "-06:00", "+14:00", "-12:00"])
schemathesis.openapi.format("date", DAYS)
schemathesis.openapi.format("date-time", st.builds("{}T{}{}".format, DAYS, TIMES, OFFSETS))

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",  # valid and invalid requests
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # The token is sent with every case (below); generated credentials only buy 401s.
            "with-security-parameters": False,
        },
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
# Loaded from the app itself at collection (serving the schema reads no database rows), with
# the test client's host allowed whatever ALLOWED_HOSTS the shell exports.
with override_settings(ALLOWED_HOSTS=["localhost"]):
    schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, application, config=CONFIG)


def schema_operations(raw_schema: dict) -> set[str]:
    """`METHOD /path` of every operation the schema declares."""
    return {
        f"{method.upper()} {path}"
        for path, item in raw_schema["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


class FuzzTarget:
    """The organisation the cases are sent to: its token, one real object per list path, real
    ids for the fields that name another object, and the status codes the operation under test
    answered."""

    def __init__(self, organization) -> None:
        by_model = {model: maker(organization) for model, maker in MAKERS.items()}
        self.real_ids = {route.list_url: by_model[route.model].pk for route in object_routes()}
        job, review = by_model[Job], by_model[DuplicateReview]
        # The job's own customer, location and service type, so that they belong together.
        self.references = {
            "customer": job.customer_id,
            "duplicate": job.customer_id,  # another customer than /customers/{id}/
            "survivor": review.customer_a_id,
            "location": job.location_id,
            "service_type": job.service_type_id,
            "technician": by_model[Technician].pk,
            "job": job.pk,
            "invoice": by_model[Invoice].pk,
        }
        issued = api_token_issue(organization=organization, name="fuzz", scopes=["*:write"])
        self.headers = {"Authorization": f"Token {issued.key}"}
        self.statuses: Counter[int] = Counter()

    def aim_at_real_objects(self, case) -> None:
        """Point the case's `{id}` and the integer ids in its query and body at real objects."""
        if "id" in (case.path_parameters or {}):
            path = case.operation.path
            prefix = max((p for p in self.real_ids if path.startswith(p)), key=len)
            case.path_parameters["id"] = self.real_ids[prefix]
        for values in (case.query, case.body):
            if not isinstance(values, dict):
                continue
            for name, pk in self.references.items():
                if isinstance(values.get(name), int):
                    values[name] = pk


@pytest.fixture
def fuzz_target(request, org):
    """Cases reach Django's WSGI application inside the test's transaction. As Django's test
    client does, the request signals may not close the test's connection meanwhile."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        target = FuzzTarget(org)
        yield target
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    label = request.node.callspec.id if hasattr(request.node, "callspec") else request.node.name
    assert target.statuses, f"the fuzzing never called {label}"


@schema.parametrize()
@schema.given(at_real_object=st.booleans())
# The fixture is shared by an operation's cases on purpose; generation time varies with the load.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_no_generated_request_gets_a_server_error(case, at_real_object, fuzz_target):
    # given: half the cases aim at real objects, so the fuzzing gets past the 404
    if at_real_object:
        fuzz_target.aim_at_real_objects(case)

    # when
    response = case.call(headers=fuzz_target.headers)
    fuzz_target.statuses[response.status_code] += 1

    # then
    case.validate_response(response, checks=[not_a_server_error])


def test_the_fuzzing_parametrizes_every_operation_in_the_schema(db):
    # given: the schema as the app serves it now, counted independently of Schemathesis
    served = schema_operations(APIClient().get(SCHEMA_PATH, {"format": "json"}).json())

    # when
    fuzzed = {result.ok().label for result in schema.get_all_operations()}

    # then
    assert len(served) >= 49  # as many as the API had when the fuzzing came: none got lost
    assert sorted(served - fuzzed) == []
    assert fuzzed == served
