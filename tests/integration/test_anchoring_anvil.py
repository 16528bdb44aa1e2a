"""Anchoring on anvil: worker crash after send, node outage, stuck transactions, reorgs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from backend.anchoring.models import AnchorBatch
from backend.anchoring.service import ANCHOR_PURPOSE
from backend.anchoring.worker import AnchorWorker
from backend.chain import AnchorRegistryClient, ChainClient, make_chain
from backend.chain.anvil import AnvilNode
from backend.chain.compiler import Artifact
from backend.config import Settings
from backend.events.models import SupplyEvent
from backend.indexer.service import Indexer
from backend.main import create_app
from backend.paths import PROJECT_ROOT
from backend.relayer.models import RelayRequest, SentTransaction
from tests.backend.conftest import api_settings
from tests.backend.factories import Org, domain_of, make_org, signed_event
from tests.conftest import deployment_for
from tests.context import context, workers

pytestmark = pytest.mark.anvil


@pytest.fixture
def anvil_api(db_url: str, db_engine: Engine, anvil_chain: ChainClient) -> Iterator[TestClient]:
    """The app on anvil (workers driven by the test), rolled back after the test."""
    dep = deployment_for(anvil_chain)
    snap = anvil_chain.snapshot()
    app = create_app(api_settings(db_url), anvil_chain, deployment=dep)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        anvil_chain.revert(snap)


def _post(api: TestClient, org: Org, n: int) -> list[dict[str, Any]]:
    events = [signed_event(domain_of(api), org.signer) for _ in range(n)]
    resp = api.post("/v1/events/batch", json={"events": events}, headers=org.writer)
    assert resp.json()["accepted"] == n
    return events


def _registry(api: TestClient, chain: ChainClient) -> AnchorRegistryClient:
    return AnchorRegistryClient(chain, domain_of(api).verifying_contract)


def _assert_exactly_once(api: TestClient, chain: ChainClient, events: list[dict[str, Any]]) -> None:
    registry = _registry(api, chain)
    with context(api).sessions() as session:
        batches = session.scalars(select(AnchorBatch).where(AnchorBatch.status == "final")).all()
        n_events = session.scalar(select(func.count()).select_from(SupplyEvent))
        unanchored = session.scalar(
            select(func.count()).select_from(SupplyEvent).where(SupplyEvent.status != "final")
        )
    assert n_events == len(events)
    assert unanchored == 0
    assert sum(b.leaf_count for b in batches) == len(events)
    roots = [b.root for b in batches]
    assert len(set(roots)) == len(roots)
    # One Anchored log per root on chain.
    logs = chain.get_logs([registry.address], 0, chain.block_number())
    anchored = [("0x" + bytes(ev.args["root"]).hex()) for ev in logs if ev.name == "Anchored"]
    assert sorted(anchored) == sorted(roots)
    workers(api).indexer.step()  # records the verification
    for body in events:
        out = api.get(f"/v1/proofs/{body['eventId']}").json()
        assert out["on_chain"] is True, out


def _run_worker(
    node: AnvilNode, db_url: str, registry: str, fault: str | None, timeout: float
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WAYMARK_CHAIN_BACKEND": "anvil",
        "WAYMARK_RPC_URL": node.url,
        "WAYMARK_DATABASE_URL": db_url,
        "WAYMARK_LEASE_SECONDS": "1",
        "WAYMARK_ANCHOR_INTERVAL_SECONDS": "0.1",
        "WAYMARK_ANCHOR_BATCH_SIZE": "8",
    }
    env.pop("WAYMARK_FAULT", None)
    if fault:
        env["WAYMARK_FAULT"] = fault
    return subprocess.Popen(
        [sys.executable, "scripts/anchor_worker.py", "--registry", registry],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.parametrize(
    ("fault", "anchors_before_restart"),
    [("after_record", 0), ("after_send", 1)],
    ids=["before-broadcast", "after-broadcast"],
)
def test_worker_killed_around_sending_resumes_and_anchors_exactly_once(
    anvil_api: TestClient,
    anvil_chain: ChainClient,
    anvil_node: AnvilNode,
    db_url: str,
    fault: str,
    anchors_before_restart: int,
) -> None:
    acme = make_org(anvil_api, "acme")
    # The organisation's own relayed registrations go first, so the crash hits the anchor.
    workers(anvil_api).relay.relayer.drive()
    events = _post(anvil_api, acme, 20)
    registry = domain_of(anvil_api).verifying_contract
    crashed = _run_worker(anvil_node, db_url, registry, fault, 60)
    assert crashed.wait(timeout=60) == 137, crashed.stdout.read() if crashed.stdout else ""
    with context(anvil_api).sessions() as session:
        # The hash is recorded before the node sees the transaction, so the
        # crash leaves nothing on chain that the outbox does not know about.
        assert (
            session.scalar(
                select(func.count())
                .select_from(SentTransaction)
                .join(RelayRequest, RelayRequest.id == SentTransaction.relay_id)
                .where(RelayRequest.purpose == ANCHOR_PURPOSE)
            )
            == 1
        )
        statuses = list(
            session.scalars(
                select(RelayRequest.status).where(RelayRequest.purpose == ANCHOR_PURPOSE)
            )
        )
    assert statuses.count("sent") == 1
    assert set(statuses) <= {"sent", "queued"}
    assert _registry(anvil_api, anvil_chain).anchor_count() == anchors_before_restart
    worker = _run_worker(anvil_node, db_url, registry, None, 60)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with context(anvil_api).sessions() as session:
                left = session.scalar(
                    select(func.count())
                    .select_from(SupplyEvent)
                    .where(SupplyEvent.status != "final")
                )
            if left == 0:
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    anvil_chain.reset_nonce()
    _assert_exactly_once(anvil_api, anvil_chain, events)


def test_two_worker_processes_share_one_relayer_key_without_nonce_clashes(
    anvil_api: TestClient, anvil_chain: ChainClient, anvil_node: AnvilNode, db_url: str
) -> None:
    acme = make_org(anvil_api, "acme")
    events = _post(anvil_api, acme, 160)  # 20 batches of 8, one relay request each
    registry = domain_of(anvil_api).verifying_contract
    workers = [_run_worker(anvil_node, db_url, registry, None, 90) for _ in range(2)]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with context(anvil_api).sessions() as session:
                left = session.scalar(
                    select(func.count())
                    .select_from(SupplyEvent)
                    .where(SupplyEvent.status != "final")
                )
            if left == 0:
                break
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=20)
    with context(anvil_api).sessions() as session:
        requests = session.scalars(
            select(RelayRequest).where(RelayRequest.purpose == ANCHOR_PURPOSE)
        ).all()
        sent = session.scalars(
            select(SentTransaction)
            .join(RelayRequest, RelayRequest.id == SentTransaction.relay_id)
            .where(RelayRequest.purpose == ANCHOR_PURPOSE)
        ).all()
    owners = {r.claimed_by for r in requests} | {r.last_error for r in requests}
    assert len(requests) == 20, owners
    # Every request was signed once, with a nonce nobody else used, and landed.
    assert len(sent) == len(requests), [r.last_error for r in requests if r.last_error]
    assert len({s.nonce for s in sent}) == len(sent)
    assert all(r.status == "final" and r.attempts == 1 for r in requests)
    assert all(anvil_chain.receipt(s.tx_hash) is not None for s in sent)
    anvil_chain.reset_nonce()
    _assert_exactly_once(anvil_api, anvil_chain, events)


def test_events_posted_during_a_node_outage_are_anchored_after_it(
    anvil_api: TestClient,
    anvil_node: AnvilNode,
    anvil_chain: ChainClient,
    artifacts: dict[str, Artifact],
) -> None:
    acme = make_org(anvil_api, "acme")
    base: AnchorWorker = workers(anvil_api).anchor
    short = make_chain(
        Settings(
            chain_backend="anvil",
            rpc_url=anvil_node.url,
            rpc_timeout_seconds=0.5,
            rpc_retries=False,
        ),
        artifacts,
    )
    settings = base.settings.model_copy(update={"anchor_interval_seconds": 0.1})
    worker = AnchorWorker(
        sessions=base.sessions, chain=short, registry=base.registry, settings=settings
    )
    worker.relay.start()
    try:
        events = _post(anvil_api, acme, 5)
        anvil_node.pause()
        try:
            for _ in range(4):
                events += _post(anvil_api, acme, 5)  # ingestion needs no chain
                time.sleep(0.5)
        finally:
            anvil_node.resume()
        deadline = time.monotonic() + 45
        while worker.backlog() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.relay.stop()
    assert worker.backlog() == 0
    with context(anvil_api).sessions() as session:
        errors = session.scalars(
            select(RelayRequest.last_error).where(RelayRequest.purpose == ANCHOR_PURPOSE)
        ).all()
    assert any(e for e in errors), "the outage was never observed by the worker"
    anvil_chain.reset_nonce()
    _assert_exactly_once(anvil_api, anvil_chain, events)


def test_stuck_anchor_is_replaced_with_a_higher_fee_on_the_same_nonce(
    anvil_api: TestClient, anvil_chain: ChainClient
) -> None:
    acme = make_org(anvil_api, "acme")
    events = _post(anvil_api, acme, 4)
    base: AnchorWorker = workers(anvil_api).anchor
    worker = AnchorWorker(
        sessions=base.sessions,
        chain=anvil_chain,
        registry=base.registry,
        settings=base.settings.model_copy(update={"stuck_after_seconds": 1.5}),
    )
    anvil_chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        worker.build()
        worker.relay.relayer.drive()  # sent, not mined
        time.sleep(1.6)
        worker.relay.relayer.drive()  # stuck: replaced
        with context(anvil_api).sessions() as session:
            sent = session.scalars(
                select(SentTransaction)
                .join(RelayRequest, RelayRequest.id == SentTransaction.relay_id)
                .where(RelayRequest.purpose == ANCHOR_PURPOSE)
                .order_by(SentTransaction.id)
            ).all()
        assert len(sent) == 2
        assert sent[0].nonce == sent[1].nonce
        assert sent[1].max_fee_per_gas > sent[0].max_fee_per_gas
        anvil_chain.mine()
    finally:
        anvil_chain.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    worker.run_until_idle()
    with context(anvil_api).sessions() as session:
        req = session.scalars(
            select(RelayRequest).where(RelayRequest.purpose == ANCHOR_PURPOSE)
        ).one()
    assert req.tx_hash == sent[1].tx_hash
    assert anvil_chain.receipt(sent[0].tx_hash) is None
    _assert_exactly_once(anvil_api, anvil_chain, events)


def test_reorg_on_anvil_re_anchors_dropped_events(
    anvil_api: TestClient, anvil_chain: ChainClient
) -> None:
    acme = make_org(anvil_api, "acme")
    worker: AnchorWorker = workers(anvil_api).anchor
    indexer: Indexer = workers(anvil_api).indexer
    indexer.step()
    snap = anvil_chain.snapshot()
    events = _post(anvil_api, acme, 6)
    worker.run_until_idle()
    indexer.step()
    anvil_chain.revert(snap)  # the fork without our anchor wins
    anvil_chain.mine(4)
    indexer.step()
    assert indexer.reorgs == 1
    worker.run_until_idle()
    indexer.step()
    _assert_exactly_once(anvil_api, anvil_chain, events)
