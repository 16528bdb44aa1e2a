"""Passports as UNTP DPP credentials, checked by a verifier that shares no code with Waymark.

The app is served by uvicorn on a free 127.0.0.1 port; ``verify_vc.mjs`` (npm ``jose``,
``ethers``, ``canonicalize``) fetches the ``vc+jwt``, resolves the issuer's did:web over
loopback, verifies the JWS and the status list credential, and re-checks the evidence.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from backend.chain import ChainClient
from backend.chain.organisations import OrganisationRegistryClient
from backend.chain.passports import claim_type
from backend.common.sealing import Sealer, SecretUnavailable
from backend.credentials import keys as credential_keys
from backend.credentials.models import CredentialKey
from backend.gs1.keys import passport_id
from backend.passports.models import PassportDocumentRecord
from tests.backend.credentials.live import NODE, LiveClient, verify
from tests.backend.credentials.untp_schemas import assert_untp_valid
from tests.backend.factories import make_org
from tests.backend.passports.api_factories import attest_body, revoke_attestation_body
from tests.backend.qr.flow import Flow, make_flow
from tests.backend.shipments.factories import post
from tests.context import context

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def _issue(flow: Flow) -> tuple[str, dict[str, Any]]:
    link, doc = flow.issue(lot="TH2611-07")
    pid = "0x" + passport_id(link.gtin, link.lot, link.serial).hex()
    return pid, doc


def test_credential_verifies_with_jose_against_the_did_web_and_recall_sets_its_status_bit(
    live: LiveClient, tester: ChainClient
) -> None:
    flow = make_flow(live, tester)  # type: ignore[arg-type]
    pid, doc = _issue(flow)
    base = str(live.base_url).rstrip("/")
    port = base.rsplit(":", 1)[1]
    did = f"did:web:127.0.0.1%3A{port}:orgs:{flow.seller.slug}"

    url = f"{base}/v1/passports/{pid}/credential"
    out = verify(url)
    assert out["verified"] is True
    assert out["did"] == did
    vc = out["credential"]
    assert_untp_valid("dpp", vc)
    assert vc["type"] == ["VerifiableCredential", "DigitalProductPassport"]
    assert vc["@context"][1] == "https://test.uncefact.org/vocabulary/untp/dpp/0.6.1/"
    # The credential, the Digital Link and the anchored version point at each other.
    assert vc["id"] == f"{base}/v1/passports/{pid}/versions/1/credential"
    subject = vc["credentialSubject"]
    assert subject["type"] == ["ProductPassport"]
    assert subject["granularityLevel"] == "batch"
    assert subject["product"]["id"] == f"{base}/01/08936045870013/10/TH2611-07"
    assert subject["product"]["batchNumber"] == "TH2611-07"
    assert [m["massFraction"] for m in subject["materialsProvenance"]] == [0.94, 0.045, 0.015]
    assert all(c["type"] == ["Claim", "Declaration"] for c in subject["conformityClaim"])
    stages = subject["emissionsScorecard"]["lifecycleStages"]
    assert [s["lifecycleStage"] for s in stages][:2] == ["raw_materials", "manufacturing"]
    assert stages[0]["working"][0]["formula"].startswith("2.6 kg")
    evidence = vc["evidence"][0]
    view = live.get(f"/v1/passports/{pid}").json()
    assert evidence["documentHash"] == view["versions"][0]["document_hash"]
    assert evidence["transactionHash"] == view["versions"][0]["tx_hash"]
    assert out["documentHash"] == evidence["documentHash"]  # re-hashed by the verifier
    assert evidence["document"] == doc
    assert out["signer"] == flow.seller.signer.address  # the brand's own EIP-712 signature
    assert out["statusSet"] is False
    assert out["statusListLength"] == 131_072
    # The did:web lists the brand's on-chain signer key and the credential key.
    methods = {m["id"]: m for m in out["didDocument"]["verificationMethod"]}
    key = methods[f"{did}#{flow.seller.signer.address}"]
    assert key["blockchainAccountId"] == f"eip155:{tester.chain_id}:{flow.seller.signer.address}"
    # JSON-LD of the same credential by content negotiation.
    ld = live.get(url, headers={"Accept": "application/vc+ld+json"})
    assert ld.headers["content-type"].startswith("application/vc+ld+json")
    assert ld.json()["id"] == vc["id"]

    # The resolver links the Digital Link to its credential: linkset, link type, page.
    item = "/01/08936045870013/10/TH2611-07"
    entry = live.get(f"{item}?linkType=all").json()["linkset"][0]
    dpp_links = entry["https://test.uncefact.org/vocabulary/linkTypes/dpp"]
    assert [x["href"] for x in dpp_links] == [url]
    assert url in [x["href"] for x in entry["https://gs1.org/voc/sustainabilityInfo"]]
    for link_type in ("untp:dpp", "https://test.uncefact.org/vocabulary/linkTypes/dpp"):
        hop = live.get(f"{item}?linkType={link_type}", follow_redirects=False)
        assert (hop.status_code, hop.headers["location"]) == (303, url)
    page = live.get(item).text
    assert f'href="/v1/passports/{pid}/credential"' in page

    flow.recall(bytes.fromhex(pid[2:]), "glaze batch failed migration test")
    after = verify(url)  # still resolves and verifies, now with its bit set
    assert after["statusSet"] is True
    assert after["credential"]["credentialStatus"] == vc["credentialStatus"]


def test_attestation_is_a_conformity_credential_from_the_certifier_and_revocation_sets_its_bit(
    live: LiveClient, tester: ChainClient
) -> None:
    flow = make_flow(live, tester)  # type: ignore[arg-type]
    certifier = make_org(live, f"cert-{flow.seller.slug}", ("certifier",), name="Control Union")  # type: ignore[arg-type]
    pid, doc = _issue(flow)
    reg = flow.passports()
    now = flow.svc.now()
    doc_hash = bytes.fromhex(live.get(f"/v1/passports/{pid}").json()["document_hash"][2:])
    body = attest_body(
        reg,
        certifier.signer,
        bytes.fromhex(pid[2:]),
        doc_hash,
        claim_type("fsc-coc"),
        valid_until=now + 86_400,
        deadline=now + 3600,
    )
    aid = post(flow.svc, f"/v1/passports/{pid}/attestations", body, certifier)["subject"]
    flow.svc.settle()
    base = str(live.base_url).rstrip("/")
    url = f"{base}/v1/passports/attestations/{aid}/credential"
    out = verify(url)
    vc = out["credential"]
    assert_untp_valid("dcc", vc)
    assert vc["type"] == ["VerifiableCredential", "DigitalConformityCredential"]
    assert out["did"].endswith(f":orgs:{certifier.slug}")  # issued by the certifier
    subject = vc["credentialSubject"]
    assert subject["issuedToParty"]["id"].endswith(f":orgs:{flow.seller.slug}")
    assessment = subject["assessment"][0]
    assert assessment["referenceStandard"]["name"] == doc["certifications"][0]["scheme"]
    assert assessment["passportCredential"] == f"{base}/v1/passports/{pid}/versions/1/credential"
    assert vc["evidence"][0]["attestationId"] == aid
    assert out["statusSet"] is False

    revoke = revoke_attestation_body(
        reg, certifier.signer, bytes.fromhex(aid[2:]), deadline=flow.svc.now() + 3600
    )
    post(flow.svc, f"/v1/passports/attestations/{aid}/revoke", revoke, certifier)
    flow.svc.settle()
    assert verify(url)["statusSet"] is True


def test_did_web_follows_key_revocation_in_the_registry(
    live: LiveClient, tester: ChainClient
) -> None:
    flow = make_flow(live, tester)  # type: ignore[arg-type]
    flow.svc.settle()
    slug, signer = flow.seller.slug, flow.seller.signer.address
    doc = live.get(f"/orgs/{slug}/did.json").json()
    assert any(m["id"].endswith(f"#{signer}") for m in doc["verificationMethod"])
    registry = OrganisationRegistryClient(
        tester, context(live).loaded().deployment.address("OrganisationRegistry")
    )
    registry.revoke_key(signer)
    flow.svc.settle()
    doc = live.get(f"/orgs/{slug}/did.json").json()
    assert not any(m["id"].endswith(f"#{signer}") for m in doc["verificationMethod"])
    assert f"{doc['id']}#{signer}" not in doc["assertionMethod"]
    missing = live.get("/orgs/nobody-here/did.json")
    assert missing.status_code == 404
    assert "not registered in OrganisationRegistry" in missing.json()["detail"]


def test_refusals_and_the_sealed_key(live: LiveClient, tester: ChainClient) -> None:
    flow = make_flow(live, tester)  # type: ignore[arg-type]
    pid, _ = _issue(flow)
    url = f"/v1/passports/{pid}/credential"
    assert live.get(url, headers={"Accept": "text/csv"}).status_code == 406
    assert live.get(f"/v1/passports/0x{'00' * 32}/credential").status_code == 404
    assert live.get(f"/v1/passports/{pid}/versions/9/credential").status_code == 404
    assert live.get(url, headers={"Accept": "application/vc+jwt"}).status_code == 200
    with context(live).sessions() as session:
        row = session.scalars(select(CredentialKey)).one()
        # Stored sealed: the row does not open with another sealing key.
        assert row.sealed_private_key.startswith("wmseal1:")
        other = context(live).settings.model_copy(update={"credential_sealing_keys": None})
        assert credential_keys.signing_key(session, other, row.org_id).kid == row.kid
        foreign = Sealer(
            ["another-sealing-key-" + "x" * 32],
            info=b"waymark credential signing keys v1",
            setting="WAYMARK_CREDENTIAL_SEALING_KEYS",
        )
        with pytest.raises(SecretUnavailable):
            foreign.open(row.sealed_private_key, aad=b"credential-key:%d" % row.org_id, what="k")
        # A stored document altered after anchoring gets no credential.
        session.execute(
            update(PassportDocumentRecord).values(document={"product": {"name": "swapped"}})
        )
        session.commit()
    tampered = live.get(url)
    assert tampered.status_code == 409
    assert "does not hash to the anchored documentHash" in tampered.json()["detail"]
