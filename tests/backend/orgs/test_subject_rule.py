"""Who may speak for a product: each test is an attack the subject rule stops."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from backend.chain import ChainClient, eip712
from backend.chain.typed_data.events import SUBJECT_DELEGATION
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.gs1.digital_link import DigitalLink
from backend.gs1.keys import passport_id
from backend.qr.bundle.verify import Verdict, verify_bundle
from tests.backend.factories import Org, domain_of, make_org, signed_event
from tests.backend.qr.flow import Flow, make_flow, sample_document
from tests.backend.qr.third_party import rpc_of, trust_of
from tests.backend.shipments.factories import create_body, milestone_body, post
from tests.backend.wallets import register_key, two_key_wallet
from tests.context import context

JSON_ACCEPT = {"Accept": "application/json"}
EVERY_PASSPORT = b"\0" * 32


@pytest.fixture
def flow(api: TestClient, tester: ChainClient) -> Flow:
    return make_flow(api, tester)


def _pid(link: DigitalLink) -> bytes:
    return passport_id(link.gtin, link.lot, link.serial)


def _post_event(api: TestClient, org: Org, subject: bytes) -> Any:
    body = signed_event(domain_of(api), org.signer, subject=subject)
    return api.post("/v1/events", json=body, headers=org.writer), body


def _public_text(flow: Flow, link: DigitalLink) -> str:
    """The passport's public JSON with its proof bundle, once pending events are anchored."""
    flow.anchor()  # the bundle carries anchored events only
    return flow.api.get(link.path, headers=JSON_ACCEPT).text


def _delegation(
    api: TestClient, signer: LocalAccount, delegate: str, subject: bytes, salt: bytes = b""
) -> dict[str, Any]:
    salt = salt or secrets.token_bytes(32)
    message = {"issuer": signer.address, "subject": subject, "delegate": delegate, "salt": salt}
    sig = eip712.sign(signer.key, domain_of(api), SUBJECT_DELEGATION, message)
    return {
        "issuer": signer.address,
        "subject": "0x" + subject.hex(),
        "delegate": delegate,
        "salt": "0x" + salt.hex(),
        "signature": "0x" + sig.hex(),
    }


def test_event_about_another_brands_passport_is_refused_naming_the_rule(flow: Flow) -> None:
    link, _ = flow.issue(lot="A1", serial="SN-A")
    mallory = make_org(flow.api, "mallory")
    resp, body = _post_event(flow.api, mallory, _pid(link))
    assert resp.status_code == 403, resp.text
    assert resp.json()["detail"].startswith("subject rule: organisation 'mallory' may not")
    assert "passport" in resp.json()["detail"]
    assert body["eventId"] not in _public_text(flow, link)


def test_batch_refuses_only_the_items_about_a_foreign_passport(flow: Flow) -> None:
    link, _ = flow.issue(lot="A2", serial="SN-B")
    mallory = make_org(flow.api, "mallory", ("seller",))
    dom = domain_of(flow.api)
    own = signed_event(dom, mallory.signer)  # a subject nobody speaks for yet
    foreign = signed_event(dom, mallory.signer, subject=_pid(link))
    resp = flow.api.post(
        "/v1/events/batch", json={"events": [own, foreign]}, headers=mallory.writer
    )
    assert resp.status_code == 200
    results = resp.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected"]
    assert results[1]["error"] == "forbidden"
    assert results[1]["detail"].startswith("subject rule:")


def test_events_squatted_before_the_passport_exists_never_show_on_its_page(flow: Flow) -> None:
    # The passport id of a future lot is known in advance (GTIN + lot + serial).
    gtin = sample_document()["identity"]["gtin"].zfill(14)
    link = DigitalLink(gtin, "FUTURE", "SN-F")
    mallory = make_org(flow.api, "mallory")
    resp, squatted = _post_event(flow.api, mallory, _pid(link))
    assert resp.status_code == 202  # nobody speaks for an unknown subject yet
    flow.issue(lot="FUTURE", serial="SN-F")
    own = flow.sign_events(_pid(link), count=1)
    flow.anchor()
    text = _public_text(flow, link)
    assert own[0]["eventId"] in text
    assert squatted["eventId"] not in text
    bundle = flow.api.get(f"/proof-bundle/0x{_pid(link).hex()}.json").text
    assert own[0]["eventId"] in bundle
    assert squatted["eventId"] not in bundle
    # Once the passport exists, the same organisation is refused outright.
    again, _ = _post_event(flow.api, mallory, _pid(link))
    assert again.status_code == 403


def test_carrier_speaks_for_a_passport_only_once_a_shipment_carries_it(flow: Flow) -> None:
    link, _ = flow.issue(lot="C1", serial="SN-C")
    pid = _pid(link)
    before, _ = _post_event(flow.api, flow.carrier, pid)
    assert before.status_code == 403
    flow.ship(pid)
    after, body = _post_event(flow.api, flow.carrier, pid)
    assert after.status_code == 202, after.text
    assert body["eventId"] in _public_text(flow, link)


def test_shipment_manifest_naming_a_foreign_passport_is_refused(flow: Flow) -> None:
    link, _ = flow.issue(lot="S1", serial="SN-S")
    mallory = make_org(flow.api, "mallory", ("seller",))
    body = create_body(flow.svc, mallory.signer, [mallory.signer.address], passports=[_pid(link)])
    resp = flow.api.post("/v1/shipments", json=body, headers=mallory.writer)
    assert resp.status_code == 403, resp.text
    assert resp.json()["detail"].startswith("subject rule: organisation 'mallory' may not")
    # Nor do its own party's events about the passport count.
    events, _ = _post_event(flow.api, mallory, _pid(link))
    assert events.status_code == 403


def test_delegate_speaks_until_the_issuer_revokes_and_its_events_then_disappear(
    flow: Flow,
) -> None:
    link, _ = flow.issue(lot="D1", serial="SN-D")
    pid = _pid(link)
    lab = make_org(flow.api, "lab")
    refused, _ = _post_event(flow.api, lab, pid)
    assert refused.status_code == 403
    grant = flow.api.post(
        f"/v1/orgs/{flow.seller.slug}/delegations",
        json=_delegation(flow.api, flow.seller.signer, "lab", pid),
        headers=flow.seller.admin,
    )
    assert grant.status_code == 201, grant.text
    assert grant.json()["delegate_name"] == "Lab"
    accepted, body = _post_event(flow.api, lab, pid)
    assert accepted.status_code == 202, accepted.text
    assert body["eventId"] in _public_text(flow, link)
    listed = flow.api.get("/v1/orgs/lab/delegations", headers=lab.writer).json()["items"]
    assert [d["id"] for d in listed] == [grant.json()["id"]]

    revoked = flow.api.post(
        f"/v1/orgs/{flow.seller.slug}/delegations/{grant.json()['id']}/revoke",
        headers=flow.seller.admin,
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    again, _ = _post_event(flow.api, lab, pid)
    assert again.status_code == 403
    assert body["eventId"] not in _public_text(flow, link)


def test_delegation_signed_by_a_two_key_wallet_is_kept_whole_and_proven(flow: Flow) -> None:
    """A 2-of-2 ERC-1271 wallet of the brand grants the delegation: one key's half is
    refused, both keys' 130-byte signature is stored whole and the proof bundle's
    delegation verifies against the chain (the wallet asked at the anchoring block)."""
    link, _ = flow.issue(lot="W1", serial="SN-W1")
    pid = _pid(link)
    lab = make_org(flow.api, "lab")
    wallet = two_key_wallet(flow.chain)
    register_key(flow.api, flow.svc.settle, flow.seller, wallet.address)
    salt = secrets.token_bytes(32)
    both, half = wallet.joint(lambda s: _delegation(flow.api, s, "lab", pid, salt))
    path = f"/v1/orgs/{flow.seller.slug}/delegations"
    resp = flow.api.post(path, json=half, headers=flow.seller.admin)
    assert resp.status_code == 422, resp.text
    assert f"contract wallet {wallet.address} does not accept it" in resp.json()["detail"]
    resp = flow.api.post(path, json=both, headers=flow.seller.admin)
    assert resp.status_code == 201, resp.text
    accepted, body = _post_event(flow.api, lab, pid)
    assert accepted.status_code == 202, accepted.text
    bundle = json.loads(_public_text(flow, link))["proof_bundle"]
    (grant,) = bundle["delegations"]
    assert grant["signature"] == both["signature"]
    assert body["eventId"] in json.dumps(bundle)
    report = verify_bundle(bundle, rpc_of(flow.chain), trust_of(flow.chain))
    assert report.verdict is Verdict.VALID, report.failures()


def test_delegation_for_every_passport_covers_later_ones(flow: Flow) -> None:
    lab = make_org(flow.api, "lab")
    grant = flow.api.post(
        f"/v1/orgs/{flow.seller.slug}/delegations",
        json=_delegation(flow.api, flow.seller.signer, "lab", EVERY_PASSPORT),
        headers=flow.seller.admin,
    )
    assert grant.status_code == 201, grant.text
    link, _ = flow.issue(lot="E1", serial="SN-E")
    resp, _ = _post_event(flow.api, lab, _pid(link))
    assert resp.status_code == 202, resp.text


def test_delegation_forged_or_for_a_foreign_passport_is_refused(flow: Flow) -> None:
    link, _ = flow.issue(lot="F1", serial="SN-F1")
    mallory = make_org(flow.api, "mallory", ("seller",))
    make_org(flow.api, "lab")
    # Mallory's key signs a grant in the brand's name: not the brand's key.
    forged = _delegation(flow.api, mallory.signer, "mallory", _pid(link))
    forged["issuer"] = flow.seller.signer.address
    resp = flow.api.post(
        f"/v1/orgs/{flow.seller.slug}/delegations", json=forged, headers=flow.seller.admin
    )
    assert resp.status_code == 422
    # Mallory grants itself rights over the brand's passport from its own account.
    own = flow.api.post(
        "/v1/orgs/mallory/delegations",
        json=_delegation(flow.api, mallory.signer, "lab", _pid(link)),
        headers=mallory.admin,
    )
    assert own.status_code == 403
    assert own.json()["detail"].startswith("subject rule:")
    # And cannot record a grant in the brand's account at all.
    other = flow.api.post(
        f"/v1/orgs/{flow.seller.slug}/delegations",
        json=_delegation(flow.api, flow.seller.signer, "mallory", _pid(link)),
        headers=mallory.admin,
    )
    assert other.status_code == 404


def test_amend_by_a_delegate_is_refused(flow: Flow) -> None:
    """Delegates add events; only the issuer organisation writes versions."""
    from backend.orgs.subjects import Basis, require_speaks_for

    link, _ = flow.issue(lot="G1", serial="SN-G")
    lab = make_org(flow.api, "lab")
    flow.api.post(
        f"/v1/orgs/{flow.seller.slug}/delegations",
        json=_delegation(flow.api, flow.seller.signer, "lab", _pid(link)),
        headers=flow.seller.admin,
    )
    with context(flow.api).sessions() as session:
        lab_id = session.scalar(
            __import__("sqlalchemy").text("SELECT id FROM organisations WHERE slug = 'lab'")
        )
        subject = "0x" + _pid(link).hex()
        assert require_speaks_for(session=session, org_id=lab_id, subject=subject) == (
            Basis.DELEGATE
        )
        with pytest.raises(Exception, match="subject rule"):
            require_speaks_for(
                session=session, org_id=lab_id, subject=subject, bases=frozenset({Basis.ISSUER})
            )
    _ = lab


def test_milestone_about_a_shipment_whose_seller_lost_the_delegation_is_refused(
    flow: Flow,
) -> None:
    """A milestone (or event) about a shipment is about the passports it carries: once
    the issuer withdraws the seller's delegation, the shipment's parties no longer
    speak for the goods and their writes are refused naming the rule."""
    link, _ = flow.issue(lot="M1", serial="SN-M")
    pid = _pid(link)
    reseller = make_org(flow.api, "reseller", ("seller",))
    grant = flow.api.post(
        f"/v1/orgs/{flow.seller.slug}/delegations",
        json=_delegation(flow.api, flow.seller.signer, "reseller", pid),
        headers=flow.seller.admin,
    )
    assert grant.status_code == 201, grant.text
    body = create_body(flow.svc, reseller.signer, [flow.carrier.signer.address], passports=[pid])
    post(flow.svc, "/v1/shipments", body, reseller)
    flow.svc.settle()
    sid = str(body["terms"]["shipmentId"])
    picked = milestone_body(
        flow.svc, sid, M.PICKED_UP, reseller.signer, receiver=flow.carrier.signer
    )
    post(flow.svc, f"/v1/shipments/{sid}/milestones", picked, reseller)
    flow.svc.settle()
    ok, _ = _post_event(flow.api, flow.carrier, bytes.fromhex(sid[2:]))
    assert ok.status_code == 202, ok.text

    revoked = flow.api.post(
        f"/v1/orgs/{flow.seller.slug}/delegations/{grant.json()['id']}/revoke",
        headers=flow.seller.admin,
    )
    assert revoked.status_code == 200
    departed = milestone_body(
        flow.svc, sid, M.DEPARTED, flow.carrier.signer, measured_weight_grams=120_000
    )
    for path, milestone in (
        (f"/v1/shipments/{sid}/milestones", departed),
        ("/v1/shipments/milestones/batch", {"items": [departed]}),
    ):
        resp = flow.api.post(path, json=milestone, headers=flow.carrier.writer)
        assert resp.status_code == 403, resp.text
        assert resp.json()["detail"].startswith(
            f"subject rule: organisation {flow.carrier.slug!r} may not add events about "
            f"passport 0x{pid.hex()} (carried by shipment {sid})"
        )
    event, _ = _post_event(flow.api, flow.carrier, bytes.fromhex(sid[2:]))
    assert event.status_code == 403
    assert event.json()["detail"].startswith("subject rule:")


def test_milestones_of_the_issuers_own_shipment_pass_the_rule(flow: Flow) -> None:
    link, _ = flow.issue(lot="M2", serial="SN-M2")
    sid = flow.ship(_pid(link))  # every milestone, each checked by the rule, is accepted
    resp, _ = _post_event(flow.api, flow.broker, bytes.fromhex(sid[2:]))
    assert resp.status_code == 202, resp.text
