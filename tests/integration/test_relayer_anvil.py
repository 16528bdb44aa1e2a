"""The relayer's truth on a real anvil: a request is mined or failed only as its receipts say.

Each test reproduces a way the relayer used to report a write that landed as
failed: a transaction mined between two reads of the relayer, the node's answer
to a broadcast lost on the way back, a nonce used by another transaction, and a
read pinned to a block that ``--prune-history`` no longer keeps.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from backend.chain import AnchorRegistryClient, ChainClient, ContractRevert, make_chain
from backend.chain.anvil import AnvilNode
from backend.config import Settings
from backend.db.engine import make_sessionmaker
from backend.relayer import service as relayer
from backend.relayer.models import RelayRequest, SentTransaction
from backend.relayer.service import Mined, Relayer
from tests.conftest import deployment_for

pytestmark = pytest.mark.anvil


class Outcomes:
    """A purpose whose effect is never found in a read model: only receipts decide."""

    only_own_sends = True

    def __init__(self) -> None:
        self.events: list[str] = []
        self.looked = 0  # times the relayer asked whether the effect is there

    def already_done(self, session: Session, request: RelayRequest) -> Mined | None:
        self.looked += 1
        return None

    def is_done_revert(self, exc: ContractRevert) -> bool:
        return False

    def on_mined(self, session: Session, request: RelayRequest, mined: Mined) -> None:
        self.events.append("mined")

    def on_final(self, session: Session, request: RelayRequest) -> None:
        self.events.append("final")

    def on_orphaned(self, session: Session, request: RelayRequest) -> None:
        self.events.append("orphaned")

    def on_failed(self, session: Session, request: RelayRequest, error: str) -> None:
        self.events.append("failed")


class MinesAfterFirstMiss(ChainClient):
    """Anvil with one block mined right after the first receipt lookup that finds nothing.

    That is the moment a transaction lands between two reads of the relayer.
    """

    missed = False

    def receipt(self, tx_hash: str) -> Any:
        rcpt = super().receipt(tx_hash)
        if rcpt is None and not self.missed:
            self.missed = True
            self.mine()
        return rcpt


class LosesFirstBroadcastAnswer(http.server.ThreadingHTTPServer):
    """A JSON-RPC proxy to anvil that forwards the first ``eth_sendRawTransaction``
    and then drops the connection instead of answering: the node has the
    transaction, the relayer never hears so.
    """

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.lost = False
        self.methods: list[str] = []  # every request's method, in order
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: LosesFirstBroadcastAnswer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.methods.append(json.loads(body)["method"])
        upstream = urllib.request.Request(  # noqa: S310 - loopback anvil
            self.server.upstream, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(upstream, timeout=10) as resp:  # noqa: S310
            answer = resp.read()
        if b"eth_sendRawTransaction" in body and not self.server.lost:
            self.server.lost = True
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        return None


def _client(cls: type[ChainClient], base: ChainClient) -> ChainClient:
    return cls(base.w3, base.account, backend=base.backend, artifacts=base.artifacts)


@pytest.fixture
def anvil(anvil_chain: ChainClient) -> Iterator[ChainClient]:
    deployment_for(anvil_chain)
    snap = anvil_chain.snapshot()
    try:
        yield anvil_chain
    finally:
        _automine(anvil_chain, True)
        anvil_chain.revert(snap)


def _automine(chain: ChainClient, on: bool) -> None:
    chain.w3.provider.make_request("evm_setAutomine", [on])  # type: ignore[arg-type]


def _relayer(db_engine: Engine, chain: ChainClient, handler: Outcomes) -> Relayer:
    settings = Settings(chain_backend="anvil", confirmations=0, stuck_after_seconds=30)
    return Relayer(
        sessions=make_sessionmaker(db_engine),
        chain=chain,
        settings=settings,
        handlers={"test": handler},
    )


def _enqueue_anchor(rel: Relayer, chain: ChainClient, root: bytes | None = None) -> int:
    registry = deployment_for(chain).address("AnchorRegistry")
    data = AnchorRegistryClient(chain, registry).anchor_calldata(root or os.urandom(32), 1)
    with rel.sessions() as session:
        req = relayer.enqueue(session, purpose="test", to=registry, data=data)
        session.commit()
        return req.id


def _request(rel: Relayer, req_id: int) -> RelayRequest:
    with rel.sessions() as session:
        req = session.get(RelayRequest, req_id)
        assert req is not None
        return req


def _drive_until_settled(rel: Relayer, req_id: int, timeout: float = 20.0) -> RelayRequest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with rel.sessions() as session:
            # Skip the retry backoff: the test drives the relayer itself.
            session.get(RelayRequest, req_id).next_attempt_at = None  # type: ignore[union-attr]
            session.commit()
        rel.drive()
        req = _request(rel, req_id)
        if req.status in ("final", "failed"):
            return req
        time.sleep(0.05)
    raise AssertionError(f"relay {req_id} still {_request(rel, req_id).status}")


def test_a_write_mined_between_two_reads_is_final_not_failed(
    anvil: ChainClient, db_engine: Engine
) -> None:
    handler = Outcomes()
    chain = _client(MinesAfterFirstMiss, anvil)
    rel = _relayer(db_engine, chain, handler)
    req_id = _enqueue_anchor(rel, anvil)
    _automine(anvil, False)  # the transaction waits in the pool until the test's block

    req = _drive_until_settled(rel, req_id)

    assert req.status == "final", req.last_error
    assert handler.events == ["mined", "final"]
    rcpt = chain.receipt(req.tx_hash or "")
    assert rcpt is not None
    assert rcpt.status == 1


def test_a_write_whose_broadcast_answer_was_lost_is_final_not_failed(
    anvil: ChainClient, anvil_node: AnvilNode, db_engine: Engine
) -> None:
    handler = Outcomes()
    proxy = LosesFirstBroadcastAnswer(anvil_node.url)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        chain = make_chain(
            Settings(chain_backend="anvil", rpc_url=proxy.url, receipt_timeout_seconds=10),
            anvil.artifacts,
        )
        rel = _relayer(db_engine, chain, handler)
        req_id = _enqueue_anchor(rel, anvil)

        req = _drive_until_settled(rel, req_id)
    finally:
        proxy.shutdown()
        proxy.server_close()

    assert proxy.lost

    assert req.status == "final", req.last_error
    with rel.sessions() as session:
        hashes = session.scalars(
            select(SentTransaction.tx_hash).where(SentTransaction.relay_id == req_id)
        ).all()
    assert hashes == [req.tx_hash]  # recorded before the node saw it, sent once
    assert handler.events == ["mined", "final"]


def test_a_first_send_asks_the_node_only_what_it_needs(
    anvil: ChainClient, anvil_node: AnvilNode, db_engine: Engine
) -> None:
    """No chain id before every estimate and call (web3's validation middleware asked
    for it each time), and no lookup of the effect for a request never sent."""
    proxy = LosesFirstBroadcastAnswer(anvil_node.url)
    proxy.lost = True  # a plain proxy: every answer arrives
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        chain = make_chain(Settings(chain_backend="anvil", rpc_url=proxy.url), anvil.artifacts)
        assert chain.chain_id == anvil.chain_id  # read once, kept
        handler = Outcomes()
        rel = _relayer(db_engine, chain, handler)
        req_id = _enqueue_anchor(rel, anvil)
        proxy.methods.clear()

        req = _drive_until_settled(rel, req_id)
    finally:
        proxy.shutdown()
        proxy.server_close()

    assert req.status == "final", req.last_error
    assert "eth_chainId" not in proxy.methods, proxy.methods
    assert handler.looked == 0  # the anchor lookup, an eth_call, in the real handler
    assert proxy.methods.count("eth_sendRawTransaction") == 1


def test_a_nonce_taken_by_another_transaction_requeues_and_lands(
    anvil: ChainClient, db_engine: Engine
) -> None:
    handler = Outcomes()
    rel = _relayer(db_engine, anvil, handler)
    req_id = _enqueue_anchor(rel, anvil)
    _automine(anvil, False)
    rel.drive()
    sent = _request(rel, req_id)
    assert sent.status == "sent"
    assert sent.nonce is not None
    with rel.sessions() as session:
        (first,) = session.scalars(select(SentTransaction.tx_hash)).all()
    # The node forgets our transaction and another one of the same key takes its nonce.
    anvil.w3.provider.make_request("anvil_dropTransaction", [first])  # type: ignore[arg-type]
    other = anvil.account.sign_transaction(
        {
            "to": anvil.address,
            "value": 0,
            "gas": 21_000,
            "maxFeePerGas": 10**11,
            "maxPriorityFeePerGas": 10**9,
            "nonce": sent.nonce,
            "chainId": anvil.chain_id,
        }
    )
    anvil.w3.eth.send_raw_transaction(other.raw_transaction)
    anvil.mine()
    _automine(anvil, True)

    req = _drive_until_settled(rel, req_id)

    assert req.status == "final", req.last_error
    assert req.nonce is not None
    assert req.nonce > sent.nonce
    assert anvil.receipt(first) is None
    assert handler.events == ["mined", "final"]


def test_a_write_whose_receipt_reverted_is_failed_with_the_decoded_error(
    anvil: ChainClient, db_engine: Engine
) -> None:
    handler = Outcomes()
    rel = _relayer(db_engine, anvil, handler)
    root = os.urandom(32)
    first = _enqueue_anchor(rel, anvil, root)
    second = _enqueue_anchor(rel, anvil, root)
    _automine(anvil, False)  # both pass simulation; the second reverts when mined
    rel.drive()
    anvil.mine()
    _automine(anvil, True)

    assert _drive_until_settled(rel, first).status == "final"
    failed = _drive_until_settled(rel, second)

    assert failed.status == "failed"
    assert "AnchorRootAlreadyAnchored" in (failed.last_error or "")
    with rel.sessions() as session:
        (tx_hash,) = session.scalars(
            select(SentTransaction.tx_hash).where(SentTransaction.relay_id == second)
        ).all()
    rcpt = anvil.receipt(tx_hash)
    assert rcpt is not None
    assert rcpt.status == 0
    assert handler.events == ["mined", "final", "failed"]


def test_a_read_pinned_to_a_pruned_block_answers_from_the_latest(anvil: ChainClient) -> None:
    registry = AnchorRegistryClient(anvil, deployment_for(anvil).address("AnchorRegistry"))
    root = os.urandom(32)
    anchored = registry.anchor_root(root, 3)
    anvil.mine(2)  # the node keeps no state for the anchor's block any more

    info = registry.anchor_of(root, block=anchored.block_number)

    assert info is not None
    assert info.leaf_count == 3


def test_a_read_pinned_to_a_block_not_mined_yet_waits_for_it(anvil: ChainClient) -> None:
    """A block another process saw mined may not be on this node yet: the read waits for
    it rather than answering from an older head (which has no anchor yet)."""
    registry = AnchorRegistryClient(anvil, deployment_for(anvil).address("AnchorRegistry"))
    root = os.urandom(32)
    _automine(anvil, False)
    ahead = anvil.block_number() + 1
    anvil.send({"to": registry.address, "data": registry.anchor_calldata(root, 3)})
    miner = threading.Timer(0.5, anvil.mine)  # the block lands while the read waits
    miner.start()

    info = registry.anchor_of(root, block=ahead)

    miner.join()
    assert info is not None
    assert info.leaf_count == 3
    assert anvil.block_number() == ahead
