"""Run the relay worker with anchoring (and optionally the indexer) as its own process.

Reads the same WAYMARK_* settings as the API (database URL, chain backend, RPC
URL, relayer key). Several workers may run against one database: they claim
outbox rows with row locks (PostgreSQL) or an atomic lease (SQLite).
The AnchorRegistry address comes from ``--registry`` or the chain's
deployment manifest (deployments/<chainId>.json).
"""

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.anchoring.service import requeue_failed
from backend.anchoring.worker import AnchorWorker
from backend.chain import ChainClient, ChainUnavailable, make_chain
from backend.chain import deployments as deployments_mod
from backend.config import get_settings
from backend.db import migrate
from backend.db.engine import make_engine, make_sessionmaker
from backend.indexer.service import Indexer
from backend.qr.cache import PageSource
from backend.qr.cache import on_indexed as refresh_pages
from backend.relayer.worker import RelayWorker
from backend.wiring import domain_relay_handlers, indexer_handlers


def _wait_for_chain(chain: ChainClient, max_delay: float = 30.0) -> None:
    """Block until the node answers: a worker started during a node outage waits it out."""
    delay = 0.5
    while True:
        try:
            chain.chain_id  # noqa: B018 - the first RPC call; cached afterwards
            return
        except ChainUnavailable as exc:
            logging.getLogger("anchor_worker").warning(
                "chain unreachable (%s); retrying in %.1f s", exc, delay
            )
            time.sleep(delay)
            delay = min(delay * 2, max_delay)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registry", help="AnchorRegistry address (default: from the manifest)")
    parser.add_argument("--indexer", action="store_true", help="also run the chain indexer")
    parser.add_argument("--migrate", action="store_true", help="upgrade the schema first")
    parser.add_argument(
        "--requeue-failed",
        action="store_true",
        help="send the events of failed batches back to pending, then exit",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    chain = make_chain(settings)
    _wait_for_chain(chain)
    engine = make_engine(settings.database_url)
    if args.migrate:
        migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    if args.requeue_failed:
        with sessions() as session:
            print(f"re-queued {requeue_failed(session)} events", flush=True)
        return 0
    # The indexer follows the manifest's contracts: with --indexer the manifest is read
    # even beside --registry (a missing one is an error, not an indexer left out).
    need_manifest = args.indexer or not args.registry
    deployment = deployments_mod.load(chain.chain_id) if need_manifest else None
    if deployment is not None:
        deployments_mod.require_anchorer(deployment, chain.address)
    registry = args.registry or deployment.address("AnchorRegistry")  # type: ignore[union-attr]
    relay = RelayWorker(
        sessions=sessions, chain=chain, settings=settings, handlers=domain_relay_handlers(chain)
    )
    AnchorWorker(sessions=sessions, chain=chain, registry=registry, settings=settings, relay=relay)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    indexer = None
    if args.indexer:
        assert deployment is not None
        indexer = Indexer(
            sessions=sessions,
            chain=chain,
            deployment=deployment,
            handlers=indexer_handlers(chain, deployment),
            settings=settings,
        )
        # the consumer pages a round changed are recomputed here, as in the app
        source = PageSource(chain.chain_id, deployment, settings.public_base_url)
        indexer.subscribe(refresh_pages(sessions, source))
        indexer.start()
    relay.start()
    print(f"anchor worker {relay.owner} on chain {chain.chain_id}, registry {registry}", flush=True)
    stop.wait()
    relay.stop()
    if indexer is not None:
        indexer.stop()
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
