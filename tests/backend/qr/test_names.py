"""Names, not addresses: the page and the bundle name every party by its verified organisation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from backend.chain.passports import claim_type
from backend.gs1.digital_link import DigitalLink
from backend.gs1.keys import passport_id
from backend.passports.canonical import document_hash
from tests.backend.factories import SAMPLE_PREFIX, make_org
from tests.backend.passports.api_factories import attest_body
from tests.backend.qr.flow import Flow, make_flow
from tests.backend.shipments.factories import Service

JSON_ACCEPT = {"Accept": "application/json"}
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


@pytest.fixture
def flow(api: TestClient, tester: ChainClient) -> Flow:
    return make_flow(api, tester)


def _pid(link: DigitalLink) -> bytes:
    return passport_id(link.gtin, link.lot, link.serial)


def _org_name(flow: Flow, slug: str) -> str:
    return str(flow.api.get("/v1/orgs/me", headers=getattr(flow, slug).writer).json()["name"])


def _visible(html: str) -> str:
    """The text a reader sees without opening a details element or hovering."""
    html = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    html = re.sub(r'\s(title|href|download)="[^"]*"', "", html)
    return re.sub(r"<[^>]+>", " ", html)


def test_brand_name_comes_from_the_registry_not_the_documents_free_text(
    api: TestClient, tester: ChainClient
) -> None:
    # The document names "Lang Tre Homeware JSC" as issuer; the organisation that
    # holds the GTIN's prefix and signs the issue is registered as "Mallory".
    mallory = make_org(api, "mallory", ("seller",), prefixes=(SAMPLE_PREFIX,))
    impostor = Flow(
        Service(api, tester), mallory, make_org(api, "carrier"), make_org(api, "broker")
    )
    flow = impostor
    link, doc = impostor.issue(lot="IMP1", serial="SN-I")
    assert doc["issuer"]["name"] == "Lang Tre Homeware JSC"
    page = flow.api.get(link.path, headers=JSON_ACCEPT).json()["passport"]
    assert page["brand"] == "Mallory"
    assert page["brand_signer"]["address"] == mallory.signer.address
    html = flow.api.get(link.path).text
    brand_line = re.search(r'<p class="brand"[^>]*>(.*?)</p>', html, re.S)
    assert brand_line is not None
    assert "Mallory" in brand_line.group(1)
    assert "Lang Tre" not in brand_line.group(1)


def test_certification_without_an_on_chain_attestation_is_declared_by_the_brand(
    flow: Flow,
) -> None:
    link, _ = flow.issue(lot="DC1", serial="SN-DC")
    page = flow.api.get(link.path, headers=JSON_ACCEPT).json()["passport"]
    assert {c["status"] for c in page["certifications"]} == {"declared"}
    assert all(c["attested_by"] is None for c in page["certifications"])
    html = flow.api.get(link.path).text
    assert "Declared by the brand" in html
    assert "Attested by" not in html


def test_certification_attested_by_a_registered_certifier_names_it(flow: Flow) -> None:
    link, doc = flow.issue(lot="AC1", serial="SN-AC")
    certifier = make_org(flow.api, "control-union", ("certifier",))
    reg = flow.passports()
    body = attest_body(
        reg,
        certifier.signer,
        _pid(link),
        document_hash(doc),
        claim_type("fsc-coc"),
        valid_until=flow.svc.now() + 86_400 * 365,
        deadline=flow.svc.now() + 3600,
    )
    resp = flow.api.post(
        f"/v1/passports/0x{_pid(link).hex()}/attestations", json=body, headers=certifier.writer
    )
    assert resp.status_code == 202, resp.text
    flow.svc.settle()
    page = flow.api.get(link.path, headers=JSON_ACCEPT).json()["passport"]
    by_name = {c["name"]: c for c in page["certifications"]}
    fsc = next(c for n, c in by_name.items() if n.startswith("FSC"))
    assert fsc["status"] == "valid"
    assert fsc["attested_by"]["name"] == "Control-Union"
    assert fsc["attested_by"]["role"] == "certifier"
    others = [c for n, c in by_name.items() if not n.startswith("FSC")]
    assert others
    assert {c["status"] for c in others} == {"declared"}
    assert "Attested by <bdi>Control-Union · certifier</bdi>" in flow.api.get(link.path).text


def test_page_and_bundle_name_every_signer_by_organisation_and_role(flow: Flow) -> None:
    link, _ = flow.issue(lot="N1", serial="SN-N")
    pid = _pid(link)
    flow.ship(pid)
    flow.sign_events(pid, count=1, by=flow.carrier)
    flow.anchor()
    carrier, broker, seller = (_org_name(flow, s) for s in ("carrier", "broker", "seller"))
    page = flow.api.get(link.path, headers=JSON_ACCEPT).json()["passport"]
    labels = {(m["signed_by"]["name"], m["signed_by"]["role"]) for m in page["journey"]}
    assert labels == {(seller, "seller"), (carrier, "carrier"), (broker, "customs broker")}
    proof_names = {s["name"] for s in page["proof"]["signers"]}
    assert proof_names == {seller, carrier, broker}
    html = flow.api.get(link.path).text
    assert f"Signed by <bdi>{carrier} · carrier</bdi>" in html
    # Addresses are there on demand (details, titles), never as the visible name.
    assert ADDRESS.search(html)
    signers = re.search(r'<ul class="signers">.*?</ul>', html, re.S)
    assert signers is not None
    # Everything above the proof section, and the proof's signer list (the contract
    # and transaction hashes there are chain data, not parties).
    for part in (html.split('<section id="proof"')[0], signers.group(0)):
        m = ADDRESS.search(_visible(part))
        assert m is None, _visible(part)[max(0, m.start() - 200) : m.end()]
    bundle: dict[str, Any] = flow.api.get(f"/proof-bundle/0x{pid.hex()}.json").json()
    assert bundle["passport"]["issued_by"]["organisation"] == seller
    assert bundle["passport"]["issued_by"]["role"] == "brand"
    assert {e["signed_by"]["organisation"] for e in bundle["events"]} == {carrier}
    assert all(e["signer_validity"]["valid_from"] for e in bundle["events"])
    assert {m["signed_by"]["organisation"] for m in bundle["milestones"]} == {
        seller,
        carrier,
        broker,
    }
