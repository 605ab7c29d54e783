"""Schemathesis against every service's OpenAPI document (issue 14), with an office token and a unit
token: for every operation, examples generated from the document — valid ones and deliberately invalid
ones — are sent to the real app on the real PostgreSQL (the four apps also serve each other over HTTP,
as notify asks the ledger and intake, and audit reconciles with intake and notify), and every answer
must be no server error, a documented status code, a documented content type (problem+json for
errors) and match the documented schema. Bounded and deterministic: a few examples per operation,
derandomized, no shrinking, no example database."""
from __future__ import annotations

import os
import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)
from werkzeug.serving import make_server

from zfcommon.devstack.ports import free_port

from ..support import bearer, complaint
from .apps import FACTORIES, four_apps

pytestmark = pytest.mark.integration
UNIT = "县自然资源局"
TOKENS = {"office": bearer("office"), "unit": bearer("unit", unit=UNIT)}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("ZF_FUZZ_EXAMPLES", "6"))    # per operation, role and mode; more for a deep run
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BOUNDED = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                   phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def system(pg):
    """The four apps, each also served on a port the others are configured with; a unit and a case."""
    ports = {name: free_port() for name in FACTORIES}
    links = {f"{name}_url": f"http://127.0.0.1:{port}" for name, port in ports.items() if name != "audit"}
    with four_apps(pg, hotline_webhook_secrets=SECRET, sms_reply_secrets=SECRET, **links) as (apps, _):
        servers = [make_server("127.0.0.1", ports[name], app, threaded=True) for name, app in apps.items()]
        for server in servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        intake = apps["intake"].test_client()
        intake.post("/v1/directory/units", headers=TOKENS["office"], json={
            "name": UNIT, "kind": "government_department", "supervising_channel": "县监察局"})
        case_id = intake.post("/v1/cases", json=complaint(), headers=TOKENS["office"]).json["case_id"]
        intake.post(f"/v1/cases/{case_id}/assign", json={"lead_unit": UNIT, "handling_mode": "deadline"},
                    headers=TOKENS["office"])
        try:
            yield apps
        finally:
            for server in servers:
                server.shutdown()


def fuzzed(app, token: dict[str, str]) -> dict[str, str]:
    """Every operation of the app's document: its first failing example's report, by operation."""
    failures = {}
    for result in schemathesis.openapi.from_wsgi("/openapi.json", app).get_all_operations():
        operation = result.ok()
        examples = (operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
                    | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

        @BOUNDED
        @given(case=examples)
        def exercise(case):
            case.call_and_validate(headers=token, checks=CHECKS)
        try:
            exercise()
        except BaseExceptionGroup as found:       # schemathesis' FailureGroup: the checks that failed
            failures[operation.label] = str(found)
    return failures


@pytest.mark.parametrize("role", TOKENS)
@pytest.mark.parametrize("service", list(FACTORIES))
def test_every_documented_operation_answers_as_documented(system, service, role):
    failures = fuzzed(system[service], TOKENS[role])
    assert not failures, "\n\n".join(f"{label}\n{report}" for label, report in failures.items())


@pytest.mark.parametrize("service", list(FACTORIES))
def test_every_operation_documents_its_success_and_problem_json_errors(system, service):
    document = system[service].test_client().get("/openapi.json").json
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            statuses = operation["responses"]
            assert any(s.startswith("2") for s in statuses), (method, path)
            if path.startswith(("/open311/", "/v1/token")):
                continue                # their standards' own error formats (Open311, RFC 6749)
            for status, answer in statuses.items():
                if status[0] in "45":
                    assert list(answer["content"]) == ["application/problem+json"], (method, path, status)
