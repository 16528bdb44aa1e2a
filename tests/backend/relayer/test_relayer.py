"""The relayer is generic: any purpose with a handler gets durable submission."""

from __future__ import annotations

import os

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain import AnchorRegistryClient, ChainClient, ContractRevert
from backend.relayer import service as relayer
from backend.relayer.models import RelayRequest, SentTransaction
from backend.relayer.service import Mined, Relayer
from tests.context import workers


class RecordingHandler:
    """A minimal purpose: records what the relayer reports."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    only_own_sends = False

    def already_done(self, session: Session, request: RelayRequest) -> Mined | None:
        return None

    def is_done_revert(self, exc: ContractRevert) -> bool:
        return False

    def on_mined(self, session: Session, request: RelayRequest, mined: Mined) -> None:
        self.events.append(("mined", mined.tx_hash))

    def on_final(self, session: Session, request: RelayRequest) -> None:
        self.events.append(("final", request.id))

    def on_orphaned(self, session: Session, request: RelayRequest) -> None:
        self.events.append(("orphaned", request.id))

    def on_failed(self, session: Session, request: RelayRequest, error: str) -> None:
        self.events.append(("failed", error))


def _setup(api: TestClient, tester: ChainClient) -> tuple[Relayer, RecordingHandler, str]:
    handler = RecordingHandler()
    worker = workers(api).anchor
    rel = Relayer(
        sessions=worker.sessions,
        chain=tester,
        settings=worker.settings,
        handlers={"test": handler},
    )
    return rel, handler, worker.registry


def _relay_an_anchor(
    rel: Relayer, chain: ChainClient, registry: str
) -> tuple[RelayRequest, list[SentTransaction]]:
    """Queue an anchor of a fresh root as a ``test`` request, drive the relayer once;
    the request and every transaction recorded for it."""
    data = AnchorRegistryClient(chain, registry).anchor_calldata(os.urandom(32), 1)
    with rel.sessions() as session:
        relayer.enqueue(session, purpose="test", to=registry, data=data)
        session.commit()
    rel.drive()
    with rel.sessions() as session:
        req = session.scalars(select(RelayRequest)).one()
        return req, list(session.scalars(select(SentTransaction)))


def test_a_new_purpose_is_sent_mined_and_finalised(api: TestClient, tester: ChainClient) -> None:
    rel, handler, registry = _setup(api, tester)
    req, sent = _relay_an_anchor(rel, tester, registry)
    assert req.status == "final"
    assert [s.tx_hash for s in sent] == [req.tx_hash]
    assert [e[0] for e in handler.events] == ["mined", "final"]


def test_a_reverting_call_fails_with_the_decoded_error(
    api: TestClient, tester: ChainClient
) -> None:
    rel, handler, registry = _setup(api, tester)
    data = AnchorRegistryClient(tester, registry).anchor_calldata(b"\0" * 32, 1)
    with rel.sessions() as session:
        relayer.enqueue(session, purpose="test", to=registry, data=data)
        session.commit()
    rel.drive()
    with rel.sessions() as session:
        req = session.scalars(select(RelayRequest)).one()
    assert req.status == "failed"
    assert "AnchorRootZero" in (req.last_error or "")
    assert handler.events[0][0] == "failed"


def test_a_write_sent_again_after_a_reorg_as_the_same_transaction_is_recorded_once(
    api: TestClient, tester: ChainClient
) -> None:
    """After a reorg the chain's nonce rolls back: the re-queued write signs to the very
    transaction it was before (same nonce, calldata, gas and fees), which is sent again,
    not refused as a duplicate record."""
    rel, _handler, registry = _setup(api, tester)
    data = AnchorRegistryClient(tester, registry).anchor_calldata(os.urandom(32), 1)
    before = tester.snapshot()
    with rel.sessions() as session:
        relayer.enqueue(session, purpose="test", to=registry, data=data)
        session.commit()
    rel.drive()
    with rel.sessions() as session:
        first = session.scalars(select(RelayRequest)).one().tx_hash
    tester.revert(before)  # the block holding it is gone
    with rel.sessions() as session:
        req = session.scalars(select(RelayRequest)).one()
        req.status, req.nonce, req.tx_hash = "queued", None, None  # what a handler's re-queue does
        req.block_number = req.block_hash = None
        session.commit()
    rel.drive()
    with rel.sessions() as session:
        req = session.scalars(select(RelayRequest)).one()
        sent = session.scalars(select(SentTransaction)).all()
    assert req.status == "final"
    assert req.tx_hash == first
    assert [s.tx_hash for s in sent] == [first]
    assert tester.receipt(first) is not None


class FoundByOthers(RecordingHandler):
    """A purpose whose effect another party can bring about (a signed message relayed by
    someone else): found here already, before the relayer ever sent anything."""

    def __init__(self, effect: Mined) -> None:
        super().__init__()
        self.effect = effect

    def already_done(self, session: Session, request: RelayRequest) -> Mined | None:
        return self.effect


def test_an_effect_another_party_brought_about_is_found_before_the_first_send(
    api: TestClient, tester: ChainClient
) -> None:
    rel, _handler, registry = _setup(api, tester)
    elsewhere = AnchorRegistryClient(tester, registry).anchor_root(os.urandom(32), 1)
    handler = FoundByOthers(Mined(elsewhere.tx_hash, elsewhere.block_number, elsewhere.block_hash))
    rel.handlers["test"] = handler
    req, sent = _relay_an_anchor(rel, tester, registry)
    assert req.status == "final"
    assert req.tx_hash == elsewhere.tx_hash
    assert sent == []  # nothing sent: the effect was there
    assert [e[0] for e in handler.events] == ["mined", "final"]
