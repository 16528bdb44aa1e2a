"""Shipments through the API: relayed signed writes, indexed read models, refusals, reorgs."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.chain import ChainClient
from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.chain.typed_data.shipments import Status
from backend.gs1.keys import passport_id
from backend.relayer.models import RelayRequest
from backend.relayer.organisations import PURPOSES as ORG_PURPOSES
from backend.shipments import public, writes
from tests.backend.factories import SAMPLE_PREFIX, make_org
from tests.backend.qr.flow import Flow
from tests.backend.shipments.factories import (
    Parties,
    Service,
    create_body,
    milestone_body,
    post,
)
from tests.context import context, workers


@pytest.fixture
def parties(api: TestClient) -> Parties:
    return Parties(
        seller=make_org(api, "seller", ("seller",), prefixes=(SAMPLE_PREFIX,)),
        carrier=make_org(api, "carrier", ("carrier",)),
        broker=make_org(api, "broker", ("supplier",)),
        other=make_org(api, "other", ("seller", "carrier")),
    )


def _create(svc: Service, p: Parties, **kwargs: object) -> tuple[str, dict[str, object]]:
    body = create_body(
        svc,
        p.seller.signer,
        [p.carrier.signer.address],
        customs_broker=p.broker.signer.address,
        **kwargs,  # type: ignore[arg-type]
    )
    accepted = post(svc, "/v1/shipments", body, p.seller)
    assert accepted["subject"] == body["terms"]["shipmentId"]
    svc.settle()
    return str(body["terms"]["shipmentId"]), body


def _pickup(svc: Service, p: Parties, sid: str, *, cleared: bool = False) -> None:
    body = milestone_body(svc, sid, M.PICKED_UP, p.seller.signer, receiver=p.carrier.signer)
    post(svc, f"/v1/shipments/{sid}/milestones", body, p.seller)
    if cleared:
        svc.settle()
        body = milestone_body(svc, sid, M.EXPORT_CLEARED, p.broker.signer)
        post(svc, f"/v1/shipments/{sid}/milestones", body, p.broker)


def test_relayed_shipment_flow_is_indexed_into_timeline_journey_and_legs(
    svc: Service, parties: Parties
) -> None:
    p = parties
    # The journey of a passport lists shipments whose seller speaks for it: here its issuer.
    link, _ = Flow(svc, p.seller, p.carrier, p.broker).issue(lot="J1")
    passport = passport_id(link.gtin, link.lot, link.serial)
    body = create_body(
        svc,
        p.seller.signer,
        [p.carrier.signer.address],
        passports=[passport],
        customs_broker=p.broker.signer.address,
    )
    accepted = post(svc, "/v1/shipments", body, p.seller)
    assert svc.relay(accepted["relay_id"], p.seller.writer)["status"] == "queued"
    svc.settle()
    relay = svc.relay(accepted["relay_id"], p.seller.writer)
    assert relay["status"] == "final"
    assert relay["tx_hash"]
    sid = body["terms"]["shipmentId"]

    _pickup(svc, p, sid, cleared=True)
    svc.settle()
    carrier = p.carrier.signer
    departed = milestone_body(svc, sid, M.DEPARTED, carrier, measured_weight_grams=150_000)
    post(svc, f"/v1/shipments/{sid}/milestones", departed, p.carrier)
    svc.settle()
    arrived = milestone_body(svc, sid, M.ARRIVED, carrier, location="USLAX")
    post(svc, f"/v1/shipments/{sid}/milestones", arrived, p.carrier)
    svc.settle()

    detail = svc.api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert detail["status"] == "arrived"
    assert detail["custodian"] == carrier.address
    assert detail["transport_mode"] == "sea"
    assert detail["manifest"] == body["manifest"]
    assert detail["last_measured_weight_grams"] == 150_000
    names = [m["milestone_name"] for m in detail["milestones"]]
    assert names == ["picked_up", "export_cleared", "departed", "arrived"]
    pickup, _cleared, dep, arr = detail["milestones"]
    assert (pickup["signer"], pickup["counterparty"]) == (p.seller.signer.address, carrier.address)
    assert (dep["weight_reference_grams"], dep["weight_measured_grams"]) == (120_000, 150_000)
    assert arr["weight_measured_grams"] is None
    assert arr["location"] == "USLAX"
    assert dep["evidence_hash"] == departed["milestone"]["evidenceHash"]
    assert [c["custodian"] for c in detail["custody"]] == [carrier.address]

    # The carrier (a party) sees it; an outsider does not.
    assert svc.api.get(f"/v1/shipments/{sid}", headers=p.carrier.writer).status_code == 200
    assert svc.api.get(f"/v1/shipments/{sid}", headers=p.other.writer).status_code == 404
    listed = svc.api.get("/v1/shipments", headers=p.seller.writer).json()
    assert [s["id"] for s in listed["items"]] == [sid]
    assert svc.api.get("/v1/shipments", headers=p.other.writer).json()["items"] == []

    with context(svc.api).sessions() as session:
        journeys = public.journey_for_passport(session=session, passport_id=passport)
        legs = public.transport_legs(session=session, passport_id=passport)
        assert public.journey_for_passport(session=session, passport_id=bytes(32)) == []
    assert len(journeys) == 1
    j = journeys[0]
    assert (j.quantity, j.customs_status, j.weight_discrepancy, j.late, j.exception) == (
        100,
        "export_cleared",
        True,
        False,
        False,
    )
    assert len(legs) == 1
    leg = legs[0]
    assert (leg.mode, leg.origin, leg.destination) == ("sea", "VNSGN", "USLAX")
    assert (leg.mass, leg.mass_unit) == (1_500.0, "g")  # 150 kg over 100 units
    assert dep["tx_hash"] in leg.source


def test_a_mined_write_says_indexed_only_once_the_shipment_shows_it(
    svc: Service, parties: Parties
) -> None:
    """Mined is the relayer's word; the shipment's API shows the write only once the indexer
    has read its block. A client that waits for the write and then reads it (the CLI's
    ``--wait`` before ``milestone correct --index``) waits for ``indexed``."""
    p = parties
    sid, _ = _create(svc, p)
    body = milestone_body(svc, sid, M.PICKED_UP, p.seller.signer, receiver=p.carrier.signer)
    accepted = post(svc, f"/v1/shipments/{sid}/milestones", body, p.seller)
    assert svc.relay(accepted["relay_id"], p.seller.writer)["indexed"] is False
    workers(svc.api).relay.relayer.drive()  # sent and mined; the indexer has not run
    relay = svc.relay(accepted["relay_id"], p.seller.writer)
    assert relay["status"] in ("mined", "final")
    assert relay["indexed"] is False
    detail = svc.api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert detail["milestones"] == []
    workers(svc.api).indexer.step()
    assert svc.relay(accepted["relay_id"], p.seller.writer)["indexed"] is True
    detail = svc.api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert [m["milestone_name"] for m in detail["milestones"]] == ["picked_up"]


def test_batch_milestones_and_a_correction_are_relayed_and_linked(
    svc: Service, parties: Parties
) -> None:
    p = parties
    passport = bytes.fromhex("cd" * 32)
    sid, _ = _create(svc, p, passports=[passport])
    _pickup(svc, p, sid, cleared=True)
    svc.settle()
    carrier = p.carrier.signer
    dep = milestone_body(svc, sid, M.DEPARTED, carrier)
    arr = milestone_body(svc, sid, M.ARRIVED, carrier, nonce_offset=1, location="USLAX")
    accepted = post(svc, "/v1/shipments/milestones/batch", {"items": [dep, arr]}, p.carrier)
    svc.settle()
    assert svc.relay(accepted["relay_id"], p.carrier.writer)["status"] == "final"
    detail = svc.api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert [m["milestone_name"] for m in detail["milestones"]][2:] == ["departed", "arrived"]
    arrived = detail["milestones"][3]

    now = svc.now()
    correction = td.correction(
        shipment_id=bytes.fromhex(sid[2:]),
        corrected_index=3,
        corrected_record_hash=bytes.fromhex(arrived["record_hash"][2:]),
        reason=td.CorrectionReason.INCORRECT_DATA,
        signer=carrier.address,
        nonce=svc.registry.nonce(carrier.address),
        deadline=now + 3600,
    )
    sig = td.sign_correction(carrier.key, svc.registry.domain(), correction)
    body = {
        "correction": {
            "shipmentId": sid,
            "correctedIndex": 3,
            "correctedRecordHash": arrived["record_hash"],
            "reasonCode": int(td.CorrectionReason.INCORRECT_DATA),
            "signer": carrier.address,
            "nonce": correction["nonce"],
            "deadline": correction["deadline"],
        },
        "signature": "0x" + sig.hex(),
    }
    post(svc, f"/v1/shipments/{sid}/corrections", body, p.carrier)
    svc.settle()
    detail = svc.api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert detail["milestones"][3]["corrected_by_index"] == 4
    assert detail["corrections"][0]["corrected_index"] == 3
    assert detail["history_length"] == 5
    with context(svc.api).sessions() as session:
        # The corrected arrival no longer closes a leg.
        assert public.transport_legs(session=session, passport_id=passport) == []


def test_overdue_flag_is_relayed_for_the_seller_and_late_pickup_is_marked(
    svc: Service, parties: Parties
) -> None:
    p = parties
    deadline = svc.now() + 60
    sid, _ = _create(svc, p, sla={"picked_up_by": deadline})
    early = svc.api.post(f"/v1/shipments/{sid}/overdue/1", headers=p.seller.writer)
    assert early.status_code == 409
    assert early.json()["error"] == "ShipmentNotOverdue"
    svc.chain.advance_time(120)
    refused = svc.api.post(f"/v1/shipments/{sid}/overdue/1", headers=p.other.writer)
    assert refused.status_code == 404
    post(svc, f"/v1/shipments/{sid}/overdue/1", None, p.seller)
    _pickup(svc, p, sid)
    svc.settle()
    detail = svc.api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert detail["overdue_milestones"] == ["picked_up"]
    assert detail["overdue"][0]["planned_by"] == deadline
    assert detail["milestones"][0]["late"] is True
    assert detail["milestones"][0]["planned_by"] == deadline


def test_manifest_that_does_not_hash_to_the_signed_hash_is_422(
    svc: Service, parties: Parties
) -> None:
    p = parties
    body = create_body(svc, p.seller.signer, [p.carrier.signer.address])
    body["manifest"]["lines"][0]["quantity"] += 1
    resp = svc.api.post("/v1/shipments", json=body, headers=p.seller.writer)
    assert resp.status_code == 422
    assert "manifestHash" in resp.json()["detail"]


def test_signature_scope_and_signer_refusals(svc: Service, parties: Parties) -> None:
    p = parties
    carriers = [p.carrier.signer.address]
    # Signed by a key other than the seller named in the terms.
    forged = create_body(svc, p.seller.signer, carriers, signer=p.other.signer)
    resp = svc.api.post("/v1/shipments", json=forged, headers=p.seller.writer)
    assert resp.status_code == 422
    assert "signature is not seller" in resp.json()["detail"]
    # A carrier-scoped key may not create shipments.
    body = create_body(svc, p.carrier.signer, carriers)
    resp = svc.api.post("/v1/shipments", json=body, headers=p.carrier.writer)
    assert resp.status_code == 403
    # A valid seller signature posted by another organisation.
    body = create_body(svc, p.seller.signer, carriers)
    resp = svc.api.post("/v1/shipments", json=body, headers=p.other.writer)
    assert resp.status_code == 403
    assert "not a signer key" in resp.json()["detail"]
    # The signer key was revoked.
    svc.api.post(
        f"/v1/orgs/seller/signers/{p.seller.signer_id}/revoke", json={}, headers=p.seller.admin
    )
    resp = svc.api.post("/v1/shipments", json=body, headers=p.seller.writer)
    assert resp.status_code == 403
    assert resp.json()["detail"].startswith("key validity rule:")


def _milestone_relays(svc: Service) -> int:
    with context(svc.api).sessions() as session:
        return len(
            session.scalars(
                select(RelayRequest.id).where(RelayRequest.purpose == writes.PURPOSE_MILESTONES)
            ).all()
        )


def test_milestone_by_a_key_whose_organisation_lacks_the_role_is_403_before_relaying(
    svc: Service, parties: Parties
) -> None:
    """The shipment names a key as its carrier (or broker), so ``rolesOf`` on chain lets it
    sign; but its organisation is no carrier (no broker) in OrganisationRegistry."""
    p = parties
    courier = make_org(svc.api, "courier", ("carrier",), roles=("supplier",))
    clerk = make_org(svc.api, "clerk", ("carrier",), roles=("carrier",))
    svc.settle()

    # A supplier named as the carrier reports the goods departed.
    carried = create_body(
        svc, p.seller.signer, [courier.signer.address], customs_broker=p.broker.signer.address
    )
    post(svc, "/v1/shipments", carried, p.seller)
    svc.settle()
    sid = str(carried["terms"]["shipmentId"])
    pickup = milestone_body(svc, sid, M.PICKED_UP, p.seller.signer, receiver=courier.signer)
    post(svc, f"/v1/shipments/{sid}/milestones", pickup, p.seller)
    svc.settle()
    post(
        svc,
        f"/v1/shipments/{sid}/milestones",
        milestone_body(svc, sid, M.EXPORT_CLEARED, p.broker.signer),
        p.broker,
    )
    svc.settle()
    relays = _milestone_relays(svc)
    departed = milestone_body(svc, sid, M.DEPARTED, courier.signer)
    for path, body in (
        (f"/v1/shipments/{sid}/milestones", departed),
        ("/v1/shipments/milestones/batch", {"items": [departed]}),
    ):
        resp = svc.api.post(path, json=body, headers=courier.writer)
        assert resp.status_code == 403, resp.text
        assert resp.json()["detail"] == (
            f"key validity rule: signer {courier.signer.address} does not hold the role "
            "carrier in OrganisationRegistry, which DEPARTED needs (it holds: admin, supplier)"
        )

    # A carrier named as the customs broker clears the goods for export.
    cleared = create_body(
        svc, p.seller.signer, [p.carrier.signer.address], customs_broker=clerk.signer.address
    )
    post(svc, "/v1/shipments", cleared, p.seller)
    svc.settle()
    other = str(cleared["terms"]["shipmentId"])
    pickup = milestone_body(svc, other, M.PICKED_UP, p.seller.signer, receiver=p.carrier.signer)
    post(svc, f"/v1/shipments/{other}/milestones", pickup, p.seller)
    svc.settle()
    relays += 1  # the second pickup
    export = milestone_body(svc, other, M.EXPORT_CLEARED, clerk.signer)
    resp = svc.api.post(f"/v1/shipments/{other}/milestones", json=export, headers=clerk.writer)
    assert resp.status_code == 403, resp.text
    assert (
        "does not hold the role customs_broker in OrganisationRegistry, which EXPORT_CLEARED"
        in (resp.json()["detail"])
    )

    # Nothing was relayed: the chain still has both shipments where they were.
    svc.settle()
    assert _milestone_relays(svc) == relays
    for shipment, status in ((sid, Status.EXPORT_CLEARED), (other, Status.PICKED_UP)):
        info = svc.registry.shipment(bytes.fromhex(shipment[2:]))
        assert info is not None
        assert info.status == status


def test_contract_rule_violations_are_409_with_decoded_error(
    svc: Service, parties: Parties
) -> None:
    p = parties
    sid, _ = _create(svc, p)
    # DEPARTED before PICKED_UP: the simulation reverts, nothing is queued.
    body = milestone_body(svc, sid, M.DEPARTED, p.carrier.signer)
    resp = svc.api.post(f"/v1/shipments/{sid}/milestones", json=body, headers=p.carrier.writer)
    assert resp.status_code == 409, resp.text
    err = resp.json()
    assert err["error"] == "ShipmentMilestoneNotAllowed"
    assert err["arguments"]["milestone"] == int(M.DEPARTED)
    # PICKED_UP without the receiver's acceptance is refused before the chain.
    body = milestone_body(svc, sid, M.PICKED_UP, p.seller.signer)
    resp = svc.api.post(f"/v1/shipments/{sid}/milestones", json=body, headers=p.seller.writer)
    assert resp.status_code == 422
    assert "acceptance" in resp.json()["detail"]
    # A signer who is no party of the shipment: it does not exist for them.
    body = milestone_body(svc, sid, M.DEPARTED, p.other.signer)
    resp = svc.api.post(f"/v1/shipments/{sid}/milestones", json=body, headers=p.other.writer)
    assert resp.status_code == 404


def test_one_signer_queues_writes_to_two_shipments_before_either_is_relayed(
    svc: Service, parties: Parties
) -> None:
    p = parties
    kwargs = {"customs_broker": p.broker.signer.address}
    carriers = [p.carrier.signer.address]
    first = create_body(svc, p.seller.signer, carriers, **kwargs)  # type: ignore[arg-type]
    second = create_body(svc, p.seller.signer, carriers, nonce_offset=1, **kwargs)  # type: ignore[arg-type]
    post(svc, "/v1/shipments", first, p.seller)
    post(svc, "/v1/shipments", second, p.seller)  # its nonce is the first one's + 1

    svc.settle()

    for body in (first, second):
        sid = str(body["terms"]["shipmentId"])  # type: ignore[index]
        assert svc.registry.shipment(bytes.fromhex(sid[2:])) is not None
    with context(svc.api).sessions() as session:
        statuses = session.scalars(
            select(RelayRequest.status).where(RelayRequest.purpose.notin_(ORG_PURPOSES))
        ).all()
    assert statuses == ["final", "final"]


def test_a_first_shipment_with_an_expired_deadline_is_refused_before_anything_is_queued(
    svc: Service, parties: Parties
) -> None:
    """The seller's registration is still queued, yet its first write is simulated: a
    signature whose deadline has passed can never land, so nothing is relayed for it."""
    p = parties
    carriers = [p.carrier.signer.address]
    late = create_body(svc, p.seller.signer, carriers, expires_in=-1)
    with context(svc.api).sessions() as session:
        assert session.scalar(
            select(func.count())
            .select_from(RelayRequest)
            .where(RelayRequest.purpose.in_(ORG_PURPOSES), RelayRequest.status == "queued")
        )
        before = session.scalar(select(func.count()).select_from(RelayRequest))
    resp = svc.api.post("/v1/shipments", json=late, headers=p.seller.writer)
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"] == "ShipmentSignatureExpired"
    assert resp.json()["arguments"]["deadline"] == late["deadline"]
    with context(svc.api).sessions() as session:
        assert session.scalar(select(func.count()).select_from(RelayRequest)) == before


def test_a_nonce_ahead_of_every_queued_write_or_already_used_is_409(
    svc: Service, parties: Parties
) -> None:
    p = parties
    kwargs = {"customs_broker": p.broker.signer.address}
    carriers = [p.carrier.signer.address]
    # Nothing queued for the signer: nonce + 1 can never be used.
    gap = create_body(svc, p.seller.signer, carriers, nonce_offset=1, **kwargs)  # type: ignore[arg-type]
    resp = svc.api.post("/v1/shipments", json=gap, headers=p.seller.writer)
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"] == "InvalidAccountNonce"
    _create(svc, p)
    # A nonce the chain has used already.
    used = create_body(svc, p.seller.signer, carriers, nonce_offset=-1, **kwargs)  # type: ignore[arg-type]
    resp = svc.api.post("/v1/shipments", json=used, headers=p.seller.writer)
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"] == "InvalidAccountNonce"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/shipments", {}),
        ("/v1/shipments", {"terms": "x"}),
        ("/v1/shipments", {"terms": {"shipmentId": "0x12"}, "nonce": -1}),
        ("/v1/shipments/0x12/milestones", {}),
        ("/v1/shipments/" + "0x" + "11" * 32 + "/milestones", {"milestone": {"milestone": 99}}),
        ("/v1/shipments/milestones/batch", {"items": []}),
        ("/v1/shipments/" + "0x" + "11" * 32 + "/overdue/0", None),
        ("/v1/shipments/" + "0x" + "11" * 32 + "/corrections", {"correction": [], "x": 1}),
    ],
)
def test_malformed_input_is_4xx_with_reason(
    svc: Service, parties: Parties, path: str, body: object
) -> None:
    resp = svc.api.post(path, json=body, headers=parties.seller.writer)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json()["error"]
    assert resp.json()["detail"]


def test_malformed_manifest_and_locode_are_422(svc: Service, parties: Parties) -> None:
    p = parties
    body = create_body(svc, p.seller.signer, [p.carrier.signer.address])
    bad = {**body, "manifest": {"transportMode": "teleport", "lines": []}}
    assert svc.api.post("/v1/shipments", json=bad, headers=p.seller.writer).status_code == 422
    bad_terms = {**body, "terms": {**body["terms"], "origin": "12345"}}
    assert svc.api.post("/v1/shipments", json=bad_terms, headers=p.seller.writer).status_code == 422
    bad_sig = {**body, "signature": "0x" + "00" * 65}
    resp = svc.api.post("/v1/shipments", json=bad_sig, headers=p.seller.writer)
    assert resp.status_code == 422
    assert "signature" in resp.json()["detail"]


def test_reorg_rolls_back_milestones_and_recomputes_state(
    svc: Service, parties: Parties, tester: ChainClient
) -> None:
    p = parties
    sid, _ = _create(svc, p)
    snap = tester.snapshot()
    _pickup(svc, p, sid)
    svc.settle()
    detail = svc.api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert detail["status"] == "picked_up"
    assert len(detail["milestones"]) == 1
    tester.revert(snap)
    for _ in range(3):
        tester.mine()
    workers(svc.api).indexer.step()
    detail = svc.api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert detail["status"] == "created"
    assert detail["custodian"] is None
    assert detail["milestones"] == []
    assert workers(svc.api).indexer.reorgs == 1
    # The pickup's relay request went back to the queue; sent again, it lands on the new fork.
    with context(svc.api).sessions() as session:
        statuses = session.scalars(
            select(RelayRequest.status)
            .where(RelayRequest.purpose.notin_(ORG_PURPOSES))
            .order_by(RelayRequest.id)
        ).all()
    assert statuses == ["final", "queued"]
    svc.settle()
    detail = svc.api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert detail["status"] == "picked_up"
    assert len(detail["milestones"]) == 1


HOSTILE = [None, -1, 2**256, 10**400, 1.5, "x", "0x" + "zz" * 32, {"a": 1}, [1], "NL\x00RTM"]


def test_every_create_field_with_hostile_values_is_4xx_never_500(
    svc: Service, parties: Parties
) -> None:
    p = parties
    body = create_body(svc, p.seller.signer, [p.carrier.signer.address])
    for section, fields in (
        ("terms", list(body["terms"])),
        ("", ["nonce", "deadline", "signature"]),
    ):
        for name in fields:
            for value in HOSTILE:
                mutated = json.loads(json.dumps(body))
                target = mutated[section] if section else mutated
                target[name] = value
                resp = svc.api.post("/v1/shipments", json=mutated, headers=p.seller.writer)
                assert 400 <= resp.status_code < 500, (section, name, value, resp.text)
                assert resp.json()["detail"]


def test_shipment_list_is_keyset_paginated_and_capped(svc: Service, parties: Parties) -> None:
    p = parties
    ids = sorted(_create(svc, p)[0] for _ in range(3))
    page = svc.api.get("/v1/shipments?limit=2", headers=p.seller.writer).json()
    assert [s["id"] for s in page["items"]] == ids[:2]
    assert page["next_after"] == ids[1]
    rest = svc.api.get(f"/v1/shipments?after={ids[1]}", headers=p.seller.writer).json()
    assert [s["id"] for s in rest["items"]] == ids[2:]
    assert rest["next_after"] is None
    context(svc.api).settings.page_size_max = 1
    capped = svc.api.get("/v1/shipments?limit=500", headers=p.seller.writer).json()
    assert len(capped["items"]) == 1
    bad = svc.api.get("/v1/shipments?after=0x12", headers=p.seller.writer)
    assert bad.status_code == 422
