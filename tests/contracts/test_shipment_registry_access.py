"""Access-control matrix: every privileged entry point against every party.

The registry has no admin; each write is authorised by the role a party holds
on the shipment (or, for custody milestones, by being the custodian). Each row
names who may act; everyone else must be refused with the documented error.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_utils import keccak

from backend.chain.typed_data import shipments as td
from tests.contracts.shipment_factory import (
    HOUR,
    PARTIES,
    M,
    S,
    ShipmentDriver,
    driver,
    funded,
    tester_registry,
)
from tests.helpers import reverts

__all__ = ["driver", "tester_registry"]  # fixtures

P = PARTIES
ACTORS = ["seller", "carrier_a", "carrier_b", "warehouse", "broker", "outsider"]
PARTIES_ONLY = frozenset(ACTORS) - {"outsider"}

# (milestone, status it is legal in, parties allowed to sign it there)
SINGLE_SIGNATURE: list[tuple[M, S, frozenset[str]]] = [
    (M.EXPORT_CLEARED, S.PICKED_UP, frozenset({"broker"})),
    (M.DEPARTED, S.EXPORT_CLEARED, frozenset({"carrier_a"})),
    (M.ARRIVED, S.IN_TRANSIT, frozenset({"carrier_a"})),
    (M.CUSTOMS_HOLD, S.ARRIVED, frozenset({"broker"})),
    (M.CUSTOMS_RELEASED, S.CUSTOMS_HOLD, frozenset({"broker"})),
    (M.IMPORT_CLEARED, S.ARRIVED, frozenset({"broker"})),
    (M.WAREHOUSE_INBOUND, S.IMPORT_CLEARED, frozenset({"warehouse"})),
    (M.OUT_FOR_DELIVERY, S.IMPORT_CLEARED, frozenset({"carrier_a"})),
    (M.DELIVERED, S.OUT_FOR_DELIVERY, frozenset({"carrier_b"})),
    (M.RETURNED, S.PICKED_UP, frozenset({"seller"})),
    (M.EXCEPTION, S.PICKED_UP, PARTIES_ONLY),
]


def _for_each_actor(
    d: ShipmentDriver,
    allowed: frozenset[str],
    act: Callable[[str], object],
    denied: Callable[[str], object],
) -> None:
    for name in ACTORS:
        snap = d.chain.snapshot()
        try:
            if name in allowed:
                act(name)
            else:
                denied(name)
        finally:
            d.chain.revert(snap)


@pytest.mark.parametrize(
    ("kind", "status", "allowed"), SINGLE_SIGNATURE, ids=[k.name for k, _s, _a in SINGLE_SIGNATURE]
)
def test_single_signature_milestone_matrix(
    driver: ShipmentDriver, kind: M, status: S, allowed: frozenset[str]
) -> None:
    sid = driver.create(f"acl-{kind.name}")
    driver.advance(sid, status)

    def act(name: str) -> None:
        driver.record(sid, kind, getattr(P, name))
        assert driver.registry.milestone_count(sid) > 0

    def denied(name: str) -> None:
        signer = getattr(P, name).address
        with reverts("ShipmentSignerNotAuthorized", shipmentId=sid, milestone=kind, signer=signer):
            driver.record(sid, kind, getattr(P, name))

    _for_each_actor(driver, allowed, act, denied)


@pytest.mark.parametrize(
    ("kind", "status", "receiver", "allowed"),
    [
        (M.PICKED_UP, S.CREATED, "carrier_a", frozenset({"seller"})),
        (M.HANDOVER, S.ARRIVED, "carrier_b", frozenset({"carrier_a"})),
    ],
    ids=["PICKED_UP", "HANDOVER"],
)
def test_custody_transfer_releaser_matrix(
    driver: ShipmentDriver, kind: M, status: S, receiver: str, allowed: frozenset[str]
) -> None:
    sid = driver.create(f"acl-release-{kind.name}")
    driver.advance(sid, status)

    def act(name: str) -> None:
        driver.transfer(sid, kind, getattr(P, name), getattr(P, receiver))
        assert driver.registry.custodian(sid) == getattr(P, receiver).address

    def denied(name: str) -> None:
        signer = getattr(P, name).address
        with reverts("ShipmentSignerNotAuthorized", shipmentId=sid, milestone=kind, signer=signer):
            driver.transfer(sid, kind, getattr(P, name), getattr(P, receiver))

    _for_each_actor(driver, allowed, act, denied)


@pytest.mark.parametrize(
    ("kind", "status", "releaser", "allowed"),
    [
        (M.PICKED_UP, S.CREATED, "seller", frozenset({"carrier_a", "carrier_b"})),
        (M.HANDOVER, S.ARRIVED, "carrier_a", frozenset({"carrier_b", "warehouse"})),
    ],
    ids=["PICKED_UP", "HANDOVER"],
)
def test_custody_transfer_receiver_matrix(
    driver: ShipmentDriver, kind: M, status: S, releaser: str, allowed: frozenset[str]
) -> None:
    sid = driver.create(f"acl-receive-{kind.name}")
    driver.advance(sid, status)

    def act(name: str) -> None:
        driver.transfer(sid, kind, getattr(P, releaser), getattr(P, name))
        assert driver.registry.custodian(sid) == getattr(P, name).address

    def denied(name: str) -> None:
        receiver = getattr(P, name).address
        with reverts(
            "ShipmentCounterpartyInvalid", shipmentId=sid, milestone=kind, counterparty=receiver
        ):
            driver.transfer(sid, kind, getattr(P, releaser), getattr(P, name))

    _for_each_actor(driver, allowed, act, denied)


def test_correction_matrix(driver: ShipmentDriver) -> None:
    sid = driver.create("acl-correct")
    driver.advance(sid, S.PICKED_UP)

    def message(name: str) -> tuple[dict, bytes]:
        acct = getattr(P, name)
        msg = td.correction(
            shipment_id=sid,
            corrected_index=0,
            corrected_record_hash=keccak(text="r"),
            reason=td.CorrectionReason.OTHER,
            signer=acct.address,
            nonce=driver.registry.nonce(acct.address),
            deadline=driver.now() + HOUR,
        )
        return msg, td.sign_correction(acct.key, driver.domain, msg)

    def act(name: str) -> None:
        driver.registry.correct(*message(name))

    def denied(name: str) -> None:
        signer = getattr(P, name).address
        with reverts("ShipmentCorrectionSignerNotParty", shipmentId=sid, signer=signer):
            driver.registry.correct(*message(name))

    _for_each_actor(driver, PARTIES_ONLY, act, denied)


def test_create_shipment_matrix(driver: ShipmentDriver) -> None:
    terms = driver.terms("acl-create")

    def client(name: str):  # type: ignore[no-untyped-def]
        return driver.registry.with_chain(funded(driver.chain, getattr(P, name)))

    def act(name: str) -> None:
        client(name).create_shipment(terms)

    def denied(name: str) -> None:
        caller = getattr(P, name).address
        with reverts("ShipmentCallerNotSeller", caller=caller, seller=P.seller.address):
            client(name).create_shipment(terms)

    _for_each_actor(driver, frozenset({"seller"}), act, denied)


def test_flag_overdue_is_open_to_everyone(driver: ShipmentDriver) -> None:
    sid = driver.create("acl-flag", sla=td.service_level(picked_up_by=driver.now() + 10))
    driver.chain.advance_time(60)

    def act(name: str) -> None:
        client = driver.registry.with_chain(funded(driver.chain, getattr(P, name)))
        flagged_by = (
            client.flag_overdue(sid, M.PICKED_UP).event("MilestoneOverdue").args["flaggedBy"]
        )
        assert flagged_by == getattr(P, name).address

    _for_each_actor(driver, frozenset(ACTORS), act, lambda _name: None)
