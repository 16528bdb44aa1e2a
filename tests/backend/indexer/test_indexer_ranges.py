"""The indexer reads wide ranges in one ``eth_getLogs``, narrows them when the node
refuses, takes block hashes and times from the logs and hands runs of logs to the
handlers that take them, in log order; on both chain backends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import Engine, select

from backend.anchoring.indexer import anchor_handlers
from backend.anchoring.models import ChainAnchor
from backend.chain import AnchorRegistryClient, ChainClient, DecodedEvent, LogRangeTooLarge
from backend.chain.deployments import Deployment
from backend.chain.organisations import (
    OrganisationInput,
    OrganisationRegistryClient,
    Role,
    org_id_for,
)
from backend.config import Settings
from backend.db.engine import make_sessionmaker
from backend.indexer.models import IndexedBlock
from backend.indexer.service import BlockRef, ContractHandlers, Indexer
from backend.orgs import registry as org_registry

ZERO = "0x" + "00" * 20


class RefusingWideRanges:
    """A node that answers ``eth_getLogs`` only for ranges up to ``limit`` blocks
    (as hosted nodes do), in front of the real chain."""

    def __init__(self, chain: ChainClient, limit: int) -> None:
        self._chain = chain
        self.limit = limit
        self.asked: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chain, name)

    def get_logs(
        self, addresses: list[str], first: int, last: int, *, topics: Any = None
    ) -> list[DecodedEvent]:
        self.asked.append(last - first + 1)
        if last - first + 1 > self.limit:
            raise LogRangeTooLarge("query returned more than 10000 results")
        return self._chain.get_logs(addresses, first, last, topics=topics)


def _anchor(registry: AnchorRegistryClient, n: int, salt: str) -> list[bytes]:
    roots = [keccak(text=f"{salt}-{i}") for i in range(n)]
    for root in roots:
        registry.anchor_root(root, 1)
    return roots


def _indexer(
    engine: Engine, chain: Any, deployment: Deployment, handlers: list[ContractHandlers], span: int
) -> Indexer:
    indexer = Indexer(
        sessions=make_sessionmaker(engine),
        chain=chain,
        deployment=deployment,
        handlers=handlers,
        settings=Settings(indexer_max_range=span, reorg_window=4),
    )
    indexer.start_block = chain.block_number() + 1
    return indexer


def test_indexer_narrows_a_refused_range_and_widens_again(
    chain: ChainClient, deployment: Deployment, db_engine: Engine
) -> None:
    registry = AnchorRegistryClient(chain, deployment.address("AnchorRegistry"))
    node = RefusingWideRanges(chain, limit=2)
    indexer = _indexer(db_engine, node, deployment, [anchor_handlers(node, deployment)], span=64)
    roots = _anchor(registry, 5, "narrow")
    while indexer.step():
        pass
    assert node.asked[0] == 5  # the whole range first
    assert max(node.asked[1:]) <= 4
    assert 2 in node.asked
    with make_sessionmaker(db_engine)() as session:
        stored = session.scalars(select(ChainAnchor.root).order_by(ChainAnchor.id)).all()
    assert stored == ["0x" + r.hex() for r in roots]
    # Each good round doubles the span back towards the configured maximum.
    node.limit = 64
    for _ in range(6):
        chain.mine(1)
        indexer.step()
    assert indexer.span == 64


def test_indexer_gives_up_a_round_when_even_one_block_is_refused(
    chain: ChainClient, deployment: Deployment, db_engine: Engine
) -> None:
    registry = AnchorRegistryClient(chain, deployment.address("AnchorRegistry"))
    node = RefusingWideRanges(chain, limit=0)
    indexer = _indexer(db_engine, node, deployment, [anchor_handlers(node, deployment)], span=8)
    _anchor(registry, 1, "refused")
    with pytest.raises(LogRangeTooLarge):
        indexer.step()
    with make_sessionmaker(db_engine)() as session:
        assert session.scalars(select(ChainAnchor)).all() == []


def test_logs_carry_their_block_hash_and_the_node_given_time(
    chain: ChainClient, deployment: Deployment
) -> None:
    registry = AnchorRegistryClient(chain, deployment.address("AnchorRegistry"))
    mined = registry.anchor_root(keccak(text="stamped"), 1)
    (ev,) = chain.get_logs([registry.address], mined.block_number, mined.block_number)
    block = chain.block(mined.block_number)
    assert ev.block_hash == block["hash"] == mined.block_hash
    if chain.backend == "anvil":  # eth-tester puts no blockTimestamp on its logs
        assert ev.block_timestamp == block["timestamp"]
    else:
        assert ev.block_timestamp in (None, block["timestamp"])


def test_handlers_see_logs_in_order_and_runs_only_where_every_handler_takes_them(
    chain: ChainClient, deployment: Deployment, db_engine: Engine
) -> None:
    registry = AnchorRegistryClient(chain, deployment.address("AnchorRegistry"))
    seen: list[tuple[str, list[str]]] = []

    def one(name: str) -> Any:
        def handler(session: Any, ev: DecodedEvent, block: BlockRef) -> None:
            assert block.hash == ev.block_hash
            seen.append((name, [ev.args["root"].hex()]))

        return handler

    def run(name: str) -> Any:
        def handler(session: Any, items: Sequence[tuple[DecodedEvent, BlockRef]]) -> None:
            seen.append((name, [ev.args["root"].hex() for ev, _ in items]))

        return handler

    roots = [r.hex() for r in _anchor(registry, 3, "order")]
    mixed = _indexer(
        db_engine,
        chain,
        deployment,
        [
            ContractHandlers("AnchorRegistry", {}, None, {"Anchored": run("A")}),
            ContractHandlers("AnchorRegistry", {"Anchored": one("B")}),
        ],
        span=64,
    )
    mixed.start_block -= 3
    mixed.step()
    assert seen == [(h, [r]) for r in roots for h in ("A", "B")]
    seen.clear()
    both = _indexer(
        db_engine,
        chain,
        deployment,
        [
            ContractHandlers("AnchorRegistry", {}, None, {"Anchored": run("A")}),
            ContractHandlers("AnchorRegistry", {}, None, {"Anchored": run("C")}),
        ],
        span=64,
    )
    both.name = "second"
    both.start_block -= 3
    both.step()
    assert seen == [("A", roots), ("C", roots)]
    with make_sessionmaker(db_engine)() as session:
        # Only hashes of the indexed blocks within the reorg window are kept.
        kept = session.scalars(
            select(IndexedBlock.number).where(IndexedBlock.cursor == "second")
        ).all()
    assert sorted(kept) == list(range(both.start_block, chain.block_number() + 1))


def test_a_topic_filtered_contract_is_read_apart_and_merged_in_chain_order(
    chain: ChainClient, deployment: Deployment, db_engine: Engine
) -> None:
    """The anchor registry's logs come from an ``eth_getLogs`` filtered to the anchorer;
    every other contract's from the shared one; handlers see both in chain order, and a
    stranger's anchor not at all."""
    registry = AnchorRegistryClient(chain, deployment.address("AnchorRegistry"))
    orgs = OrganisationRegistryClient(chain, deployment.address("OrganisationRegistry"))
    outsider = Account.create()
    chain.send_value(outsider.address, 10**18)
    stranger = AnchorRegistryClient(chain.with_account(outsider), registry.address)
    seen: list[tuple[int, int, str]] = []

    def record(session: Any, ev: DecodedEvent, block: BlockRef) -> None:
        seen.append((ev.block_number, ev.log_index, ev.name))

    indexer = _indexer(
        db_engine,
        chain,
        deployment,
        [
            ContractHandlers(
                "AnchorRegistry",
                {"Anchored": record},
                topics=registry.anchored_topics(chain.address),
            ),
            ContractHandlers("OrganisationRegistry", dict.fromkeys(org_registry.EVENTS, record)),
        ],
        span=64,
    )
    assert len(indexer.queries) == 2
    first = registry.anchor_root(keccak(text="merge-1"), 1)
    stranger.anchor_root(keccak(text="merge-stranger"), 1)
    orgs.register(
        org_id_for("merge-order"), OrganisationInput("Merge Order Ltd", "VN", "", Role.CARRIER)
    )
    last = registry.anchor_root(keccak(text="merge-2"), 1)
    indexer.step()
    assert seen == sorted(seen)
    names = [name for _, _, name in seen]
    assert names[0] == names[-1] == "Anchored"
    assert names.count("Anchored") == 2  # the stranger's is left out by the node
    assert {seen[0][0], seen[-1][0]} == {first.block_number, last.block_number}
    assert len(names) > 2  # the organisation's events, between the two anchors


def test_handler_sets_of_one_contract_must_ask_the_same_topics(
    chain: ChainClient, deployment: Deployment, db_engine: Engine
) -> None:
    registry = AnchorRegistryClient(chain, deployment.address("AnchorRegistry"))
    with pytest.raises(ValueError, match="AnchorRegistry ask different topics"):
        _indexer(
            db_engine,
            chain,
            deployment,
            [
                anchor_handlers(chain, deployment),
                ContractHandlers("AnchorRegistry", {}, topics=registry.anchored_topics(ZERO)),
            ],
            span=8,
        )
