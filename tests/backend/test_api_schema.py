"""Property-based API testing: every operation of the OpenAPI schema, fuzzed.

Schemathesis generates requests from the app's own OpenAPI document, valid
ones and invalid ones, and sends them with real credentials (the operator
token, an organisation's admin key and a writer key) so the handlers behind
authentication are reached too. Every response must not be a 5xx, must carry
a documented status code and content type, and its body must conform to the
schema documented for that status.

The fuzz runs once per database. Examples per operation and generation mode:
``WAYMARK_FUZZ_EXAMPLES`` on SQLite (default 30) and ``WAYMARK_FUZZ_EXAMPLES_POSTGRESQL``
on PostgreSQL (default 10: what differs there is the SQL dialect under the same
handlers, not the request shapes, so the full budget goes where the shapes are
explored); ``make fuzz`` runs 300 on each.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from backend.chain import ChainClient
from backend.main import create_app
from tests.backend.conftest import OPERATOR_TOKEN, api_settings
from tests.backend.factories import make_org, signed_event
from tests.conftest import deployment_for
from tests.context import context

EXAMPLES = {
    "sqlite": int(os.environ.get("WAYMARK_FUZZ_EXAMPLES", "30")),
    "postgresql": int(os.environ.get("WAYMARK_FUZZ_EXAMPLES_POSTGRESQL", "10")),
}
ORG = "fuzz"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
WRITER_SCOPES = ("seller", "carrier", "supplier", "certifier")


@dataclass
class Credentials:
    operator: dict[str, str]
    admin: dict[str, str]
    writer: dict[str, str]
    event_id: str


@dataclass
class Target:
    app: FastAPI
    creds: Credentials
    examples: int


@pytest.fixture
def target(db_url: str, db_engine: Engine, tester: ChainClient) -> Iterator[Target]:
    """The app with its lifespan running, one organisation, its keys and one event."""
    app = create_app(
        api_settings(db_url, rate_limit_per_second=1e6, rate_limit_burst=10**6),
        tester,
        deployment=deployment_for(tester),
    )
    with TestClient(app) as client:
        org = make_org(client, ORG, scopes=WRITER_SCOPES)
        body = signed_event(context(app).loaded().events_domain, org.signer)
        assert client.post("/v1/events", json=body, headers=org.writer).status_code == 202
        yield Target(
            app,
            Credentials(
                operator={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
                admin=org.admin,
                writer=org.writer,
                event_id=body["eventId"],
            ),
            EXAMPLES[make_url(db_url).get_backend_name()],
        )


def _headers_for(path: str, method: str, creds: Credentials) -> dict[str, str]:
    """The credential an honest caller of this operation would hold."""
    if path == "/v1/orgs" and method == "POST":
        return creds.operator
    if path.startswith("/v1/orgs/"):
        return creds.admin
    return creds.writer


def _known_path_values(creds: Credentials) -> dict[str, str]:
    # Path parameters that name existing resources, so generated requests get
    # past the lookup into the handler instead of stopping at 404.
    return {"slug": ORG, "ref": creds.event_id}


def _fuzz_operation(
    operation: schemathesis.APIOperation, creds: Credentials, examples: int
) -> None:
    headers = _headers_for(operation.path, operation.method.upper(), creds)
    known = _known_path_values(creds)
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        mode = data.draw(st.sampled_from(modes), label="mode")
        case = data.draw(operation.as_strategy(generation_mode=mode), label="case")
        if mode is GenerationMode.POSITIVE and case.path_parameters:
            for name, value in known.items():
                if name in case.path_parameters and data.draw(st.booleans(), label=name):
                    case.path_parameters[name] = value
        extra = [negative_data_rejection] if mode is GenerationMode.NEGATIVE else []
        # Redirects are this operation's answer (documented as such), not followed.
        case.call_and_validate(headers=headers, checks=CHECKS + extra, allow_redirects=False)

    run()


def test_every_operation_conforms_to_the_openapi_schema(target: Target) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", target.app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            _fuzz_operation(operation, target.creds, target.examples)
        except Exception:  # collect every operation's failure, then fail once
            failures.append(f"{operation.label}\n{traceback.format_exc(limit=2)}")
    assert operations >= 10
    assert not failures, "\n\n".join(failures)


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_schema_the_document_names_is_in_it() -> None:
    """A body a route documents itself (``backend.deps.body_schema``) names its nested
    models as components: each must be one, or clients and the fuzz cannot resolve it."""
    doc = create_app().openapi()
    named = {ref.removeprefix("#/components/schemas/") for ref in _refs(doc)}
    assert named <= set(doc["components"]["schemas"])
    batch = doc["paths"]["/v1/events/batch"]["post"]["requestBody"]["content"]
    assert batch["application/json"]["schema"]["properties"]["events"]["items"] == {
        "$ref": "#/components/schemas/SupplyEventCreate"
    }
