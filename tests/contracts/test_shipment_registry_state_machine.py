"""The contract's state machine equals the Python model in ``shipment_factory``.

Every (status, milestone) pair is tried once; hypothesis then walks random
milestone sequences and checks the contract never leaves the modelled status.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contracts.shipment_factory import (
    ALLOWED,
    PARTIES,
    M,
    ModelState,
    S,
    ShipmentDriver,
    attempt,
    driver,
    plan_step,
    tester_registry,
)
from tests.helpers import reverts

__all__ = ["driver", "tester_registry"]  # fixtures

LABELS = {
    PARTIES.seller.address: "seller",
    PARTIES.carrier_a.address: "carrier_a",
    PARTIES.carrier_b.address: "carrier_b",
    PARTIES.warehouse.address: "warehouse",
}
REACHABLE = [s for s in S if s != S.NONE]


def _observed(d: ShipmentDriver, sid: bytes) -> ModelState:
    custodian = d.registry.custodian(sid)
    return ModelState(S(d.registry.status(sid)), LABELS[custodian] if custodian else None)


def _check_step(
    d: ShipmentDriver, sid: bytes, state: ModelState, kind: M, reason: int = 0
) -> ModelState:
    step = plan_step(state, kind, reason)
    if step.error == "ShipmentMilestoneNotAllowed":
        with reverts(step.error, shipmentId=sid, status=state.status, milestone=kind):
            attempt(d, sid, step)
    elif step.error is not None:
        with reverts(step.error, shipmentId=sid, milestone=kind):
            attempt(d, sid, step)
    else:
        result = attempt(d, sid, step)
        assert result.event("MilestoneRecorded").args["status"] == step.after.status
    observed = _observed(d, sid)
    assert observed == step.after, f"{kind.name} from {state}: model {step.after}, chain {observed}"
    return observed


@pytest.mark.parametrize("status", REACHABLE, ids=[s.name for s in REACHABLE])
def test_every_milestone_from_every_status_matches_model(driver: ShipmentDriver, status: S) -> None:
    sid = driver.create(f"table-{status.name}")
    driver.advance(sid, status)
    state = _observed(driver, sid)
    assert state.status == status
    for kind in M:
        snap = driver.chain.snapshot()
        try:
            _check_step(driver, sid, state, kind)
        finally:
            driver.chain.revert(snap)


@pytest.mark.parametrize("value", [0, 14, 255])
def test_unknown_milestone_value_is_not_allowed(driver: ShipmentDriver, value: int) -> None:
    sid = driver.create("unknown-kind")
    with reverts("ShipmentMilestoneNotAllowed", shipmentId=sid, status=S.CREATED, milestone=value):
        driver.record(sid, value, PARTIES.seller)


def test_terminal_statuses_allow_no_milestone() -> None:
    for kind, sources in ALLOWED.items():
        assert not sources & {S.DELIVERED, S.RETURNED, S.LOST}, kind


steps = st.lists(
    st.tuples(st.sampled_from(list(M)), st.sampled_from([1, 3])),  # EXCEPTION: delayed / lost
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps)
def test_random_milestone_sequences_follow_the_model(
    driver: ShipmentDriver, sequence: list[tuple[M, int]]
) -> None:
    snap = driver.chain.snapshot()
    try:
        sid = driver.create("random")
        state = ModelState()
        for kind, reason in sequence:
            before = state
            state = _check_step(driver, sid, state, kind, reason)
            if state != before:
                assert before.status in ALLOWED[kind]
            assert state.status in REACHABLE
    finally:
        driver.chain.revert(snap)
