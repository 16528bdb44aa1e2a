"""Gas per shipment milestone, next to a bare ``ecrecover + emit`` floor.

Every figure is the transaction's ``gasUsed`` (intrinsic 21 000 and calldata
included) divided by the number of milestones it records. The floor contract
(``contracts/test/GasFloorRecorder.sol``) takes byte-identical calldata,
computes the same EIP-712 digest, runs one bare ``ecrecover`` and emits the
signed fields: the least any verify-and-log design can cost. Signers have used
their nonce before (steady state: the nonce slot is non-zero).

Run: ``.venv/bin/python bench/gas_shipments.py``
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_account import Account
from eth_utils import keccak

from backend.chain import ChainClient, make_chain
from backend.chain.compiler import compile_contracts
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.config import Settings
from bench.common import Row, publish

HOUR = 3600
SELLER = Account.from_key(keccak(text="bench-seller"))
CARRIER_A = Account.from_key(keccak(text="bench-carrier-a"))
CARRIER_B = Account.from_key(keccak(text="bench-carrier-b"))
BROKER = Account.from_key(keccak(text="bench-broker"))
CONSIGNEE = Account.from_key(keccak(text="bench-consignee"))
SIGNERS = {a.address: a for a in (SELLER, CARRIER_A, CARRIER_B, BROKER, CONSIGNEE)}


class Bench:
    def __init__(self, chain: ChainClient) -> None:
        self.chain = chain
        self.reg = ShipmentRegistryClient(chain, chain.deploy("ShipmentRegistry").address)
        self.floor = chain.contract("GasFloorRecorder", chain.deploy("GasFloorRecorder").address)
        self.domain = self.reg.domain()
        self.nonces: dict[str, int] = {}
        self.count = 0

    def now(self) -> int:
        return int(self.chain.block()["timestamp"])

    def next_nonce(self, addr: str) -> int:
        if addr not in self.nonces:
            self.nonces[addr] = self.reg.nonce(addr)
        n = self.nonces[addr]
        self.nonces[addr] = n + 1
        return n

    def shipment_at_export_cleared(self, consignee: str = td.ZERO_ADDRESS) -> bytes:
        self.count += 1
        terms = td.shipment_terms(
            shipment_id=td.shipment_id(SELLER.address, f"bench-{self.count}"),
            seller=SELLER.address,
            origin="CNSHA",
            destination="NLRTM",
            declared_weight_grams=120_000,
            piece_count=12,
            weight_tolerance_bps=200,
            manifest_hash=keccak(text=f"manifest-{self.count}"),
            carriers=[CARRIER_A.address, CARRIER_B.address],
            customs_broker=BROKER.address,
            consignee=consignee,
            sla=td.service_level(departed_by=self.now() + 30 * 86_400),
        )
        nonce, deadline = self.next_nonce(SELLER.address), self.now() + HOUR
        sig = td.sign_create_shipment(
            SELLER.key, self.domain, terms, nonce=nonce, deadline=deadline
        )
        self.reg.create_shipment_with_sig(terms, nonce=nonce, deadline=deadline, signature=sig)
        sid = bytes(terms["shipmentId"])
        self.transfer(sid, M.PICKED_UP, SELLER, CARRIER_A)
        self.reg.record_milestone(*self.signed(sid, M.EXPORT_CLEARED, BROKER))
        return sid

    def signed(
        self, sid: bytes, kind: M, signer: Any, **fields: Any
    ) -> tuple[dict[str, Any], bytes]:
        now = self.now()
        msg = td.milestone(
            shipment_id=sid,
            kind=kind,
            signer=signer.address,
            nonce=self.next_nonce(signer.address),
            deadline=now + HOUR,
            occurred_at=now,
            location="CNSHA",
            evidence_hash=keccak(text=f"scan-{sid.hex()}-{int(kind)}"),
            **fields,
        )
        return msg, td.sign_milestone(signer.key, self.domain, msg)

    def transfer(self, sid: bytes, kind: M, releaser: Any, receiver: Any) -> int:
        msg, sig = self.signed(sid, kind, releaser, counterparty=receiver.address)
        nonce, deadline = self.next_nonce(receiver.address), self.now() + HOUR
        acc = td.sign_acceptance(receiver.key, self.domain, msg, nonce=nonce, deadline=deadline)
        result = self.reg.record_custody_transfer(
            msg, sig, acceptance_nonce=nonce, acceptance_deadline=deadline, acceptance_signature=acc
        )
        return result.gas_used

    def out_for_delivery(self, consignee: str = td.ZERO_ADDRESS) -> bytes:
        """A shipment carried by carrier A to the consignee's door."""
        sid = self.shipment_at_export_cleared(consignee)
        for kind, who in (
            (M.DEPARTED, CARRIER_A),
            (M.ARRIVED, CARRIER_A),
            (M.IMPORT_CLEARED, BROKER),
            (M.OUT_FOR_DELIVERY, CARRIER_A),
        ):
            self.reg.record_milestone(*self.signed(sid, kind, who))
        return sid

    def deliver(self, sid: bytes, consignee: Any, **fields: Any) -> int:
        """DELIVERED by carrier A with ``consignee``'s proof of delivery (accepted)."""
        msg, sig = self.signed(
            sid, M.DELIVERED, CARRIER_A, counterparty=consignee.address, **fields
        )
        nonce, deadline = self.next_nonce(consignee.address), self.now() + HOUR
        condition = td.DeliveryCondition.ACCEPTED
        receipt = td.sign_proof_of_delivery(
            consignee.key, self.domain, msg, condition=condition, nonce=nonce, deadline=deadline
        )
        result = self.reg.record_delivery(
            msg,
            sig,
            condition=condition,
            receipt_nonce=nonce,
            receipt_deadline=deadline,
            receipt_signature=receipt,
        )
        return result.gas_used

    def departures(self, n: int) -> list[tuple[dict[str, Any], bytes]]:
        sids = [self.shipment_at_export_cleared() for _ in range(n)]
        return [
            self.signed(sid, M.DEPARTED, CARRIER_A, measured_weight_grams=120_500) for sid in sids
        ]

    def floor_gas(self, items: list[tuple[dict[str, Any], bytes]]) -> float:
        if len(items) == 1:
            msg, sig = items[0]
            result = self.chain.transact(
                self.floor, "recordMilestone", td.as_abi_tuple(td.MILESTONE, msg), sig
            )
        else:
            batch = [(td.as_abi_tuple(td.MILESTONE, m), s) for m, s in items]
            result = self.chain.transact(self.floor, "recordMilestones", batch)
        return result.gas_used / len(items)

    def registry_gas(self, items: list[tuple[dict[str, Any], bytes]]) -> float:
        if len(items) == 1:
            result = self.reg.record_milestone(*items[0])
        else:
            result = self.reg.record_milestones(items)
        assert all(ev.name != "MilestoneLate" for ev in result.events)
        return result.gas_used / len(items)


def main() -> None:
    chain = make_chain(Settings(chain_backend="tester"), compile_contracts())
    bench = Bench(chain)
    rows: list[Row] = []

    for n, target in ((1, "≤ 60,000"), (10, ""), (100, "≤ 35,000 / milestone")):
        items = bench.departures(n)
        floor = bench.floor_gas(items)  # same calldata; the floor has no replay check
        value = bench.registry_gas(items)
        label = "single milestone (DEPARTED, weighed)" if n == 1 else f"per milestone, batch of {n}"
        rows.append(Row(label, value, "gas", floor, "ecrecover+emit floor", target))

    # A customs-broker milestone reads the role mapping (one more cold slot).
    sid = bench.shipment_at_export_cleared()
    bench.reg.record_milestone(*bench.signed(sid, M.DEPARTED, CARRIER_A))
    bench.reg.record_milestone(*bench.signed(sid, M.ARRIVED, CARRIER_A))
    items = [bench.signed(sid, M.IMPORT_CLEARED, BROKER)]
    floor = bench.floor_gas(items)
    rows.append(
        Row(
            "single milestone (IMPORT_CLEARED, broker)",
            bench.registry_gas(items),
            "gas",
            floor,
            "ecrecover+emit floor",
            "≤ 60,000",
        )
    )

    # Co-signed custody transfer: two signatures, two nonces.
    sid = bench.shipment_at_export_cleared()
    handover = bench.transfer(sid, M.HANDOVER, CARRIER_A, CARRIER_B)
    items = [bench.signed(sid, M.EXCEPTION, CARRIER_B, reason_code=1)]
    rows.append(
        Row(
            "co-signed HANDOVER (2 signatures)",
            handover,
            "gas",
            2 * bench.floor_gas(items),
            "2x ecrecover+emit floor",
        )
    )
    # Delivery: the carrier's word alone (no consignee named) against the consignee's proof.
    sid = bench.out_for_delivery()
    items = [bench.signed(sid, M.DELIVERED, CARRIER_A)]
    floor = bench.floor_gas(items)  # same calldata; the floor has no replay check
    rows.append(
        Row(
            "DELIVERED, carrier only (no consignee named)",
            bench.registry_gas(items),
            "gas",
            floor,
            "ecrecover+emit floor",
        )
    )
    sid = bench.out_for_delivery(CONSIGNEE.address)
    rows.append(
        Row(
            "DELIVERED with the consignee's proof of delivery (2 signatures)",
            bench.deliver(sid, CONSIGNEE),
            "gas",
            2 * floor,
            "2x ecrecover+emit floor",
        )
    )
    publish("gas_shipments", "ShipmentRegistry gas per milestone", rows)


if __name__ == "__main__":
    main()
