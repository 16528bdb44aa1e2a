"""EPCIS 2.0 capture and query over HTTP, on SQLite and PostgreSQL, with the tester chain.

Every EPCIS event type is captured, found again by the standard query parameters,
its hash id checked against the reference generator, and proved by /v1/proofs.
Attacks: reporting on another brand's GTIN, a partially invalid document, oversize.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any
from urllib.parse import quote

import pytest
from epcis_event_hash_generator import hash_generator, json_to_py
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from backend.epcis.hashing import event_hash_id
from backend.epcis.identifiers import canonical_dl
from tests.backend.factories import Org, gtin_under, make_org
from tests.backend.shipments.factories import Service
from tests.context import workers
from tests.helpers import BAD_ADDRESSES

CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"ex": "https://ns.example.com/epcis/"},
]
LD = {"Content-Type": "application/ld+json"}
BRAND_PREFIX = "9520123"
OTHER_PREFIX = "9520456"


def _gcp_urn(kind: str, prefix: str, ref: str, tail: str) -> str:
    return f"urn:epc:{kind}:{prefix}.{ref}.{tail}"


def _events(prefix: str) -> list[dict[str, Any]]:
    gtin = gtin_under(prefix)
    sgtin = _gcp_urn("id:sgtin", prefix, gtin[0] + gtin[1 + len(prefix) : 13], "S1")
    sgtin2 = f"https://brand.example/01/{gtin}/21/S2?src=label"
    lgtin = _gcp_urn("class:lgtin", prefix, gtin[0] + gtin[1 + len(prefix) : 13], "L1")
    sscc = f"urn:epc:id:sscc:{prefix}.0{'1' * (9 - len(prefix) + 7)}"
    grai = f"urn:epc:id:grai:{prefix}.{'0' * (12 - len(prefix))}.77"
    gln = f"urn:epc:id:sgln:{prefix}.{'0' * (12 - len(prefix))}.0"
    return [
        {
            "type": "ObjectEvent",
            "eventID": "urn:uuid:6d1a7ad2-0b1c-4a39-9a1f-5b0f8d0e0a01",
            "eventTime": "2026-11-30T08:00:00.1235+01:00",
            "eventTimeZoneOffset": "+01:00",
            "epcList": [sgtin, sgtin2],
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": gln},
            "bizLocation": {"id": gln},
            "ilmd": {"ex:bestBefore": "2027-01-01"},
            "ex:line": {"ex:station": "3"},
        },
        {
            "type": "AggregationEvent",
            "eventTime": "2026-11-30T09:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "parentID": sscc,
            "childEPCs": [sgtin],
            "childQuantityList": [{"epcClass": lgtin, "quantity": 12.50, "uom": "KGM"}],
            "action": "ADD",
            "bizStep": "packing",
            "disposition": "container_closed",
            "readPoint": {"id": gln},
        },
        {
            "type": "TransactionEvent",
            "eventTime": "2026-11-30T10:00:00.000-05:00",
            "eventTimeZoneOffset": "-05:00",
            "epcList": [sgtin2],
            "action": "ADD",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "bizTransactionList": [
                {"bizTransaction": "urn:epcglobal:cbv:bt:9520123000001:PO-7", "type": "po"}
            ],
            "readPoint": {"id": gln},
        },
        {
            "type": "TransformationEvent",
            "eventTime": "2026-11-30T11:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "inputQuantityList": [{"epcClass": lgtin, "quantity": 3}],
            "outputEPCList": [sgtin2.replace("S2", "S3")],
            "transformationID": "urn:uuid:0f0e0d0c-0b0a-4908-8706-050403020100",
            "bizStep": "commissioning",
            "persistentDisposition": {"set": ["completeness_verified"]},
            "readPoint": {"id": gln},
            "sensorElementList": [
                {
                    "sensorMetadata": {"time": "2026-11-30T10:59:00Z"},
                    "sensorReport": [{"type": "Temperature", "value": 4.50, "uom": "CEL"}],
                }
            ],
        },
        {
            "type": "AssociationEvent",
            "eventTime": "2026-11-30T12:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "parentID": grai,
            "childEPCs": [sgtin],
            "action": "ADD",
            "bizStep": "assembling",
            "readPoint": {"id": gln},
        },
    ]


def _document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-30T13:00:00Z",
        "epcisBody": {"eventList": events},
    }


def _reference_ids(document: dict[str, Any]) -> list[str]:
    logging.getLogger().setLevel(logging.WARNING)
    events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
    return list(hash_generator.epcis_hashes_from_events(events))


@pytest.fixture
def brand(svc: Service) -> Org:
    org = make_org(svc.api, "brand", ("seller",), prefixes=(BRAND_PREFIX,))
    svc.settle()
    return org


@pytest.fixture
def stranger(svc: Service) -> Org:
    org = make_org(svc.api, "stranger", ("carrier",), prefixes=(OTHER_PREFIX,))
    svc.settle()
    return org


def _capture(api: TestClient, org: Org, document: Any, **headers: str) -> Any:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return api.post("/epcis/capture", content=body, headers={**org.writer, **LD, **headers})


def _query(api: TestClient, org: Org, **params: str) -> list[dict[str, Any]]:
    resp = api.get("/epcis/events", params=params, headers=org.writer)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


def test_capture_and_query_every_event_type(svc: Service, brand: Org) -> None:
    api = svc.api
    document = _document(_events(BRAND_PREFIX))
    resp = _capture(api, brand, document)
    assert resp.status_code == 202, resp.text
    assert resp.headers["GS1-EPCIS-Version"] == "2.0.0"
    location = resp.headers["Location"]
    job = api.get(location, headers=brand.writer).json()
    assert job["success"] is True
    assert job["running"] is False
    assert (job["eventCount"], job["capturedCount"], job["errors"]) == (5, 5, [])

    events = _query(api, brand)
    assert [e["type"] for e in events] == [
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    ]
    ours = [event_hash_id(e, CONTEXT) for e in document["epcisBody"]["eventList"]]
    # The client's eventID is kept; the others are answered with their hash id.
    assert events[0]["eventID"] == "urn:uuid:6d1a7ad2-0b1c-4a39-9a1f-5b0f8d0e0a01"
    assert [e["eventID"] for e in events[1:]] == ours[1:]
    assert [e["hashID"] for e in job["events"]] == ours
    assert job["events"][0]["eventID"] == "urn:uuid:6d1a7ad2-0b1c-4a39-9a1f-5b0f8d0e0a01"
    # Cross-check with the reference generator (the typed entry is written value first,
    # which is the one key order where the reference follows rule 13).
    assert _reference_ids(document) == ours

    # The standard query parameters.
    assert [
        e["type"] for e in _query(api, brand, eventType="AggregationEvent,AssociationEvent")
    ] == [
        "AggregationEvent",
        "AssociationEvent",
    ]
    assert len(_query(api, brand, EQ_bizStep="urn:epcglobal:cbv:bizstep:commissioning")) == 2
    assert len(_query(api, brand, EQ_disposition="in_transit")) == 1
    sgtin = document["epcisBody"]["eventList"][0]["epcList"][0]
    as_link = canonical_dl(sgtin)
    assert as_link is not None
    assert [e["type"] for e in _query(api, brand, MATCH_epc=as_link)] == [
        "ObjectEvent",
        "AggregationEvent",
        "AssociationEvent",
    ]
    sscc = document["epcisBody"]["eventList"][1]["parentID"]
    assert _query(api, brand, MATCH_epc=sscc) == []
    assert [e["type"] for e in _query(api, brand, MATCH_anyEPC=sscc)] == ["AggregationEvent"]
    assert [
        e["type"]
        for e in _query(
            api, brand, GE_eventTime="2026-11-30T10:30:00Z", LT_eventTime="2026-11-30T12:00:00Z"
        )
    ] == ["TransformationEvent"]
    # 10:00-05:00 is 15:00Z: the offset is honoured.
    assert [e["type"] for e in _query(api, brand, GE_eventTime="2026-11-30T14:59:59Z")] == [
        "TransactionEvent"
    ]
    gln = document["epcisBody"]["eventList"][0]["readPoint"]["id"]
    assert len(_query(api, brand, EQ_readPoint=canonical_dl(gln) or gln)) == 5
    assert len(_query(api, brand, EQ_bizLocation=gln)) == 1
    assert len(_query(api, brand, GE_recordTime="2000-01-01T00:00:00Z")) == 5
    assert _query(api, brand, LT_recordTime="2000-01-01T00:00:00Z") == []

    # Pagination: perPage, nextPageToken, Link.
    seen: list[str] = []
    url = "/epcis/events?perPage=2"
    while url:
        page = api.get(url, headers=brand.writer)
        assert page.status_code == 200
        seen += [
            e["type"] for e in page.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        ]
        link = page.headers.get("Link")
        url = link[1 : link.index(">")] if link else ""
    assert len(seen) == 5
    assert len(set(seen)) == 5

    # One event by hash id (percent-encoded) or by the client's eventID.
    one = api.get(f"/epcis/events/{quote(ours[3], safe='')}", headers=brand.writer)
    assert one.status_code == 200
    assert one.json()["type"] == "TransformationEvent"
    assert one.headers["content-type"].startswith("application/ld+json")
    by_client = api.get(
        f"/epcis/events/{quote(events[0]['eventID'], safe='')}", headers=brand.writer
    )
    assert by_client.json()["type"] == "ObjectEvent"

    # Anchored with the signed events: the proof names the hash id and verifies on chain.
    workers(api).anchor.run_until_idle()
    workers(api).indexer.step()
    proof = api.get(f"/v1/proofs/{quote(ours[4], safe='')}")
    assert proof.status_code == 200, proof.text
    body = proof.json()
    assert body["event"] is None
    assert body["epcis_event"]["hash_id"] == ours[4]
    assert body["epcis_event"]["submitted_by"] == "brand"
    assert body["epcis_event"]["status"] == "final"
    assert body["digest"] == "0x" + ours[4].split(";")[1].split("?")[0]
    assert body["on_chain"] is True
    # Re-hashing the proved event gives the hash id (no trust in the service needed).
    proved = {k: v for k, v in body["epcis_event"]["event"].items()}
    assert event_hash_id(proved, CONTEXT) == ours[4]


def test_capturing_the_same_event_twice_is_refused(svc: Service, brand: Org) -> None:
    document = _document(_events(BRAND_PREFIX)[1:2])
    assert _capture(svc.api, brand, document).json()["success"] is True
    again = _capture(svc.api, brand, document).json()
    assert again["success"] is False
    assert "already captured" in again["errors"][0]["message"]
    assert len(_query(svc.api, brand)) == 1


def test_stranger_cannot_report_on_another_brands_gtin(
    svc: Service, brand: Org, stranger: Org
) -> None:
    document = _document(_events(BRAND_PREFIX))
    resp = _capture(svc.api, stranger, document)
    assert resp.status_code == 202
    job = resp.json()
    assert job["success"] is False
    assert job["capturedCount"] == 0
    first = job["errors"][0]
    assert first["eventIndex"] == 0
    assert first["message"].startswith(
        "subject rule: organisation 'stranger' may not report on https://id.gs1.org/01/"
    )
    assert "GS1 company prefix it holds" in first["message"]
    assert {e["eventIndex"] for e in job["errors"]} == {0, 1, 2, 3, 4}
    assert _query(svc.api, stranger) == []
    # The stranger may report on its own goods.
    own = _capture(svc.api, stranger, _document(_events(OTHER_PREFIX)[:1])).json()
    assert own["success"] is True


def test_a_non_gs1_identifier_is_attributed_to_nobody(svc: Service, brand: Org) -> None:
    event = _events(BRAND_PREFIX)[0]
    event["epcList"] = ["urn:example:thing:1"]
    job = _capture(svc.api, brand, _document([event])).json()
    assert job["success"] is False
    assert "it is not a GS1 key" in job["errors"][0]["message"]


def test_a_partially_invalid_document_stores_nothing_by_default(svc: Service, brand: Org) -> None:
    events = _events(BRAND_PREFIX)[:2]
    del events[1]["action"]
    events[1]["bizStep"] = 42
    job = _capture(svc.api, brand, _document(events)).json()
    assert job["success"] is False
    assert job["capturedCount"] == 0
    assert job["captureErrorBehaviour"] == "rollback"
    paths = {e["path"] for e in job["errors"]}
    assert all(p.startswith("/epcisBody/eventList/1") for p in paths)
    assert {e["eventIndex"] for e in job["errors"]} == {1}
    by_path = {e["path"]: e["message"] for e in job["errors"]}
    assert by_path["/epcisBody/eventList/1"] == "'action' is a required property"
    assert by_path["/epcisBody/eventList/1/bizStep"].startswith("42 is not of type 'string'")
    assert _query(svc.api, brand) == []
    # proceed: the valid event is kept, the invalid one reported.
    job = _capture(
        svc.api, brand, _document(events), **{"GS1-Capture-Error-Behaviour": "proceed"}
    ).json()
    assert job["capturedCount"] == 1
    assert job["success"] is False
    assert [e["type"] for e in _query(svc.api, brand)] == ["ObjectEvent"]


def test_document_level_errors_are_a_400_naming_the_path(svc: Service, brand: Org) -> None:
    document = _document(_events(BRAND_PREFIX)[:1])
    document["schemaVersion"] = "1.2"
    resp = _capture(svc.api, brand, document)
    assert resp.status_code == 400
    assert any(e["path"] == "/schemaVersion" for e in resp.json()["problems"])
    document["schemaVersion"] = "2.0"
    document["creationDate"] = "yesterday"
    resp = _capture(svc.api, brand, document)
    assert resp.status_code == 400
    assert [e["path"] for e in resp.json()["problems"]] == ["/creationDate"]
    assert _capture(svc.api, brand, b"{not json").status_code == 400
    assert (
        svc.api.post(
            "/epcis/capture", content=b"{}", headers={**brand.writer, "Content-Type": "text/plain"}
        ).status_code
        == 415
    )


def test_over_the_capture_limits_is_413_and_the_limits_are_advertised(
    svc: Service, brand: Org
) -> None:
    options = svc.api.options("/epcis/capture")
    assert options.status_code == 204
    limit = int(options.headers["GS1-EPCIS-Capture-Limit"])
    size = int(options.headers["GS1-Capture-File-Size-Limit"])
    listed = svc.api.get("/epcis/capture", headers=brand.writer)
    assert listed.headers["GS1-EPCIS-Capture-Limit"] == str(limit)
    one = _events(BRAND_PREFIX)[1]
    too_many = _document(
        [
            dict(one, eventTime=f"2026-11-30T09:{i // 60:02d}:{i % 60:02d}Z")
            for i in range(limit + 1)
        ]
    )
    resp = _capture(svc.api, brand, too_many)
    assert resp.status_code == 413
    assert "GS1-EPCIS-Capture-Limit" in resp.json()["detail"]
    big = json.dumps(_document([dict(one, **{"ex:pad": "x" * size})])).encode()
    assert _capture(svc.api, brand, big).status_code == 413
    assert _query(svc.api, brand) == []


def test_versions_and_content_negotiation(svc: Service, brand: Org) -> None:
    api = svc.api
    assert (
        api.get("/epcis/events", headers={**brand.writer, "GS1-EPCIS-Version": "1.2"}).status_code
        == 406
    )
    assert (
        api.get("/epcis/events", headers={**brand.writer, "Accept": "text/html"}).status_code == 406
    )
    document = _document(_events(BRAND_PREFIX)[:1])
    assert _capture(api, brand, document, **{"GS1-EPCIS-Version": "1.2"}).status_code == 406
    ok = api.get(
        "/epcis/events",
        headers={**brand.writer, "Accept": "application/ld+json", "GS1-EPCIS-Version": "2.0.0"},
    )
    assert ok.status_code == 200
    assert ok.headers["GS1-CBV-Version"] == "2.0.0"
    assert api.get("/epcis/events?EQ_foo=1", headers=brand.writer).status_code == 400
    assert api.get("/epcis/events?nextPageToken=garbage", headers=brand.writer).status_code == 400
    assert api.get("/epcis/events").status_code == 401


def test_another_organisation_sees_neither_the_events_nor_the_job(
    svc: Service, brand: Org, stranger: Org
) -> None:
    resp = _capture(svc.api, brand, _document(_events(BRAND_PREFIX)[:1]))
    assert svc.api.get(resp.headers["Location"], headers=stranger.writer).status_code == 404
    assert _query(svc.api, stranger) == []


def test_signed_events_show_their_signer_and_forged_ones_are_refused(
    svc: Service, brand: Org
) -> None:
    from eth_account import Account

    from backend.chain import eip712
    from backend.chain.typed_data.events import EPCIS_EVENT_HASH
    from tests.backend.factories import domain_of

    events = _events(BRAND_PREFIX)[1:3]
    ids = [event_hash_id(e, CONTEXT) for e in events]

    def sign(key: Any, hash_id: str) -> str:
        digest = bytes.fromhex(hash_id.split(";")[1].split("?")[0])
        return (
            "0x" + eip712.sign(key, domain_of(svc.api), EPCIS_EVENT_HASH, {"digest": digest}).hex()
        )

    document = _document(events)
    document["@context"] = [*CONTEXT, {"wm": "urn:waymark:epcis:"}]
    document["wm:eventSignatures"] = {ids[0]: sign(Account.create().key, ids[0])}
    forged = _capture(svc.api, brand, document).json()
    assert forged["success"] is False
    assert forged["errors"][0]["eventIndex"] == 0
    assert "is not a signer key of organisation 'brand'" in forged["errors"][0]["message"]

    document["wm:eventSignatures"] = {"ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0": "0x00"}
    assert _capture(svc.api, brand, document).status_code == 400

    document["wm:eventSignatures"] = {ids[0]: sign(brand.signer.key, ids[0])}
    job = _capture(svc.api, brand, document).json()
    assert job["success"] is True
    signed = svc.api.get(f"/v1/proofs/{quote(ids[0], safe='')}").json()["epcis_event"]
    assert signed["signer"] == brand.signer.address
    submitted = svc.api.get(f"/v1/proofs/{quote(ids[1], safe='')}").json()["epcis_event"]
    assert submitted["signer"] is None
    assert submitted["submitted_by"] == "brand"


@pytest.mark.parametrize(("signer", "fault"), BAD_ADDRESSES, ids=[f for _, f in BAD_ADDRESSES])
def test_a_malformed_signer_is_an_event_error_naming_it_and_the_fault(
    svc: Service, brand: Org, signer: str, fault: str
) -> None:
    events = _events(BRAND_PREFIX)[1:2]
    (hash_id,) = [event_hash_id(e, CONTEXT) for e in events]
    document = _document(events)
    document["@context"] = [*CONTEXT, {"wm": "urn:waymark:epcis:"}]
    document["wm:eventSignatures"] = {hash_id: {"signer": signer, "signature": "0x" + "00" * 65}}
    job = _capture(svc.api, brand, document).json()
    assert job["success"] is False
    (error,) = job["errors"]
    assert error["message"] == f"signature: signer {fault}"


def test_passport_subject_rule_decides_for_a_serialised_passport(
    api: TestClient, tester: ChainClient
) -> None:
    from tests.backend.qr.flow import make_flow

    flow = make_flow(api, tester)
    link, _ = flow.issue(serial="EPC-1")
    stranger = make_org(api, "epcis-stranger", ("carrier",))
    event = {
        "type": "ObjectEvent",
        "eventTime": "2026-11-30T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": [f"https://id.gs1.org/01/{link.gtin}/21/EPC-1"],
        "action": "OBSERVE",
        "bizStep": "inspecting",
    }

    def capture_by(org: Org, minute: int) -> Any:
        doc = _document([dict(event, eventTime=f"2026-11-30T08:{minute:02d}:00Z")])
        return _capture(api, org, doc).json()

    refused = capture_by(stranger, 1)
    assert refused["success"] is False
    message = refused["errors"][0]["message"]
    assert message.startswith("subject rule: organisation 'epcis-stranger' may not report on")
    assert f"(passport 0x{link.passport_id.hex()})" in message
    # The carrier holds no prefix; it may not report on the passport until it carries it.
    assert capture_by(flow.carrier, 2)["success"] is False
    assert capture_by(flow.seller, 3)["success"] is True  # the issuer
    flow.ship(link.passport_id)
    assert capture_by(flow.carrier, 4)["success"] is True  # a party to a shipment carrying it
    assert capture_by(stranger, 5)["success"] is False


def test_shipment_parties_report_on_its_sscc(svc: Service, brand: Org, stranger: Org) -> None:
    from backend.gs1.gtin import with_check_digit
    from tests.backend.shipments.factories import create_body, post

    carrier = make_org(svc.api, "sscc-carrier", ("carrier",))
    svc.settle()
    sscc = with_check_digit("0" + OTHER_PREFIX + "000000077")
    body = create_body(svc, brand.signer, [carrier.signer.address], sscc=sscc)
    post(svc, "/v1/shipments", body, brand)
    svc.settle()
    sid = str(body["terms"]["shipmentId"])
    event = {
        "type": "ObjectEvent",
        "eventTime": "2026-11-30T09:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": [f"urn:epc:id:sscc:{OTHER_PREFIX}.0000000077"],
        "action": "OBSERVE",
        "bizStep": "loading",
    }
    assert canonical_dl(event["epcList"][0]) == f"https://id.gs1.org/00/{sscc}"
    captured = _capture(svc.api, carrier, _document([event])).json()
    assert captured["success"] is True, captured["errors"]
    # The SSCC is under the stranger's prefix, but a known shipment's parties decide.
    refused = _capture(svc.api, stranger, _document([dict(event, bizStep="departing")])).json()
    assert refused["success"] is False
    assert f"(shipment {sid.lower()})" in refused["errors"][0]["message"]


def test_a_non_finite_quantity_is_an_event_error_not_a_crash(svc: Service, brand: Org) -> None:
    event = _events(BRAND_PREFIX)[1]
    event["childQuantityList"][0]["quantity"] = float("nan")
    resp = _capture(svc.api, brand, _document([event]))
    assert resp.status_code == 202
    job = resp.json()
    assert job["success"] is False
    assert "not a finite number" in job["errors"][0]["message"]


def test_an_sscc_event_is_about_the_goods_its_shipment_carries(
    api: TestClient, tester: ChainClient
) -> None:
    """Once the issuer withdraws the seller's delegation, the shipment's parties no longer
    speak for the goods: an EPCIS event on the shipment's SSCC is refused naming the
    passport it carries, as a milestone would be."""
    from backend.gs1.gtin import with_check_digit
    from tests.backend.orgs.test_subject_rule import _delegation
    from tests.backend.qr.flow import make_flow
    from tests.backend.shipments.factories import create_body, post

    flow = make_flow(api, tester)
    link, _ = flow.issue(lot="SSCC-G")
    pid = link.passport_id
    reseller = make_org(api, "sscc-reseller", ("seller",))
    grant = api.post(
        f"/v1/orgs/{flow.seller.slug}/delegations",
        json=_delegation(api, flow.seller.signer, reseller.slug, pid),
        headers=flow.seller.admin,
    )
    assert grant.status_code == 201, grant.text
    sscc = with_check_digit("0" + OTHER_PREFIX + "000000088")
    body = create_body(
        flow.svc, reseller.signer, [flow.carrier.signer.address], passports=[pid], sscc=sscc
    )
    post(flow.svc, "/v1/shipments", body, reseller)
    flow.svc.settle()
    event = {
        "type": "ObjectEvent",
        "eventTime": "2026-11-30T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": [f"https://id.gs1.org/00/{sscc}"],
        "action": "OBSERVE",
        "bizStep": "loading",
    }
    assert _capture(api, flow.carrier, _document([event])).json()["success"] is True

    revoked = api.post(
        f"/v1/orgs/{flow.seller.slug}/delegations/{grant.json()['id']}/revoke",
        headers=flow.seller.admin,
    )
    assert revoked.status_code == 200, revoked.text
    later = dict(event, eventTime="2026-11-30T11:00:00Z", bizStep="departing")
    refused = _capture(api, flow.carrier, _document([later])).json()
    assert refused["success"] is False
    message = refused["errors"][0]["message"]
    assert message.startswith("subject rule:"), message
    assert f"passport 0x{pid.hex()}" in message
    assert "carried by shipment" in message


def test_wallet_signed_events_name_their_signer_and_are_checked_through_erc1271(
    svc: Service, brand: Org
) -> None:
    from eth_account import Account

    from backend.chain import eip712
    from backend.chain.typed_data.events import EPCIS_EVENT_HASH
    from backend.events.models import EpcisEvent
    from tests.backend.factories import domain_of
    from tests.backend.wallets import accept_all_wallet, register_key, two_key_wallet
    from tests.context import context

    wallet = two_key_wallet(svc.chain)
    register_key(svc.api, svc.settle, brand, wallet.address)
    yes = accept_all_wallet(svc.chain)
    events = _events(BRAND_PREFIX)[1:2]
    (hash_id,) = [event_hash_id(e, CONTEXT) for e in events]
    digest = bytes.fromhex(hash_id.split(";")[1].split("?")[0])

    def sign(*keys: Any) -> str:
        message = {"digest": digest}
        return (
            "0x"
            + b"".join(
                eip712.sign(k, domain_of(svc.api), EPCIS_EVENT_HASH, message) for k in keys
            ).hex()
        )

    document = _document(events)
    document["@context"] = [*CONTEXT, {"wm": "urn:waymark:epcis:"}]
    refused = [
        # One key's half is not the wallet's signature; a bare one names nobody.
        ({"signer": wallet.address, "signature": sign(wallet.first.key)}, "does not accept it"),
        (sign(wallet.first.key, wallet.second.key), "must be 65 bytes"),
        # A wallet that accepts everything cannot sign as the brand's plain key...
        ({"signer": brand.signer.address, "signature": sign(Account.create().key)}, "made by"),
        # ...and as itself it is no key of the brand.
        ({"signer": yes, "signature": "0x00"}, "is not a signer key of organisation 'brand'"),
    ]
    for entry, says in refused:
        document["wm:eventSignatures"] = {hash_id: entry}
        job = _capture(svc.api, brand, document).json()
        assert job["success"] is False, entry
        assert says in job["errors"][0]["message"], job
    document["wm:eventSignatures"] = {hash_id: {"signer": wallet.address, "signature": "0x"}}
    document["wm:eventSignatures"][hash_id]["signature"] = sign(wallet.first.key, wallet.second.key)
    job = _capture(svc.api, brand, document).json()
    assert job["success"] is True, job
    signed = svc.api.get(f"/v1/proofs/{quote(hash_id, safe='')}").json()["epcis_event"]
    assert signed["signer"] == wallet.address
    with context(svc.api).sessions() as session:
        stored = session.query(EpcisEvent).filter_by(hash_id=hash_id).one()
        assert stored.signature == document["wm:eventSignatures"][hash_id]["signature"]


def test_an_event_id_chosen_to_equal_another_events_digest_does_not_capture_its_proof(
    svc: Service, brand: Org, stranger: Org
) -> None:
    """A supply event's eventId is the signer's to choose; a digest is the content's hash.
    A stranger who signs an event whose eventId is the digest of another organisation's
    event (an EPCIS event's hash, or a supply event's digest learnt before it was posted)
    must not be what ``GET /v1/proofs/{that digest}`` answers."""
    from backend.chain import eip712
    from backend.chain.typed_data.events import SUPPLY_EVENT, location_bytes
    from tests.backend.factories import domain_of, signed_event

    epcis = _events(BRAND_PREFIX)[:1]
    assert _capture(svc.api, brand, _document(epcis)).json()["success"] is True
    hash_id = event_hash_id(epcis[0], CONTEXT)
    epcis_digest = bytes.fromhex(hash_id.split(";")[1].split("?")[0])
    posted = svc.api.post(
        "/v1/events",
        json=signed_event(domain_of(svc.api), stranger.signer, event_id=epcis_digest),
        headers=stranger.writer,
    )
    assert posted.status_code == 202, posted.text

    # The brand's supply event, its digest known to the stranger before it is posted.
    body = signed_event(domain_of(svc.api), brand.signer)
    message = {
        "eventId": bytes.fromhex(body["eventId"][2:]),
        "subject": bytes.fromhex(body["subject"][2:]),
        "kind": body["kind"],
        "occurredAt": body["occurredAt"],
        "location": location_bytes(body["location"]),
        "payloadHash": bytes.fromhex(body["payloadHash"][2:]),
    }
    digest = eip712.digest(domain_of(svc.api), SUPPLY_EVENT, message)
    early = svc.api.post(
        "/v1/events",
        json=signed_event(domain_of(svc.api), stranger.signer, event_id=digest),
        headers=stranger.writer,
    )
    assert early.status_code == 202, early.text
    late = svc.api.post("/v1/events", json=body, headers=brand.writer)
    assert late.status_code == 202, late.text
    assert late.json()["digest"] == "0x" + digest.hex()

    for anchored in (False, True):
        if anchored:
            workers(svc.api).anchor.run_until_idle()
            workers(svc.api).indexer.step()
        for ref in (hash_id, "0x" + epcis_digest.hex()):
            proof = svc.api.get(f"/v1/proofs/{quote(ref, safe='')}").json()
            assert proof["event"] is None, proof["event"]
            assert proof["epcis_event"]["hash_id"] == hash_id
        proof = svc.api.get(f"/v1/proofs/0x{digest.hex()}").json()
        assert proof["event"]["signer"] == brand.signer.address
        assert proof["digest"] == "0x" + digest.hex()
        # The stranger's event is still found by its own digest.
        theirs = svc.api.get(f"/v1/proofs/{early.json()['digest']}").json()
        assert theirs["event"]["signer"] == stranger.signer.address
