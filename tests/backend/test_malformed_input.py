"""Hostile or malformed input gets a 4xx with a reason, never a 500.

Every request here is refused and changes nothing, so the module shares one app,
database and organisation (``module_api``) instead of building them per test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.middleware import json_depth
from tests.backend.factories import (
    APP_ORIGIN,
    OPERATOR,
    Org,
    domain_of,
    make_org,
    signed_event,
)
from tests.context import context


@pytest.fixture(scope="module")
def api(module_api: TestClient) -> TestClient:
    """The module's shared app (every test here is refused, so none changes it)."""
    return module_api


@pytest.fixture(scope="module")
def acme(api: TestClient) -> Org:
    return make_org(api, "acme")


@pytest.fixture
def ctx(api: TestClient, acme: Org) -> tuple[TestClient, dict[str, str], dict[str, object]]:
    return api, acme.writer, signed_event(domain_of(api), acme.signer)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("eventId", "0xzz" + "00" * 31),
        ("eventId", "0x" + "00" * 31),
        ("eventId", "00" * 32),
        ("subject", None),
        ("kind", 2**256),
        ("kind", -1),
        ("kind", 99),
        ("kind", "1; drop table"),
        ("occurredAt", 2**64),
        ("occurredAt", 10**400),
        ("occurredAt", 1.5),
        ("location", "nl\u202ertm"),
        ("location", "NL\x00RTM"),
        ("location", "ABCDEFGHIJ"),
        ("payloadHash", "0x" + "ff" * 33),
        ("signature", "0x" + "00" * 65),
        ("signature", "0x" + "ab" * 64),
        ("extra", 1),
    ],
)
def test_bad_event_fields_are_4xx_with_reason(
    ctx: tuple[TestClient, dict[str, str], dict[str, object]], field: str, value: object
) -> None:
    api, headers, body = ctx
    resp = api.post("/v1/events", json={**body, field: value}, headers=headers)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json()["error"]
    assert resp.json()["detail"]


BAD_HEX = [
    ("eventId", "0x" + "00" * 31, "eventId: Value error, bytes32 must be 32 bytes, got 31"),
    ("subject", "00" * 32, "subject: Value error, bytes32 must be 0x-prefixed hex"),
    (
        "payloadHash",
        "0xzz" + "00" * 31,
        "payloadHash: Value error, bytes32 must be 0x followed by hex digits",
    ),
    (
        "signature",
        "0x" + "ab" * 2048,
        "signature: Value error, signature must be 0 to 2047 bytes, got 2048",
    ),
]


@pytest.mark.parametrize(("field", "value", "reason"), BAD_HEX)
def test_bad_hex_is_422_naming_the_field_and_what_is_wrong(
    ctx: tuple[TestClient, dict[str, str], dict[str, object]], field: str, value: str, reason: str
) -> None:
    api, headers, body = ctx
    resp = api.post("/v1/events", json={**body, field: value}, headers=headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"] == f"body.{reason}"


@pytest.mark.parametrize(("field", "value", "reason"), BAD_HEX)
def test_a_batch_refuses_bad_hex_as_the_single_route_does(
    ctx: tuple[TestClient, dict[str, str], dict[str, object]], field: str, value: str, reason: str
) -> None:
    """The batch route parses its body itself, off the event loop: the same reasons."""
    api, headers, body = ctx
    items = [body, {**body, field: value}]
    resp = api.post("/v1/events/batch", json={"events": items}, headers=headers)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"] == f"body.events.1.{reason}"
    assert resp.json()["errors"][0]["loc"] == ["body", "events", 1, field]


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b'{"events": [', "body: Invalid JSON: EOF while parsing a list at line 1 column 12"),
        (b"[]", "body: Input should be an object"),
        (
            b'{"events": []}',
            "body.events: List should have at least 1 item after validation, not 0",
        ),
        (b'{"events": null}', "body.events: Input should be a valid array"),
        (b"{}", "body.events: Field required"),
        (b"", "body: Invalid JSON: EOF while parsing a value at line 1 column 0"),
    ],
)
def test_a_batch_that_is_not_a_batch_is_422_with_its_reason(
    ctx: tuple[TestClient, dict[str, str], dict[str, object]], content: bytes, detail: str
) -> None:
    api, headers, _ = ctx
    resp = api.post(
        "/v1/events/batch", content=content, headers={**headers, "Content-Type": "application/json"}
    )
    assert resp.status_code == 422, resp.text
    assert resp.json() | {"errors": None} == {
        "error": "invalid_input",
        "detail": detail,
        "errors": None,
    }


def test_bad_passport_id_in_a_path_is_422_with_its_reason(api: TestClient) -> None:
    resp = api.get("/v1/passports/0x" + "ab" * 31)
    assert resp.status_code == 422, resp.text
    assert (
        resp.json()["detail"] == "path.passport_id: Value error, bytes32 must be 32 bytes, got 31"
    )
    missing = api.get("/v1/passports/0x" + "AB" * 32)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "passport 0x" + "ab" * 32 + " not found"


def test_oversized_body_is_413(ctx: tuple[TestClient, dict[str, str], dict[str, object]]) -> None:
    api, headers, _ = ctx
    limit = context(api).settings.max_body_bytes
    resp = api.post(
        "/v1/events/batch",
        content=b'{"events": [' + b" " * (limit + 1) + b"]}",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert resp.status_code == 413
    assert resp.json()["error"] == "payload_too_large"


def test_deeply_nested_json_is_422(
    ctx: tuple[TestClient, dict[str, str], dict[str, object]],
) -> None:
    api, headers, _ = ctx
    body = "[" * 5000 + "]" * 5000
    resp = api.post(
        "/v1/events", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert resp.status_code == 422
    assert "nesting depth" in resp.json()["detail"]


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert json_depth(json.dumps({"a": "[[[[{{{{", "b": [1, [2]]}).encode()) == 3
    assert json_depth(b'{"a": "\\"[[["}') == 1


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_JSON, st.integers(min_value=0, max_value=8))
def test_json_depth_is_the_nesting_of_any_json(value: object, limit: int) -> None:
    body = json.dumps(value, ensure_ascii=False).encode()
    assert json_depth(body) == _depth(value)
    assert json_depth(body, limit) == min(_depth(value), limit + 1)


def test_unbalanced_brackets_still_count() -> None:
    assert json_depth(b"[" * 5000) == 5000
    assert json_depth(b"[" * 5000, 16) > 16
    assert json_depth(b"[{]}[[") == 2


def test_invalid_json_is_422(ctx: tuple[TestClient, dict[str, str], dict[str, object]]) -> None:
    api, headers, _ = ctx
    resp = api.post(
        "/v1/events", content=b"{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert resp.status_code == 422


@pytest.mark.parametrize("name", ["Acme\x00", "Acme \u202eevil", "\u2066x", ""])
def test_org_names_with_control_or_bidi_characters_are_422(api: TestClient, name: str) -> None:
    resp = api.post("/v1/orgs", json={"slug": "acme", "name": name}, headers=OPERATOR)
    assert resp.status_code == 422
    assert resp.json()["error"] == "invalid_input"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/proofs/0x1234",
        "/v1/proofs/" + "0x" + "g" * 64,
        "/v1/proofs/" + "%00" * 10,
        "/v1/orgs/acme/api-keys/99999999999999999999999",
    ],
)
def test_bad_path_parameters_are_4xx(api: TestClient, acme: Org, path: str) -> None:
    resp = api.request("DELETE" if "api-keys" in path else "GET", path, headers=acme.admin)
    assert 400 <= resp.status_code < 500, resp.text


def test_unknown_proof_is_404(api: TestClient) -> None:
    resp = api.get("/v1/proofs/0x" + "ab" * 32)
    assert resp.status_code == 404
    assert resp.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/passports/{id}/versions", "passport_id"),
        ("/v1/passports/{id}/recall", "passport_id"),
        ("/v1/passports/{id}/revoke", "passport_id"),
        ("/v1/passports/{id}/attestations", "passport_id"),
        ("/v1/passports/attestations/{id}/revoke", "attestation_id"),
    ],
)
@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("0x" + "ab" * 31, "bytes32 must be 32 bytes, got 31"),
        ("0x" + "zz" * 32, "bytes32 must be 0x followed by hex digits"),
        ("ab" * 32, "bytes32 must be 0x-prefixed hex"),
    ],
)
def test_a_bad_id_in_a_passport_write_path_is_422_naming_it_and_why(
    api: TestClient, acme: Org, path: str, field: str, bad: str, reason: str
) -> None:
    resp = api.post(path.format(id=bad), json={}, headers=acme.writer)
    assert resp.status_code == 422, resp.text
    assert f"path.{field}: Value error, {reason}" in resp.json()["detail"]


def test_a_bad_passport_id_in_an_issue_is_422_naming_it_and_why(api: TestClient, acme: Org) -> None:
    resp = api.post("/v1/passports", json={"passportId": "0x" + "ab" * 33}, headers=acme.writer)
    assert resp.status_code == 422, resp.text
    assert "body.passportId: Value error, bytes32 must be 32 bytes, got 33" in resp.json()["detail"]


GOOD_ID = "0x" + "ab" * 32
GOOD_HASH = "0x" + "cd" * 32
BAD_IDS = [
    ("0x" + "ab" * 31, "bytes32 must be 32 bytes, got 31"),
    ("0x" + "zz" * 32, "bytes32 must be 0x followed by hex digits"),
    ("ab" * 32, "bytes32 must be 0x-prefixed hex"),
]


def _reasons(resp: Response) -> set[str]:
    """Every validation error of a 422 answer as ``loc: msg``."""
    body = resp.json()
    return {f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in body["errors"]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/shipments/{id}/delivery"),
        ("POST", "/v1/shipments/{id}/milestones"),
        ("POST", "/v1/shipments/{id}/corrections"),
        ("POST", "/v1/shipments/{id}/overdue/1"),
        ("GET", "/v1/shipments/{id}"),
        ("GET", "/v1/shipments/{id}/evidence/" + GOOD_HASH),
        ("GET", "/v1/shipments/{id}/milestones/0/credential"),
        ("GET", "/v1/epcis/shipments/{id}"),
        ("GET", "/dashboard/shipments/{id}"),
        ("GET", "/app/shipments/{id}"),
        ("GET", "/app/api/shipments/{id}"),
        ("POST", "/app/api/shipments/{id}/milestones/draft"),
        ("POST", "/app/api/shipments/{id}/milestones"),
        ("GET", "/app/api/shipments/{id}/evidence/" + GOOD_HASH),
        ("PUT", "/app/api/shipments/{id}/evidence/" + GOOD_HASH),
    ],
)
@pytest.mark.parametrize(("bad", "reason"), BAD_IDS)
def test_a_bad_shipment_id_in_a_path_is_422_naming_it_and_why(
    api: TestClient, acme: Org, method: str, path: str, bad: str, reason: str
) -> None:
    body: dict[str, Any] = {"PUT": {"content": b"x"}, "POST": {"json": {}}}.get(method, {})
    headers = {**acme.writer, **APP_ORIGIN}
    resp = api.request(method, path.format(id=bad), headers=headers, **body)
    assert resp.status_code == 422, resp.text
    assert f"path.shipment_id: Value error, {reason}" in _reasons(resp)


@pytest.mark.parametrize(("bad", "reason"), BAD_IDS)
def test_a_bad_shipment_id_to_page_after_is_422_naming_it_and_why(
    api: TestClient, acme: Org, bad: str, reason: str
) -> None:
    resp = api.get("/v1/shipments", params={"after": bad}, headers=acme.writer)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"] == f"query.after: Value error, {reason}"


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/shipments", {"terms": {"shipmentId": "{id}"}}, "body.terms.shipmentId"),
        (
            "/v1/shipments/" + GOOD_ID + "/milestones",
            {"milestone": {"shipmentId": "{id}"}},
            "body.milestone.shipmentId",
        ),
        (
            "/v1/shipments/" + GOOD_ID + "/delivery",
            {"milestone": {"shipmentId": "{id}"}},
            "body.milestone.shipmentId",
        ),
        (
            "/v1/shipments/milestones/batch",
            {"items": [{"milestone": {"shipmentId": "{id}"}}]},
            "body.items.0.milestone.shipmentId",
        ),
        (
            "/v1/shipments/" + GOOD_ID + "/corrections",
            {"correction": {"shipmentId": "{id}"}},
            "body.correction.shipmentId",
        ),
        (
            "/app/api/shipments/" + GOOD_ID + "/milestones",
            {"milestone": {"shipmentId": "{id}"}},
            "body.milestone.shipmentId",
        ),
        ("/app/api/handover", {"milestone": {"shipmentId": "{id}"}}, "body.milestone.shipmentId"),
        (
            "/app/api/handover/review",
            {"milestone": {"shipmentId": "{id}"}},
            "body.milestone.shipmentId",
        ),
        ("/app/api/shipments", {"terms": {"shipmentId": "{id}"}}, "body.terms.shipmentId"),
    ],
)
@pytest.mark.parametrize(("bad", "reason"), BAD_IDS)
def test_a_bad_shipment_id_in_a_body_is_422_naming_it_and_why(
    api: TestClient, acme: Org, path: str, body: dict[str, object], loc: str, bad: str, reason: str
) -> None:
    sent = json.loads(json.dumps(body).replace("{id}", bad))
    resp = api.post(path, json=sent, headers={**acme.writer, **APP_ORIGIN})
    assert resp.status_code == 422, resp.text
    assert f"{loc}: Value error, {reason}" in _reasons(resp)


def test_an_unknown_shipment_is_404_naming_it_in_lower_case(api: TestClient, acme: Org) -> None:
    resp = api.get("/v1/shipments/0x" + "AB" * 32, headers=acme.writer)
    assert resp.status_code == 404, resp.text
    assert resp.json()["detail"] == "shipment 0x" + "ab" * 32 + " not found"


@pytest.mark.parametrize("path", ["/v1/shipments", "/app/api/shipments"])
@pytest.mark.parametrize(("bad", "reason"), BAD_IDS)
def test_a_bad_passport_id_in_a_manifest_line_is_422_naming_it_and_why(
    api: TestClient, acme: Org, path: str, bad: str, reason: str
) -> None:
    line = {"passportId": bad, "quantity": 1}
    body = {"manifest": {"transportMode": "sea", "lines": [line]}}
    resp = api.post(path, json=body, headers={**acme.writer, **APP_ORIGIN})
    assert resp.status_code == 422, resp.text
    assert f"body.manifest.lines.0.passportId: Value error, {reason}" in _reasons(resp)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/shipments/" + GOOD_ID + "/evidence/{hash}"),
        ("GET", "/app/api/shipments/" + GOOD_ID + "/evidence/{hash}"),
        ("PUT", "/app/api/shipments/" + GOOD_ID + "/evidence/{hash}"),
    ],
)
@pytest.mark.parametrize(("bad", "reason"), BAD_IDS)
def test_a_bad_evidence_hash_in_a_path_is_422_naming_it_and_why(
    api: TestClient, acme: Org, method: str, path: str, bad: str, reason: str
) -> None:
    body: dict[str, Any] = {"content": b"x"} if method == "PUT" else {}
    headers = {**acme.writer, **APP_ORIGIN}
    resp = api.request(method, path.format(hash=bad), headers=headers, **body)
    assert resp.status_code == 422, resp.text
    assert f"path.evidence_hash: Value error, {reason}" in _reasons(resp)
