"""The open anchor registry against strangers, through the worker and the indexer, on
eth-tester and anvil (the ``chain`` fixture).

Anyone may anchor any root under their own address. A stranger who anchors the root
the worker is about to send neither blocks the worker's anchor nor gets indexed, and
no proof is verified against a stranger's anchor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from backend.anchoring.models import AnchorBatch, ChainAnchor
from backend.chain import AnchorRegistryClient, ChainClient
from backend.common.types import hex_bytes
from backend.main import create_app
from tests.backend.conftest import api_settings
from tests.backend.factories import domain_of, make_org, signed_event
from tests.conftest import deployment_for
from tests.context import context, workers


@pytest.fixture
def any_api(db_url: str, db_engine: Engine, chain: ChainClient) -> Iterator[TestClient]:
    """The app over each chain backend (workers driven by the test)."""
    app = create_app(api_settings(db_url), chain, deployment=deployment_for(chain))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def stranger(chain: ChainClient, any_api: TestClient) -> AnchorRegistryClient:
    """The anchor registry as a funded account that is not the operator's anchorer."""
    account = Account.create()
    chain.send_value(account.address, 10**18)
    return AnchorRegistryClient(chain.with_account(account), domain_of(any_api).verifying_contract)


def _post(api: TestClient, n: int) -> list[dict[str, Any]]:
    acme = make_org(api, "acme")
    events = [signed_event(domain_of(api), acme.signer) for _ in range(n)]
    resp = api.post("/v1/events/batch", json={"events": events}, headers=acme.writer)
    assert resp.json()["accepted"] == n, resp.text
    return events


def _indexed(api: TestClient) -> list[tuple[str, str, int]]:
    with context(api).sessions() as session:
        return [
            (a.root, a.anchorer, a.leaf_count)
            for a in session.scalars(select(ChainAnchor).order_by(ChainAnchor.id))
        ]


def test_a_stranger_front_running_the_workers_root_does_not_stop_or_stand_in_for_it(
    any_api: TestClient, chain: ChainClient, stranger: AnchorRegistryClient
) -> None:
    events = _post(any_api, 3)
    worker, indexer = workers(any_api).anchor, workers(any_api).indexer
    workers(any_api).relay.relayer.drive()  # the organisation's own registrations first
    assert worker.build() == 1
    with context(any_api).sessions() as session:
        root = session.scalars(select(AnchorBatch.root)).one()
    # The stranger sees the root coming (or guesses it) and anchors it first.
    stranger.anchor_root(hex_bytes(root), 999)
    indexer.step()
    assert _indexed(any_api) == []
    proof = any_api.get(f"/v1/proofs/{events[0]['eventId']}").json()
    assert proof["on_chain"] is False  # nothing verified against the stranger's anchor
    # The worker's own anchor still goes through, and it is the one indexed.
    worker.run_until_idle()
    indexer.step()
    ours = AnchorRegistryClient(chain, stranger.address)
    info = ours.anchor_of(hex_bytes(root))
    assert info is not None
    assert info.leaf_count == 3
    assert _indexed(any_api) == [(root, chain.address, 3)]
    with context(any_api).sessions() as session:
        batch = session.scalars(select(AnchorBatch)).one()
        assert batch.status == "final"
        assert batch.block_number == info.block_number
    for body in events:
        proof = any_api.get(f"/v1/proofs/{body['eventId']}").json()
        assert proof["on_chain"] is True
        assert proof["anchorer"] == chain.address
        assert proof["anchor"]["tx_hash"] == batch.tx_hash


def test_a_strangers_anchored_log_is_never_indexed(
    any_api: TestClient, chain: ChainClient, stranger: AnchorRegistryClient
) -> None:
    indexer = workers(any_api).indexer
    indexer.step()
    stranger.anchor_root(b"\x5a" * 32, 7)
    ours = AnchorRegistryClient(chain, stranger.address).anchor_root(b"\x5b" * 32, 2)
    assert indexer.step() > 0
    # (no batch of this database has that root, so its leaf count is left 0)
    assert _indexed(any_api) == [("0x" + "5b" * 32, chain.address, 0)]
    # The stranger's log is on chain all the same: the node left it out of the indexer's read.
    logs = chain.get_logs([stranger.address], 0, ours.block_number)
    assert (b"\x5a" * 32, stranger.chain.address) in {
        (bytes(ev.args["root"]), ev.args["anchorer"]) for ev in logs if ev.name == "Anchored"
    }
