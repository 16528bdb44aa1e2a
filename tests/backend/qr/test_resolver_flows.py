"""Consumer-page flows that issue, anchor, recall or tamper on a fresh chain state of their own.

They live apart from test_resolver.py, whose module-scoped world keeps its organisations
(and their GS1 prefixes) registered on the chain for the whole module.
"""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from backend.chain import ChainClient
from backend.gs1.keys import passport_id
from backend.pages import store as pages
from backend.passports.models import PassportDocumentRecord
from backend.qr.bundle.verify import verify_bundle
from tests.backend.qr.flow import Flow, make_flow
from tests.backend.qr.third_party import rpc_of, trust_of
from tests.context import context

GTIN = "08936045870013"
JSON_ACCEPT = {"Accept": "application/json"}


@pytest.fixture
def flow(api: TestClient, tester: ChainClient) -> Flow:
    return make_flow(api, tester)


def test_hostile_product_name_is_escaped_and_isolated(flow: Flow) -> None:
    name = "<script>alert(1)</script>\u202eevil"
    link, _ = flow.issue(lot="X1", serial="SN-X", name=name)
    html = flow.api.get(link.path).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\u202eevil" in html
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert heading is not None
    assert heading.group(1) == "<bdi>&lt;script&gt;alert(1)&lt;/script&gt;\u202eevil</bdi>"
    assert flow.api.get(link.path, headers=JSON_ACCEPT).json()["passport"]["product_name"] == name


def test_pending_until_anchored_then_verified(flow: Flow, tester: ChainClient) -> None:
    link, _ = flow.issue(lot="P1", serial="SN-P")
    pid = passport_id(link.gtin, link.lot, link.serial)
    flow.sign_events(pid, count=1)
    page = flow.api.get(link.path).text
    assert "Pending · Not yet anchored on chain" in page
    assert flow.api.get(link.path, headers=JSON_ACCEPT).json()["passport"]["state"] == "pending"
    # The bundle carries only what it can prove: the pending event waits for its batch.
    pending = flow.api.get(f"/proof-bundle/0x{pid.hex()}.json").json()
    assert pending["events"] == []
    assert verify_bundle(pending, rpc_of(tester), trust_of(tester)).ok
    flow.anchor()  # the anchor marks the page; the indexer round recomputes it
    assert "Verified on chain" in flow.api.get(link.path).text
    anchored = flow.api.get(f"/proof-bundle/0x{pid.hex()}.json").json()
    assert len(anchored["events"]) == 1
    assert verify_bundle(anchored, rpc_of(tester), trust_of(tester)).ok


def test_recalled_passport_shows_the_recall(flow: Flow) -> None:
    link, _ = flow.issue(lot="R1", serial="SN-R")
    before = flow.api.get(link.path).text  # cached under the active version
    assert "recall-banner" not in before
    flow.recall(passport_id(link.gtin, link.lot, link.serial), "Adhesive failed a migration test")
    page = flow.api.get(link.path).text
    assert 'id="recall-banner"' in page
    assert "Adhesive failed a migration test" in page
    assert flow.api.get(link.path, headers=JSON_ACCEPT).json()["passport"]["state"] == "recalled"


def test_tampered_document_flips_page_and_fails_bundle_verification(
    flow: Flow, tester: ChainClient
) -> None:
    link, doc = flow.issue(lot="T1", serial="SN-T")
    pid_hex = "0x" + passport_id(link.gtin, link.lot, link.serial).hex()
    flow.sign_events(bytes.fromhex(pid_hex[2:]), count=1)
    flow.anchor()
    assert "Verified on chain" in flow.api.get(link.path).text
    bundle = flow.api.get(f"/proof-bundle/{pid_hex}.json").json()
    assert verify_bundle(bundle, rpc_of(tester), trust_of(tester)).ok
    forged = json.loads(json.dumps(doc))
    forged["product"]["name"] = "Solid teak dinner set"
    with context(flow.api).sessions() as session:
        session.execute(
            update(PassportDocumentRecord)
            .where(PassportDocumentRecord.passport_id == pid_hex)
            .values(document=forged)
        )
        pages.mark(session, [pid_hex])  # what a write of a stored document does
        session.commit()
    page = flow.api.get(link.path).text
    assert "Warning · Data does not match the chain" in page
    assert "On-chain record (does not match this page)" in page
    assert "Solid teak dinner set" in page
    assert flow.api.get(link.path, headers=JSON_ACCEPT).json()["passport"]["state"] == "tampered"
    tampered = flow.api.get(f"/proof-bundle/{pid_hex}.json").json()
    report = verify_bundle(tampered, rpc_of(tester), trust_of(tester))
    assert [c.id for c in report.failures()] == ["passport.on_chain_hash"]
