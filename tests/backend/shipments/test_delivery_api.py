"""The consignee's proof of delivery through the API: accepted, damaged or refused at the door."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account
from fastapi.testclient import TestClient

from backend.chain.typed_data.shipments import DeliveryCondition, Status
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.cli import cli
from backend.cli.client import Api
from backend.cli.milestones import documents, submit_documents
from backend.cli.output import Output
from tests.backend.factories import SAMPLE_PREFIX, make_org
from tests.backend.shipments.factories import (
    Parties,
    Service,
    create_body,
    delivery_body,
    milestone_body,
    post,
)


@pytest.fixture
def parties(api: TestClient) -> Parties:
    return Parties(
        seller=make_org(api, "seller", ("seller",), prefixes=(SAMPLE_PREFIX,)),
        carrier=make_org(api, "carrier", ("carrier",)),
        broker=make_org(api, "broker", ("supplier",)),
        other=make_org(api, "buyer", ("seller",)),  # the consignee
    )


def _at_the_door(svc: Service, p: Parties, *, consignee: bool = True) -> str:
    """A shipment consigned to ``p.other``, driven to OUT_FOR_DELIVERY through the API."""
    body = create_body(
        svc,
        p.seller.signer,
        [p.carrier.signer.address],
        customs_broker=p.broker.signer.address,
        consignee=p.other.signer.address if consignee else "0x" + "00" * 20,
    )
    post(svc, "/v1/shipments", body, p.seller)
    svc.settle()
    sid = str(body["terms"]["shipmentId"])
    steps = [
        (M.PICKED_UP, p.seller, {"receiver": p.carrier.signer}),
        (M.EXPORT_CLEARED, p.broker, {}),
        (M.DEPARTED, p.carrier, {}),
        (M.ARRIVED, p.carrier, {"location": "USLAX"}),
        (M.IMPORT_CLEARED, p.broker, {"location": "USLAX"}),
        (M.OUT_FOR_DELIVERY, p.carrier, {"location": "USLAX"}),
    ]
    for kind, org, extra in steps:
        post(svc, f"/v1/shipments/{sid}/milestones", milestone_body(svc, sid, kind, org.signer, **extra), org)  # fmt: skip
        svc.settle()
    return sid


@pytest.mark.parametrize(
    ("condition", "status"),
    [("accepted", Status.DELIVERED), ("damaged", Status.DELIVERED), ("refused", None)],
)
def test_consignee_receipt_is_relayed_with_delivered(
    svc: Service, parties: Parties, condition: str, status: Status | None
) -> None:
    p = parties
    sid = _at_the_door(svc, p)
    body = delivery_body(svc, sid, p.carrier.signer, p.other.signer, condition)
    accepted = post(svc, f"/v1/shipments/{sid}/delivery", body, p.carrier)
    svc.settle()
    assert svc.relay(accepted["relay_id"], p.carrier.writer)["status"] in ("mined", "final")
    facts = svc.registry.delivery_facts(bytes.fromhex(sid[2:]))
    assert facts.condition is DeliveryCondition[condition.upper()]
    assert facts.consignee == p.other.signer.address
    # A refusal leaves the goods with the carrier (the shipment is not delivered).
    expected = status or Status.OUT_FOR_DELIVERY
    assert facts.status is expected
    shown = svc.api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert shown["status"] == expected.name.lower()


def test_receipt_not_signed_by_the_consignee_is_refused(svc: Service, parties: Parties) -> None:
    p = parties
    sid = _at_the_door(svc, p)
    # The carrier signs the "receipt" itself: a proof of delivery nobody received.
    forged = delivery_body(svc, sid, p.carrier.signer, p.other.signer, receipt_key=p.carrier.signer)
    resp = svc.api.post(f"/v1/shipments/{sid}/delivery", json=forged, headers=p.carrier.writer)
    assert resp.status_code == 422, resp.text
    assert p.other.signer.address in resp.json()["detail"]
    assert "consignee" in resp.json()["detail"]
    # A receipt signed "accepted" cannot be submitted as "damaged" (or the reverse).
    body = delivery_body(svc, sid, p.carrier.signer, p.other.signer, "accepted")
    body["receipt"]["condition"] = "damaged"
    resp = svc.api.post(f"/v1/shipments/{sid}/delivery", json=body, headers=p.carrier.writer)
    assert resp.status_code == 422, resp.text
    # Another organisation cannot submit the carrier's milestone.
    body = delivery_body(svc, sid, p.carrier.signer, p.other.signer)
    resp = svc.api.post(f"/v1/shipments/{sid}/delivery", json=body, headers=p.other.writer)
    assert resp.status_code == 403, resp.text
    assert svc.registry.status(bytes.fromhex(sid[2:])) is Status.OUT_FOR_DELIVERY


def test_delivery_route_takes_only_delivered_of_a_shipment_with_a_consignee(
    svc: Service, parties: Parties
) -> None:
    p = parties
    sid = _at_the_door(svc, p, consignee=False)
    body = delivery_body(svc, sid, p.carrier.signer, p.other.signer)
    resp = svc.api.post(f"/v1/shipments/{sid}/delivery", json=body, headers=p.carrier.writer)
    assert resp.status_code == 409, resp.text
    assert "names no consignee" in resp.json()["detail"]
    body["milestone"]["milestone"] = int(M.ARRIVED)
    resp = svc.api.post(f"/v1/shipments/{sid}/delivery", json=body, headers=p.carrier.writer)
    assert resp.status_code == 422, resp.text
    assert "DELIVERED" in resp.json()["detail"]
    body = delivery_body(svc, sid, p.carrier.signer, p.other.signer)
    body["receipt"]["condition"] = "lost"  # not a condition of a receipt
    resp = svc.api.post(f"/v1/shipments/{sid}/delivery", json=body, headers=p.carrier.writer)
    assert resp.status_code == 422, resp.text


def test_cli_receipt_then_submit_relays_the_delivery(
    svc: Service, parties: Parties, tmp_path: Path
) -> None:
    """``waymark milestone sign`` (carrier), ``milestone receipt`` (consignee), ``submit``."""
    p = parties
    sid = _at_the_door(svc, p)
    domain = svc.registry.domain()
    stores = {}
    for name, acct in (("carrier", p.carrier.signer), ("buyer", p.other.signer)):
        stores[name] = tmp_path / f"{name}.json"
        stores[name].write_text(json.dumps(Account.encrypt(acct.key, "pw", iterations=2**10)))
    doc = tmp_path / "delivered.json"

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), env={"WAYMARK_KEYSTORE_PASSWORD": "pw"})
        assert result.exit_code == 0, result.output
        return result.output

    run(
        "milestone", "sign", "--keystore", str(stores["carrier"]), "--shipment-id", sid,
        "--milestone", "DELIVERED", "--location", "USLAX", "--counterparty",
        p.other.signer.address, "--occurred-at", str(svc.now()),
        "--nonce", str(svc.registry.nonce(p.carrier.signer.address)),
        "--chain-id", str(domain.chain_id), "--registry", domain.verifying_contract,
        "--out", str(doc),
    )  # fmt: skip
    run(
        "milestone", "receipt", str(doc), "--keystore", str(stores["buyer"]),
        "--condition", "damaged", "--nonce", str(svc.registry.nonce(p.other.signer.address)),
    )  # fmt: skip
    assert json.loads(doc.read_text())["receipt"]["condition"] == "damaged"
    api = Api("http://testserver", p.carrier.writer["X-API-Key"], http=svc.api)
    (accepted,) = submit_documents(api, documents(json.loads(doc.read_text())), Output())
    svc.settle()
    assert svc.relay(accepted["relay_id"], p.carrier.writer)["status"] in ("mined", "final")
    facts = svc.registry.delivery_facts(bytes.fromhex(sid[2:]))
    assert (facts.status, facts.condition) == (Status.DELIVERED, DeliveryCondition.DAMAGED)
