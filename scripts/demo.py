"""Serve Waymark and seed the member-day story: ``make demo [PORT=8000] [HOST=127.0.0.1]``.

The server answers ``/health`` first (``status: starting``) and compiles and
deploys the contracts behind it, on the in-process eth-tester chain (the
default) or on a private anvil node (``--chain anvil``: a JSON-RPC node that
the printed proof-verification command can talk to). The scenario
(backend/demo/scenario.py) then runs through the HTTP API in the background,
one progress line per step, and a one-line summary is followed by every URL
worth opening (backend/demo/links.py) with the demo organisations' API keys.
Development only: chain and database are created fresh on every start.
"""

import argparse
import os
import sys
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Nothing heavy before the port answers: the service is imported inside main().
from backend.startup import EarlyListener

DEMO_DB = "var/demo.sqlite3"


def wait_ready(base: str, timeout: float = 300.0) -> None:
    """Until /health says the contracts are deployed (``ok``); raise on a failed start."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"{base}/health", timeout=2).json()
            if health.get("startup") == "failed":
                raise RuntimeError(f"start-up failed: {health.get('startup_error')}")
            if health.get("status") == "ok":
                return
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{base}/health did not report ok within {timeout:g} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--chain", choices=("tester", "anvil"), default="tester")
    parser.add_argument("--no-seed", action="store_true", help="Serve without the scenario.")
    args = parser.parse_args()
    listener = EarlyListener(args.host, args.port, chain_backend=args.chain)
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
    base = f"http://{shown_host}:{args.port}"
    print(f"Waymark demo on {base}: /health answers while the service loads", flush=True)

    import httpx
    import uvicorn

    from backend.chain import ChainClient, make_chain
    from backend.chain.anvil import AnvilNode, free_port
    from backend.chain.compiler import compile_contracts
    from backend.chain.deployments import Deployment
    from backend.config import get_settings
    from backend.demo.inbox import WebhookInbox
    from backend.demo.links import demo_links, render, summary_line
    from backend.demo.scenario import Scenario
    from backend.deps import context_of
    from backend.main import create_app, prepare_deployment

    node: AnvilNode | None = None
    if args.chain == "anvil":
        # A block every second keeps the chain's clock with the wall clock (``make anvil``).
        node = AnvilNode(port=free_port(), block_time=1.0).start()
        os.environ["WAYMARK_CHAIN_BACKEND"] = "anvil"
        os.environ["WAYMARK_RPC_URL"] = node.url
    else:
        os.environ["WAYMARK_CHAIN_BACKEND"] = "tester"
    os.environ.setdefault("WAYMARK_DATABASE_URL", f"sqlite:///./{DEMO_DB}")
    # A demo relays one write after another: poll the queue and the chain briskly.
    os.environ.setdefault("WAYMARK_ANCHOR_INTERVAL_SECONDS", "0.05")
    os.environ.setdefault("WAYMARK_INDEXER_INTERVAL_SECONDS", "0.25")
    # The keeper settles the story's late purchase agreement while the rest is seeded.
    os.environ.setdefault("WAYMARK_WEBHOOK_WATCH_INTERVAL_SECONDS", "2")
    os.environ.setdefault("WAYMARK_RATE_LIMIT_PER_SECOND", "500")
    os.environ.setdefault("WAYMARK_RATE_LIMIT_BURST", "2000")
    os.environ.setdefault("WAYMARK_PUBLIC_BASE_URL", base)
    get_settings.cache_clear()
    settings = get_settings()
    if settings.database_url.endswith(DEMO_DB):
        # The chain starts empty on every run; so does its database.
        Path(DEMO_DB).parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(DEMO_DB + suffix).unlink(missing_ok=True)
    chain = make_chain(settings)

    def prepare(client: ChainClient) -> Deployment:
        compile_contracts()
        return prepare_deployment(client, settings)

    app = create_app(settings, chain, prepare=prepare)

    # The seller's webhook subscription delivers here (signed, checked on listing).
    inbox = WebhookInbox()
    inbox.start()

    def seed() -> None:
        try:
            wait_ready(base)
            print("Contracts deployed; seeding the member-day story through the API:", flush=True)
            started = time.perf_counter()
            with httpx.Client(base_url=base, timeout=30) as http:
                result = Scenario(
                    http=http,
                    chain=chain,
                    deployment=context_of(app).loaded().deployment,
                    admin_token=settings.admin_token.get_secret_value(),
                    log=lambda msg: print(f"  {msg}", flush=True),
                    webhook_url=inbox.url,
                ).run()
            inbox.secret = result.webhook_secret
            links = demo_links(
                app, base=base, result=result, rpc_url=node.url if node else None, inbox=inbox.url
            )
            print(summary_line(result, time.perf_counter() - started), flush=True)
            print(render(links, result=result), flush=True)
        except Exception:
            print("demo seeding failed:", flush=True)
            traceback.print_exc()

    node_text = f", node {node.url}" if node else ""
    print(f"Service loaded  (chain: {settings.chain_backend}{node_text})")
    print(f"  health    {base}/health")
    print(f"  API docs  {base}/docs")
    print(f"  database  {settings.database_url}", flush=True)
    if not args.no_seed:
        print("Compiling and deploying the contracts in the background…", flush=True)
        threading.Thread(target=seed, name="demo-seed", daemon=True).start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    try:
        server.run(sockets=[listener.handover()])
    finally:
        if node is not None:
            node.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
