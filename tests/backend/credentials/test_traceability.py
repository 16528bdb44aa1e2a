"""Shipment milestones and signed supply events as UNTP Digital Traceability Events.

Verified by ``verify_vc.mjs`` (npm ``jose`` against the signer organisation's did:web over
loopback, ``ethers`` for the supply event's EIP-712 signature) and validated against the
vendored UNTP 0.6.1 DTE schema. Reads follow the EPCIS export's rules.
"""

from __future__ import annotations

import pytest

from backend.chain import ChainClient
from backend.gs1.keys import passport_id
from tests.backend.credentials.live import NODE, LiveClient, verify
from tests.backend.credentials.untp_schemas import assert_untp_valid
from tests.backend.factories import make_org
from tests.backend.qr.flow import make_flow

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")
CBV = "https://ref.gs1.org/cbv/"


def test_milestones_are_events_from_their_signer_readable_by_the_shipment_parties_only(
    live: LiveClient, tester: ChainClient
) -> None:
    flow = make_flow(live, tester)  # type: ignore[arg-type]
    link, _ = flow.issue(lot="TH2611-07")
    pid = passport_id(link.gtin, link.lot, link.serial)
    sid = flow.ship(pid)
    base = str(live.base_url).rstrip("/")
    detail = live.get(f"/v1/shipments/{sid}", headers=flow.seller.writer).json()
    departed = next(m for m in detail["milestones"] if m["milestone_name"] == "departed")
    url = f"{base}/v1/shipments/{sid}/milestones/{departed['index']}/credential"
    assert base + departed["credential"] == url  # the shipment API links each milestone

    out = verify(url, flow.seller.writer)  # the seller reads; the carrier signed
    assert out["verified"] is True
    assert out["did"].endswith(f":orgs:{flow.carrier.slug}")
    vc = out["credential"]
    assert_untp_valid("dte", vc)
    assert vc["type"] == ["VerifiableCredential", "DigitalTraceabilityEvent"]
    assert vc["@context"][1] == "https://test.uncefact.org/vocabulary/untp/dte/0.6.1/"
    (event,) = vc["credentialSubject"]
    assert event["type"] == ["ObjectEvent", "Event"]
    assert event["bizStep"] == CBV + "BizStep-departing"
    assert event["disposition"] == CBV + "Disp-in_transit"
    assert event["quantityList"][0]["productId"] == f"{base}{link.path}"
    assert vc["evidence"][0]["transactionHash"] == departed["tx_hash"]
    assert vc["evidence"][0]["recordHash"] == departed["record_hash"]
    assert vc["evidence"][0]["signer"].endswith(flow.carrier.signer.address)
    carrier_view = verify(url, flow.carrier.writer)  # a party reads it too
    assert carrier_view["credential"]["id"] == vc["id"]
    # The passport's credential links each milestone's event.
    dpp = live.get(f"/v1/passports/0x{pid.hex()}/credential").json()
    assert_untp_valid("dpp", dpp)
    (traced,) = dpp["credentialSubject"]["traceabilityInformation"]
    linked = [e["linkURL"] for e in traced["traceabilityEvent"]]
    assert url in linked
    assert len(linked) == len(detail["milestones"])

    # Not public: no key is 401, another organisation's key is refused like the EPCIS export.
    assert live.get(url).status_code == 401
    stranger = make_org(live, f"str-{flow.seller.slug}", ("seller",))  # type: ignore[arg-type]
    for path in (url, f"/v1/epcis/shipments/{sid}"):
        refused = live.get(path, headers=stranger.writer)
        assert refused.status_code == 404, path
        assert f"shipment {sid} not found" in refused.json()["detail"]
    missing = live.get(f"/v1/shipments/{sid}/milestones/99/credential", headers=flow.seller.writer)
    assert missing.status_code == 404
    assert "has no milestone 99" in missing.json()["detail"]


def test_supply_event_is_an_event_with_its_eip712_signature_for_its_recorder_only(
    live: LiveClient, tester: ChainClient
) -> None:
    flow = make_flow(live, tester)  # type: ignore[arg-type]
    link, _ = flow.issue(lot="TH2611-08")
    pid = passport_id(link.gtin, link.lot, link.serial)
    (body,) = flow.sign_events(pid, count=1)
    base = str(live.base_url).rstrip("/")
    url = f"{base}/v1/events/{body['eventId']}/credential"

    out = verify(url, flow.seller.writer)
    assert out["did"].endswith(f":orgs:{flow.seller.slug}")
    assert out["signer"] == flow.seller.signer.address  # ethers recovers the EIP-712 signature
    vc = out["credential"]
    assert_untp_valid("dte", vc)
    (event,) = vc["credentialSubject"]
    assert event["epcList"] == [
        {"type": ["Item"], "id": f"{base}{link.path}", "name": event["epcList"][0]["name"]}
    ]
    assert event["bizLocation"] == "https://vocabulary.uncefact.org/unlocode#USLAX"
    assert (
        vc["evidence"][0]["issuerSignature"]["typedData"]["message"]["eventId"] == (body["eventId"])
    )

    assert live.get(url).status_code == 401
    refused = live.get(url, headers=flow.carrier.writer)
    assert refused.status_code == 404
    assert f"supply event {body['eventId']} not found" in refused.json()["detail"]
    bad = live.get("/v1/events/0x1234/credential", headers=flow.seller.writer)
    assert bad.status_code == 422
