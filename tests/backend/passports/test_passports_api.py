"""Passports through the API: relayed issue/amend/recall/revoke/attest, public view, refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from backend.chain import ChainClient
from backend.chain.organisations import org_id_for
from backend.chain.passports import PassportRegistryClient, claim_type
from backend.common.types import to_hex
from backend.passports import public
from backend.passports.models import PassportDocumentRecord
from backend.relayer.models import RelayRequest
from backend.relayer.organisations import PURPOSES as ORG_PURPOSES
from tests.backend.factories import make_org
from tests.backend.passports.api_factories import (
    amend_body,
    attest_body,
    issue_body,
    revoke_attestation_body,
    sample_document,
    status_body,
)
from tests.backend.passports.conftest import Orgs
from tests.backend.shipments.factories import Service, post
from tests.context import context, workers


def _issue(svc: Service, reg: PassportRegistryClient, o: Orgs) -> tuple[bytes, dict[str, object]]:
    body = issue_body(reg, o.brand.signer, sample_document(), deadline=svc.now() + 3600)
    accepted = post(svc, "/v1/passports", body, o.brand)
    svc.settle()
    assert svc.relay(accepted["relay_id"], o.brand.writer)["status"] == "final"
    return bytes.fromhex(str(body["passportId"])[2:]), body


def test_issue_amend_attest_recall_are_relayed_and_publicly_viewable(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs
) -> None:
    o = orgs
    pid, issued = _issue(svc, reg, o)
    view = svc.api.get(f"/v1/passports/{to_hex(pid)}").json()  # public: no key
    assert view["status"] == "active"
    assert view["issuer"] == o.brand.signer.address
    assert (view["gtin"], view["lot"]) == ("08936045870013", "TH2611-07")
    assert view["document"] == issued["document"]
    assert view["tampered"] is False
    assert view["versions"][0]["document_hash"] == issued["content"]["documentHash"]

    amended_doc = sample_document(description="Bowl set, amended glaze data")
    body = amend_body(reg, o.brand.signer, amended_doc, 1, deadline=svc.now() + 3600)
    post(svc, f"/v1/passports/{to_hex(pid)}/versions", body, o.brand)
    svc.settle()
    doc_hash = bytes.fromhex(body["content"]["documentHash"][2:])
    now = svc.now()
    claim = claim_type("carbon-verified")
    body = attest_body(
        reg,
        o.certifier.signer,
        pid,
        doc_hash,
        claim,
        version=2,
        valid_until=now + 100,
        deadline=now + 3600,
    )
    accepted = post(svc, f"/v1/passports/{to_hex(pid)}/attestations", body, o.certifier)
    attestation_id = accepted["subject"]
    svc.settle()
    body = attest_body(
        reg,
        o.certifier.signer,
        pid,
        doc_hash,
        claim_type("fsc"),
        version=2,
        valid_until=now + 10_000,
        deadline=now + 3600,
    )
    second = post(svc, f"/v1/passports/{to_hex(pid)}/attestations", body, o.certifier)["subject"]
    svc.settle()
    body = revoke_attestation_body(
        reg, o.certifier.signer, bytes.fromhex(second[2:]), deadline=now + 3600
    )
    post(svc, f"/v1/passports/attestations/{second}/revoke", body, o.certifier)
    svc.settle()

    view = svc.api.get(f"/v1/passports/{to_hex(pid)}").json()
    assert view["version"] == 2
    assert [v["version"] for v in view["versions"]] == [1, 2]
    assert view["document"] == amended_doc
    statuses = {a["id"]: a["status"] for a in view["attestations"]}
    assert statuses == {attestation_id: "valid", second: "revoked"}
    with context(svc.api).sessions() as session:
        later = public.public_passport(session=session, passport_id=pid, now=now + 200)
        assert later is not None
        assert {a.id: a.status for a in later.attestations}[attestation_id] == "expired"

    body = status_body(reg, o.brand.signer, pid, revoke=False, deadline=svc.now() + 3600)
    post(svc, f"/v1/passports/{to_hex(pid)}/recall", body, o.brand)
    svc.settle()
    view = svc.api.get(f"/v1/passports/{to_hex(pid)}").json()
    assert (view["status"], view["reason_code"]) == ("recalled", 3)
    assert view["reason"] == "glaze batch failed migration test"
    body = status_body(reg, o.brand.signer, pid, revoke=True, deadline=svc.now() + 3600)
    post(svc, f"/v1/passports/{to_hex(pid)}/revoke", body, o.brand)
    svc.settle()
    assert svc.api.get(f"/v1/passports/{to_hex(pid)}").json()["status"] == "revoked"


def test_stored_document_altered_after_the_fact_is_flagged_tampered(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs
) -> None:
    pid, _ = _issue(svc, reg, orgs)
    doc = sample_document(name="Something else entirely")
    with context(svc.api).sessions() as session:
        session.execute(update(PassportDocumentRecord).values(document=doc))
        session.commit()
    assert svc.api.get(f"/v1/passports/{to_hex(pid)}").json()["tampered"] is True


def test_document_hash_mismatch_and_invalid_document_are_422(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs
) -> None:
    o = orgs
    body = issue_body(reg, o.brand.signer, sample_document(), deadline=svc.now() + 3600)
    body["document"]["product"]["name"] = "Swapped after signing"
    resp = svc.api.post("/v1/passports", json=body, headers=o.brand.writer)
    assert resp.status_code == 422
    assert "documentHash" in resp.json()["detail"]
    body = issue_body(reg, o.brand.signer, sample_document(), deadline=svc.now() + 3600)
    body["document"]["materials"][0]["mass_share_pct"] = 7
    resp = svc.api.post("/v1/passports", json=body, headers=o.brand.writer)
    assert resp.status_code == 422
    assert "mass shares" in resp.json()["detail"]
    body = issue_body(reg, o.brand.signer, sample_document(), deadline=svc.now() + 3600)
    body["passportId"] = "0x" + "12" * 32
    resp = svc.api.post("/v1/passports", json=body, headers=o.brand.writer)
    assert resp.status_code == 422
    assert "identity" in resp.json()["detail"]


def test_signature_scope_and_ownership_refusals(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs
) -> None:
    o = orgs
    deadline = svc.now() + 3600
    forged = issue_body(
        reg, o.brand.signer, sample_document(), deadline=deadline, signer=o.other.signer
    )
    resp = svc.api.post("/v1/passports", json=forged, headers=o.brand.writer)
    assert resp.status_code == 422
    body = issue_body(reg, o.certifier.signer, sample_document(), deadline=deadline)
    assert svc.api.post("/v1/passports", json=body, headers=o.certifier.writer).status_code == 403
    pid, _ = _issue(svc, reg, o)
    # Another brand's signer cannot amend or recall it (the passport is not theirs).
    body = status_body(reg, o.other.signer, pid, revoke=False, deadline=deadline)
    resp = svc.api.post(f"/v1/passports/{to_hex(pid)}/recall", json=body, headers=o.other.writer)
    assert resp.status_code == 404
    # Issuing the same passport again conflicts; an unknown passport is 404.
    again = issue_body(reg, o.brand.signer, sample_document(), deadline=deadline)
    assert svc.api.post("/v1/passports", json=again, headers=o.brand.writer).status_code == 409
    assert svc.api.get("/v1/passports/0x" + "00" * 32).status_code == 404
    # An attestation over the wrong document hash reverts in simulation: 409 with arguments.
    now = svc.now()
    body = attest_body(
        reg,
        o.certifier.signer,
        pid,
        b"\x01" * 32,
        claim_type("x"),
        valid_until=now + 100,
        deadline=now + 3600,
    )
    resp = svc.api.post(
        f"/v1/passports/{to_hex(pid)}/attestations", json=body, headers=o.certifier.writer
    )
    assert resp.status_code == 409
    assert resp.json()["error"] == "PassportAttestationHashMismatch"
    assert resp.json()["arguments"]["version"] == 1


def test_a_first_issue_with_an_expired_deadline_is_refused_before_anything_is_queued(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs
) -> None:
    """The brand's registration is still queued, yet its first write is simulated: a
    signature whose deadline has passed can never land, so nothing is relayed for it."""
    o = orgs
    with context(svc.api).sessions() as session:
        before = session.scalar(select(func.count()).select_from(RelayRequest))
        queued = session.scalar(
            select(func.count())
            .select_from(RelayRequest)
            .where(RelayRequest.purpose.in_(ORG_PURPOSES), RelayRequest.status == "queued")
        )
    assert queued  # the brand is not on chain yet
    body = issue_body(reg, o.brand.signer, sample_document(), deadline=svc.now() - 1)
    resp = svc.api.post("/v1/passports", json=body, headers=o.brand.writer)
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"] == "PassportSignatureExpired"
    assert resp.json()["arguments"]["signer"].lower() == o.brand.signer.address.lower()
    with context(svc.api).sessions() as session:
        assert session.scalar(select(func.count()).select_from(RelayRequest)) == before
    # The same write with a live deadline is queued behind the registration and lands.
    _issue(svc, reg, o)


def test_issue_for_another_brands_gtin_is_refused_naming_the_owner(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs
) -> None:
    """A registered organisation cannot issue (or take first) a passport for a GTIN whose
    GS1 company prefix belongs to another brand, whatever its document says."""
    o = orgs
    svc.settle()
    body = issue_body(reg, o.other.signer, sample_document(), deadline=svc.now() + 3600)
    resp = svc.api.post("/v1/passports", json=body, headers=o.other.writer)
    assert resp.status_code == 409, resp.text
    err = resp.json()
    assert err["error"] == "PassportPrefixNotOwned"
    assert err["arguments"]["gtin"] == "08936045870013"
    assert err["arguments"]["ownerOrg"] == "0x" + org_id_for("brand").hex()
    assert err["arguments"]["issuerOrg"] == "0x" + org_id_for("other").hex()
    # The brand's own issue still goes through.
    _issue(svc, reg, o)


def test_attestation_by_a_key_without_the_certifier_role_is_refused(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs, api: TestClient
) -> None:
    """An organisation the operator did not accredit as a certifier cannot attest, even
    with an API key carrying the certifier scope: the registry's record of the key's
    roles refuses it before anything is relayed (the contract would revert
    ``PassportCertifierUnauthorized``)."""
    pid, issued = _issue(svc, reg, orgs)
    rogue = make_org(api, "rogue", ("seller",))
    key = api.post(
        "/v1/orgs/rogue/api-keys", json={"scopes": ["certifier"]}, headers=rogue.admin
    ).json()["key"]
    svc.settle()
    now = svc.now()
    doc_hash = bytes.fromhex(str(issued["content"]["documentHash"])[2:])  # type: ignore[index]
    body = attest_body(
        reg,
        rogue.signer,
        pid,
        doc_hash,
        claim_type("fsc"),
        valid_until=now + 100,
        deadline=now + 60,
    )
    resp = api.post(
        f"/v1/passports/{to_hex(pid)}/attestations", json=body, headers={"X-API-Key": key}
    )
    assert resp.status_code == 403, resp.text
    assert resp.json()["detail"].startswith(
        f"key validity rule: signer {rogue.signer.address} does not hold the role certifier "
        "in OrganisationRegistry"
    )


def test_reorg_rolls_back_a_recall_and_restores_active(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs, tester: ChainClient
) -> None:
    pid, _ = _issue(svc, reg, orgs)
    snap = tester.snapshot()
    body = status_body(reg, orgs.brand.signer, pid, revoke=False, deadline=svc.now() + 3600)
    post(svc, f"/v1/passports/{to_hex(pid)}/recall", body, orgs.brand)
    svc.settle()
    assert svc.api.get(f"/v1/passports/{to_hex(pid)}").json()["status"] == "recalled"
    tester.revert(snap)
    for _ in range(3):
        tester.mine()
    workers(svc.api).indexer.step()
    view = svc.api.get(f"/v1/passports/{to_hex(pid)}").json()
    assert view["status"] == "active"
    assert view["reason_code"] is None
    svc.settle()  # the recall was queued again and lands on the new fork
    assert svc.api.get(f"/v1/passports/{to_hex(pid)}").json()["status"] == "recalled"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b["document"].update(identity={"gtin": 123}),
        lambda b: b["document"].update(identity={"gtin": "4006381333932"}),
        lambda b: b["document"].pop("materials"),
        lambda b: b.update(document="not an object"),
        lambda b: b["content"].update(uri="https://x/\u202egnp.exe"),
        lambda b: b["content"].update(originCountry="vn"),
        lambda b: b["content"].update(recycledContentBps=70_000),
        lambda b: b.update(nonce=-1),
        lambda b: b.update(signature="0x" + "ab" * 64),
    ],
)
def test_malformed_passport_writes_are_4xx_never_500(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs, mutate: Callable[[dict[str, Any]], None]
) -> None:
    body = issue_body(reg, orgs.brand.signer, sample_document(), deadline=svc.now() + 3600)
    mutate(body)
    resp = svc.api.post("/v1/passports", json=body, headers=orgs.brand.writer)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json()["detail"]
