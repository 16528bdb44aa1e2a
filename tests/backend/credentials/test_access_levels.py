"""ESPR-style access levels: restricted passport sections, brand-issued revocable grants.

The anchored hash is checked here with plain ``rfc8785`` + keccak256 on what the
public endpoints return, not with Waymark's hashing code.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import rfc8785
from eth_hash.auto import keccak
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from backend.chain.passports import PassportRegistryClient
from backend.passports.canonical import document_hash
from tests.backend.credentials.untp_schemas import assert_untp_valid
from tests.backend.factories import SAMPLE_PREFIX, make_org
from tests.backend.passports.api_factories import issue_body, sample_document
from tests.backend.shipments.factories import Service, post

REPAIR = "Open the hinge with a T10 key; replacement part WM-HX-7"
AUDIT = "Supplier audit 2026-03: two non-conformities, closed"


def _section(name: str, access: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "access": access,
        "salt": "0x" + secrets.token_hex(32),
        "content": content,
    }


def _hash(value: Any) -> str:
    return "0x" + keccak(rfc8785.dumps(value)).hex()


@pytest.fixture
def setting(api: TestClient, tester: ChainClient) -> dict[str, Any]:
    svc = Service(api, tester)
    brand = make_org(api, "brand", ("seller",), prefixes=(SAMPLE_PREFIX,))
    repairer = make_org(api, "repairer", ("supplier",))
    stranger = make_org(api, "stranger", ("seller",))
    reg = PassportRegistryClient(
        tester, api.app.state.deployment.address("ProductPassportRegistry")
    )  # type: ignore[attr-defined]
    doc = sample_document()
    doc["restricted_sections"] = [
        _section("repair_manual", "legitimate_interest", {"steps": [REPAIR]}),
        _section("supplier_audit", "authority", {"finding": AUDIT}),
    ]
    body = issue_body(reg, brand.signer, doc, deadline=svc.now() + 3600)
    post(svc, "/v1/passports", body, brand)
    svc.settle()
    return {
        "svc": svc,
        "brand": brand,
        "repairer": repairer,
        "stranger": stranger,
        "pid": body["passportId"],
        "anchored": body["content"]["documentHash"],
        "doc": doc,
    }


def test_public_reads_show_only_digests_and_still_hash_to_the_anchored_value(
    setting: dict[str, Any],
) -> None:
    api: TestClient = setting["svc"].api
    pid = setting["pid"]
    view = api.get(f"/v1/passports/{pid}").json()
    public = view["document"]
    assert _hash(public) == setting["anchored"] == view["versions"][0]["document_hash"]
    sections = zip(
        public["restricted_sections"], setting["doc"]["restricted_sections"], strict=True
    )
    for shown, full in sections:
        assert set(shown) == {"name", "access", "digest"}
        assert shown["digest"] == _hash({"content": full["content"], "salt": full["salt"]})
    for path, headers in (
        (f"/v1/passports/{pid}", {}),
        (f"/v1/passports/{pid}/credential", {}),
        ("/01/08936045870013/10/TH2611-07", {}),
        ("/01/08936045870013/10/TH2611-07", {"Accept": "application/json"}),
        (f"/proof-bundle/{pid}.json", {}),
    ):
        resp = api.get(path, headers=headers)
        assert resp.status_code == 200, (path, resp.text)
        assert REPAIR not in resp.text, path
        assert AUDIT not in resp.text, path
    page = api.get("/01/08936045870013/10/TH2611-07").text
    assert "Repair manual</bdi>: for organisations with a legitimate interest" in page
    assert "Supplier audit</bdi>: for authorities" in page
    vc = api.get(f"/v1/passports/{pid}/credential").json()
    assert_untp_valid("dpp", vc)
    sections = vc["credentialSubject"]["restrictedSections"]
    assert [(s["name"], s["accessLevel"], "content" in s) for s in sections] == [
        ("repair_manual", "legitimate_interest", False),
        ("supplier_audit", "authority", False),
    ]


def test_a_grant_opens_its_level_only_and_revoking_it_closes_it(
    setting: dict[str, Any],
) -> None:
    api: TestClient = setting["svc"].api
    pid, brand, repairer = setting["pid"], setting["brand"], setting["repairer"]
    url = f"/v1/passports/{pid}/credential?access=legitimate_interest"
    assert api.get(url).status_code == 401
    refused = api.get(url, headers=repairer.writer)
    assert refused.status_code == 403
    assert "access level legitimate_interest required" in refused.json()["detail"]
    # Another organisation cannot grant access to the brand's passports.
    resp = api.post(
        "/v1/access-grants",
        json={"grantee": "repairer", "level": "authority", "passport_id": pid},
        headers=setting["stranger"].writer,
    )
    assert resp.status_code == 201  # a grant from the stranger, for its own passports
    assert api.get(url, headers=repairer.writer).status_code == 403
    granted = api.post(
        "/v1/access-grants",
        json={"grantee": "repairer", "level": "legitimate_interest", "passport_id": pid},
        headers=brand.writer,
    )
    assert granted.status_code == 201, granted.text
    grant = granted.json()
    assert (grant["issuer"], grant["grantee"]) == ("brand", "repairer")
    full = api.get(url, headers=repairer.writer)
    assert full.status_code == 200, full.text
    vc = full.json()
    assert_untp_valid("dpp", vc)
    assert vc["id"].endswith("?access=legitimate_interest")
    sections = {s["name"]: s for s in vc["credentialSubject"]["restrictedSections"]}
    assert sections["repair_manual"]["content"] == {"steps": [REPAIR]}
    assert "content" not in sections["supplier_audit"]
    # The evidence document still hashes to the anchored value once redacted.
    evidence = vc["evidence"][0]["document"]
    assert document_hash(evidence).hex() == setting["anchored"][2:]
    higher = api.get(f"/v1/passports/{pid}/credential?access=authority", headers=repairer.writer)
    assert higher.status_code == 403
    assert "access level authority required" in higher.json()["detail"]
    # Only the brand revokes its grant; then the level is closed again.
    stranger_revoke = api.post(
        f"/v1/access-grants/{grant['id']}/revoke", headers=setting["stranger"].writer
    )
    assert stranger_revoke.status_code == 404
    revoked = api.post(f"/v1/access-grants/{grant['id']}/revoke", headers=brand.writer)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert api.get(url, headers=repairer.writer).status_code == 403
    # The brand itself reads every level.
    own = api.get(f"/v1/passports/{pid}/credential?access=authority", headers=brand.writer)
    assert own.status_code == 200
    names = {s["name"]: s for s in own.json()["credentialSubject"]["restrictedSections"]}
    assert names["supplier_audit"]["content"] == {"finding": AUDIT}


def test_bad_grants_are_refused_with_reasons(setting: dict[str, Any]) -> None:
    api: TestClient = setting["svc"].api
    brand = setting["brand"]
    for body, code, words in (
        ({"grantee": "nobody", "level": "authority"}, 404, "organisation 'nobody' not found"),
        ({"grantee": "brand", "level": "authority"}, 422, "its own passports"),
        ({"grantee": "repairer", "level": "public"}, 422, "level"),
    ):
        resp = api.post("/v1/access-grants", json=body, headers=brand.writer)
        assert resp.status_code == code, resp.text
        assert words in resp.text
    supplier = api.post(
        "/v1/access-grants",
        json={"grantee": "brand", "level": "authority"},
        headers=setting["repairer"].writer,
    )
    assert supplier.status_code == 403
