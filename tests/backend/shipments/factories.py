"""Signed request bodies for the shipments API, and a driver for the relayer and indexer."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.common.types import to_hex
from backend.relayer.models import RelayRequest
from backend.shipments.messages import manifest_hash
from tests.backend.factories import Org
from tests.context import context, workers

HOUR = 3600
ZERO32 = "0x" + "00" * 32


@dataclass
class Service:
    """The API client plus the chain it relays to; drives the worker and indexer by hand."""

    api: TestClient
    chain: ChainClient
    registry: ShipmentRegistryClient = field(init=False)

    def __post_init__(self) -> None:
        address = context(self.api).loaded().deployment.address("ShipmentRegistry")
        self.registry = ShipmentRegistryClient(self.chain, address)

    def now(self) -> int:
        self.chain.mine()
        return int(self.chain.block()["timestamp"])

    def settle(self) -> None:
        """Send every queued relay request and index the resulting blocks."""
        for _ in range(5):
            workers(self.api).relay.relayer.drive()
            workers(self.api).indexer.step()
            with context(self.api).sessions() as session:
                open_ = session.query(RelayRequest).filter(
                    RelayRequest.status.in_(("queued", "sent"))
                )
                if open_.count() == 0:
                    break
        workers(self.api).indexer.step()

    def relay(self, relay_id: int, headers: dict[str, str]) -> dict[str, Any]:
        resp = self.api.get(f"/v1/relay/{relay_id}", headers=headers)
        assert resp.status_code == 200, resp.text
        return resp.json()  # type: ignore[no-any-return]


def manifest(passport_ids: list[bytes], mode: str = "sea", quantity: int = 100) -> dict[str, Any]:
    return {
        "transportMode": mode,
        "lines": [{"passportId": to_hex(p), "quantity": quantity} for p in passport_ids],
    }


def create_body(
    svc: Service,
    seller: LocalAccount,
    carriers: list[str],
    *,
    passports: list[bytes] | None = None,
    mode: str = "sea",
    warehouse: str = td.ZERO_ADDRESS,
    customs_broker: str = td.ZERO_ADDRESS,
    sla: dict[str, int] | None = None,
    signer: LocalAccount | None = None,
    manifest_override: dict[str, Any] | None = None,
    declared_weight_grams: int = 120_000,
    sscc: str | None = None,
    nonce_offset: int = 0,
    consignee: str = td.ZERO_ADDRESS,
    expires_in: int = HOUR,
) -> dict[str, Any]:
    """A ``POST /v1/shipments`` body signed by ``signer`` (default the seller)."""
    doc = manifest(passports if passports is not None else [secrets.token_bytes(32)], mode)
    if sscc is not None:
        doc["sscc"] = sscc
    sid = td.shipment_id(seller.address, secrets.token_bytes(12))
    sla_fields = td.service_level(**(sla or {}))
    terms = td.shipment_terms(
        shipment_id=sid,
        seller=seller.address,
        origin="VNSGN",
        destination="USLAX",
        declared_weight_grams=declared_weight_grams,
        piece_count=12,
        weight_tolerance_bps=200,
        manifest_hash=manifest_hash(doc),
        carriers=carriers,
        warehouse=warehouse,
        customs_broker=customs_broker,
        consignee=consignee,
        sla=sla_fields,
    )
    nonce = svc.registry.nonce(seller.address) + nonce_offset
    deadline = svc.now() + expires_in
    sig = td.sign_create_shipment(
        (signer or seller).key, svc.registry.domain(), terms, nonce=nonce, deadline=deadline
    )
    return {
        "terms": {
            "shipmentId": to_hex(sid),
            "seller": seller.address,
            "origin": "VNSGN",
            "destination": "USLAX",
            "declaredWeightGrams": declared_weight_grams,
            "pieceCount": 12,
            "weightToleranceBps": 200,
            "manifestHash": to_hex(terms["manifestHash"]),
            "carriers": carriers,
            "warehouse": warehouse,
            "customsBroker": customs_broker,
            "consignee": consignee,
            "sla": sla_fields,
        },
        "nonce": nonce,
        "deadline": deadline,
        "signature": to_hex(sig),
        "manifest": manifest_override or doc,
    }


def milestone_message(
    svc: Service,
    shipment_id: str,
    kind: M,
    signer: LocalAccount,
    *,
    nonce_offset: int = 0,
    **fields: Any,
) -> dict[str, Any]:
    now = svc.now()
    values: dict[str, Any] = {
        "shipment_id": bytes.fromhex(shipment_id[2:]),
        "kind": kind,
        "signer": signer.address,
        "nonce": svc.registry.nonce(signer.address) + nonce_offset,
        "deadline": now + HOUR,
        "occurred_at": now,
        "location": "VNSGN",
        "evidence_hash": secrets.token_bytes(32),
    }
    values.update(fields)
    return td.milestone(**values)


def milestone_json(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "shipmentId": to_hex(message["shipmentId"]),
        "milestone": message["milestone"],
        "reasonCode": message["reasonCode"],
        "occurredAt": message["occurredAt"],
        "location": td.locode_text(message["location"]),
        "measuredWeightGrams": message["measuredWeightGrams"],
        "evidenceHash": to_hex(message["evidenceHash"]),
        "signer": message["signer"],
        "counterparty": message["counterparty"],
        "nonce": message["nonce"],
        "deadline": message["deadline"],
    }


def milestone_body(
    svc: Service,
    shipment_id: str,
    kind: M,
    signer: LocalAccount,
    *,
    receiver: LocalAccount | None = None,
    sign_with: LocalAccount | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A ``POST /v1/shipments/{id}/milestones`` body (with acceptance if ``receiver``)."""
    if receiver is not None:
        fields["counterparty"] = receiver.address
    msg = milestone_message(svc, shipment_id, kind, signer, **fields)
    domain = svc.registry.domain()
    body: dict[str, Any] = {
        "milestone": milestone_json(msg),
        "signature": to_hex(td.sign_milestone((sign_with or signer).key, domain, msg)),
    }
    if receiver is not None:
        nonce = svc.registry.nonce(receiver.address)
        deadline = svc.now() + HOUR
        acc = td.sign_acceptance(receiver.key, domain, msg, nonce=nonce, deadline=deadline)
        body["acceptance"] = {"nonce": nonce, "deadline": deadline, "signature": to_hex(acc)}
    return body


def delivery_body(
    svc: Service,
    shipment_id: str,
    carrier: LocalAccount,
    consignee: LocalAccount,
    condition: str = "accepted",
    *,
    receipt_key: LocalAccount | None = None,
) -> dict[str, Any]:
    """A ``POST /v1/shipments/{id}/delivery`` body: the carrier's DELIVERED and the receipt."""
    msg = milestone_message(
        svc, shipment_id, M.DELIVERED, carrier, location="USLAX", counterparty=consignee.address
    )
    domain = svc.registry.domain()
    nonce, deadline = svc.registry.nonce(consignee.address), svc.now() + HOUR
    receipt = td.sign_proof_of_delivery(
        (receipt_key or consignee).key,
        domain,
        msg,
        condition=td.DeliveryCondition[condition.upper()],
        nonce=nonce,
        deadline=deadline,
    )
    return {
        "milestone": milestone_json(msg),
        "signature": to_hex(td.sign_milestone(carrier.key, domain, msg)),
        "receipt": {
            "condition": condition,
            "nonce": nonce,
            "deadline": deadline,
            "signature": to_hex(receipt),
        },
    }


@dataclass
class Parties:
    seller: Org
    carrier: Org
    broker: Org
    other: Org


def post(svc: Service, path: str, body: dict[str, Any] | None, org: Org) -> dict[str, Any]:
    """POST expecting 202; returns the body."""
    resp = svc.api.post(path, json=body, headers=org.writer)
    assert resp.status_code == 202, resp.text
    return resp.json()  # type: ignore[no-any-return]
