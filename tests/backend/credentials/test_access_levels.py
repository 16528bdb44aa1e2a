"""ESPR-style access levels: restricted passport sections, brand-issued revocable grants.

The anchored hash is checked here with plain ``rfc8785`` + keccak256 on what the
public endpoints return, not with Waymark's hashing code.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
import rfc8785
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from fastapi.testclient import TestClient
from sqlalchemy import update

from backend.chain import ChainClient, eip712
from backend.chain.organisations import OrganisationRegistryClient
from backend.chain.passports import PassportRegistryClient
from backend.chain.typed_data.events import ACCESS_GRANT, ACCESS_GRANT_REVOCATION
from backend.credentials.models import AccessGrant
from backend.passports.canonical import document_hash
from tests.backend.credentials.untp_schemas import assert_untp_valid
from tests.backend.factories import SAMPLE_PREFIX, Org, domain_of, make_org
from tests.backend.passports.api_factories import issue_body, sample_document
from tests.backend.shipments.factories import Service, post
from tests.backend.wallets import register_key, two_key_wallet
from tests.context import context

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
        tester, context(api).loaded().deployment.address("ProductPassportRegistry")
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


def _grant(
    api: TestClient,
    by: Org,
    *,
    signer: LocalAccount | None = None,
    grantee: str = "repairer",
    level: str = "legitimate_interest",
    passport_id: str | None = None,
    expires_at: int | None = None,
    salt: bytes = b"",
) -> dict[str, Any]:
    """A grant body signed by ``signer`` (default: ``by``'s own issuer key)."""
    key = signer or by.signer
    message = {
        "issuer": key.address,
        "grantee": grantee,
        "level": level,
        "passport": bytes.fromhex((passport_id or "0x" + "00" * 32)[2:]),
        "expiresAt": expires_at if expires_at is not None else int(time.time()) + 86_400,
        "salt": salt or secrets.token_bytes(32),
    }
    signature = eip712.sign(key.key, domain_of(api), ACCESS_GRANT, message)
    return {
        "issuer": key.address,
        "grantee": grantee,
        "level": level,
        "passport_id": passport_id,
        "expires_at": message["expiresAt"],
        "salt": "0x" + message["salt"].hex(),  # type: ignore[attr-defined]
        "signature": "0x" + signature.hex(),
    }


def _revocation(api: TestClient, signer: LocalAccount, grant: dict[str, Any]) -> dict[str, str]:
    message = {"grant": bytes.fromhex(grant["digest"][2:])}
    signature = eip712.sign(signer.key, domain_of(api), ACCESS_GRANT_REVOCATION, message)
    return {"signature": "0x" + signature.hex()}


def test_a_signed_grant_opens_its_level_only_and_a_signed_revocation_closes_it(
    setting: dict[str, Any],
) -> None:
    api: TestClient = setting["svc"].api
    pid, brand, repairer = setting["pid"], setting["brand"], setting["repairer"]
    url = f"/v1/passports/{pid}/credential?access=legitimate_interest"
    assert api.get(url).status_code == 401
    refused = api.get(url, headers=repairer.writer)
    assert refused.status_code == 403
    assert "access level legitimate_interest required" in refused.json()["detail"]
    # Another organisation's grant counts only for its own passports.
    resp = api.post(
        "/v1/access-grants",
        json=_grant(api, setting["stranger"], level="authority", passport_id=pid),
        headers=setting["stranger"].writer,
    )
    assert resp.status_code == 201, resp.text
    assert api.get(url, headers=repairer.writer).status_code == 403
    granted = api.post(
        "/v1/access-grants", json=_grant(api, brand, passport_id=pid), headers=brand.writer
    )
    assert granted.status_code == 201, granted.text
    grant = granted.json()
    assert (grant["issuer"], grant["grantee"]) == ("brand", "repairer")
    assert grant["signer"] == brand.signer.address
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
    revoke = f"/v1/access-grants/{grant['id']}/revoke"
    # The API key alone no longer revokes; another organisation's key signs nothing here.
    assert api.post(revoke, json={}, headers=brand.writer).status_code == 422
    foreign = api.post(
        revoke, json=_revocation(api, setting["stranger"].signer, grant), headers=brand.writer
    )
    assert foreign.status_code == 403
    assert "grant signature rule" in foreign.json()["detail"]
    stranger_revoke = api.post(
        revoke,
        json=_revocation(api, setting["stranger"].signer, grant),
        headers=setting["stranger"].writer,
    )
    assert stranger_revoke.status_code == 404
    assert api.get(url, headers=repairer.writer).status_code == 200  # still granted
    revoked = api.post(revoke, json=_revocation(api, brand.signer, grant), headers=brand.writer)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert revoked.json()["revoked_by"] == brand.signer.address
    assert api.get(url, headers=repairer.writer).status_code == 403
    # The brand itself reads every level.
    own = api.get(f"/v1/passports/{pid}/credential?access=authority", headers=brand.writer)
    assert own.status_code == 200
    names = {s["name"]: s for s in own.json()["credentialSubject"]["restrictedSections"]}
    assert names["supplier_audit"]["content"] == {"finding": AUDIT}


def test_grants_not_signed_by_a_valid_brand_key_are_refused_naming_the_rule(
    setting: dict[str, Any],
) -> None:
    api: TestClient = setting["svc"].api
    pid, brand, repairer = setting["pid"], setting["brand"], setting["repairer"]
    url = f"/v1/passports/{pid}/credential?access=legitimate_interest"

    def post_grant(body: dict[str, Any]) -> Any:
        return api.post("/v1/access-grants", json=body, headers=brand.writer)

    # The API key alone: no signature, no grant.
    unsigned = post_grant({"grantee": "repairer", "level": "legitimate_interest"})
    assert unsigned.status_code == 422
    # Signed by another brand's key, submitted with this brand's API key.
    other = post_grant(_grant(api, brand, signer=setting["stranger"].signer))
    assert other.status_code == 403
    assert "grant signature rule" in other.json()["detail"]
    assert "not a signer key of organisation 'brand'" in other.json()["detail"]
    # Naming another key as issuer, or any field changed after signing: the signature
    # recovers to some other address, which is no key of the brand.
    for field, value in (("issuer", setting["stranger"].signer.address), ("level", "authority")):
        body = _grant(api, brand)
        body[field] = value
        tampered = post_grant(body)
        assert tampered.status_code == 403, field
        assert "grant signature rule" in tampered.json()["detail"]
    # Expired before it arrives.
    expired = post_grant(_grant(api, brand, expires_at=int(time.time()) - 1))
    assert expired.status_code == 422
    assert "grant expiry rule" in expired.json()["detail"]
    # Replayed: the same signed grant counts once, also after it was revoked.
    body = _grant(api, brand, passport_id=pid)
    first = post_grant(body)
    assert first.status_code == 201, first.text
    replay = post_grant(body)
    assert replay.status_code == 409
    assert "grant replay rule" in replay.json()["detail"]
    assert api.get(url, headers=repairer.writer).status_code == 200
    # A grant whose expiry has passed stops counting.
    with context(api).sessions() as session:
        session.execute(
            update(AccessGrant)
            .where(AccessGrant.id == first.json()["id"])
            .values(expires_at=int(time.time()) - 1)
        )
        session.commit()
    gone = api.get(url, headers=repairer.writer)
    assert gone.status_code == 403
    assert "access level legitimate_interest required" in gone.json()["detail"]
    # Signed by a key the registry has revoked.
    registry = OrganisationRegistryClient(
        setting["svc"].chain, context(api).loaded().deployment.address("OrganisationRegistry")
    )
    registry.revoke_key(brand.signer.address)
    setting["svc"].settle()
    revoked = post_grant(_grant(api, brand, passport_id=pid))
    assert revoked.status_code == 403
    assert "key validity rule" in revoked.json()["detail"]
    assert "revoked in OrganisationRegistry" in revoked.json()["detail"]
    assert api.get(url, headers=repairer.writer).status_code == 403


def test_bad_grants_are_refused_with_reasons(setting: dict[str, Any]) -> None:
    api: TestClient = setting["svc"].api
    brand = setting["brand"]
    for body, code, words in (
        (_grant(api, brand, grantee="nobody", level="authority"), 404, "'nobody' not found"),
        (_grant(api, brand, grantee="brand", level="authority"), 422, "its own passports"),
        (_grant(api, brand, level="public"), 422, "level"),
    ):
        resp = api.post("/v1/access-grants", json=body, headers=brand.writer)
        assert resp.status_code == code, resp.text
        assert words in resp.text
    supplier = api.post(
        "/v1/access-grants",
        json=_grant(api, setting["repairer"], grantee="brand", level="authority"),
        headers=setting["repairer"].writer,
    )
    assert supplier.status_code == 403


def test_a_two_key_wallet_of_the_brand_grants_and_revokes_access_with_130_byte_signatures(
    setting: dict[str, Any],
) -> None:
    api: TestClient = setting["svc"].api
    pid, brand, repairer = setting["pid"], setting["brand"], setting["repairer"]
    url = f"/v1/passports/{pid}/credential?access=legitimate_interest"
    wallet = two_key_wallet(setting["svc"].chain)
    register_key(api, setting["svc"].settle, brand, wallet.address)
    salt = secrets.token_bytes(32)
    both, half = wallet.joint(lambda s: _grant(api, brand, signer=s, passport_id=pid, salt=salt))
    refused = api.post("/v1/access-grants", json=half, headers=brand.writer)
    assert refused.status_code == 422, refused.text
    assert f"contract wallet {wallet.address} does not accept" in refused.json()["detail"]
    granted = api.post("/v1/access-grants", json=both, headers=brand.writer)
    assert granted.status_code == 201, granted.text
    grant = granted.json()
    assert api.get(url, headers=repairer.writer).status_code == 200
    with context(api).sessions() as session:
        assert session.get(AccessGrant, grant["id"]).signature == both["signature"]
    revoke = f"/v1/access-grants/{grant['id']}/revoke"
    first = _revocation(api, wallet.first, grant)["signature"]
    second = _revocation(api, wallet.second, grant)["signature"]
    joint = first + second[2:]
    # Unnamed, a wallet's signature is no key's; named, one key's half is not the wallet's.
    unnamed = api.post(revoke, json={"signature": joint}, headers=brand.writer)
    assert unnamed.status_code == 422, unnamed.text
    alone = {"signature": first, "signer": wallet.address}
    resp = api.post(revoke, json=alone, headers=brand.writer)
    assert resp.status_code == 422, resp.text
    assert api.get(url, headers=repairer.writer).status_code == 200
    revoked = api.post(
        revoke, json={"signature": joint, "signer": wallet.address}, headers=brand.writer
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_by"] == wallet.address
    assert api.get(url, headers=repairer.writer).status_code == 403
