"""Serve Waymark on 127.0.0.1:8000 over the in-process chain and seed the member-day story.

The service answers /health as soon as it is up; the scenario (backend/demo/scenario.py)
is then driven through the HTTP API in the background, and when it is done the
script prints the QR page, proof and dashboard URLs with the demo seller's API
key (development only: everything is created fresh on every start).
"""

import argparse
import os
import sys
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import uvicorn

from backend.chain import make_chain
from backend.chain.compiler import compile_contracts
from backend.config import get_settings
from backend.demo.inbox import WebhookInbox
from backend.demo.scenario import GTIN, LOT, DemoResult, Scenario
from backend.main import create_app, prepare_deployment

DEMO_DB = "var/demo.sqlite3"


def wait_healthy(base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{base}/health did not answer within {timeout:g} s")


def print_urls(
    base: str,
    result: DemoResult,
    seconds: float,
    routes: set[str],
    inbox: WebhookInbox | None = None,
) -> None:
    """The URLs of the seeded story (consumer pages only where this build serves them)."""
    pid = result.passport_id
    lines = [f"Demo seeded in {seconds:.1f} s."]
    if "/01/{rest:path}" in routes:
        lines.append(f"  QR page (bamboo tableware lot): {base}/01/{GTIN}/10/{LOT}")
    if "/qr/01/{rest:path}" in routes:
        lines.append(f"  QR code image:                  {base}/qr/01/{GTIN}/10/{LOT}.svg")
    if "/proof-bundle/{passport_id}.json" in routes:
        lines.append(f"  proof bundle (verify offline):  {base}/proof-bundle/{pid}.json")
    lines += [
        f"  passport (JSON):                {base}/v1/passports/{pid}",
        f"  proof of a supply event:        {base}/v1/proofs/{result.event_digests[0]}",
        f"  seller dashboard:               {base}/dashboard",
        f"  Hearth & Grove seller API key:  {result.seller_key}",
        f"    (sign in at {base}/dashboard/login, or send it as 'Authorization: Bearer …')",
        "  other organisations' API keys:",
    ]
    lines += [
        f"    {org.slug:15} {org.api_key}"
        for org in result.orgs.values()
        if org.slug != "hearth-grove"
    ]
    if result.label_sscc:
        lines += [
            f"  shipment label (print, A6):     {base}/labels/00/{result.label_sscc}",
            f"  tracking page its QR opens:     {base}/00/{result.label_sscc}",
        ]
    if inbox is not None and result.webhook_subscription:
        lines += [
            f"  webhook receiver (deliveries):  {inbox.url}",
            f"    delivery log: GET /v1/webhooks/subscriptions/{result.webhook_subscription}"
            "/deliveries with the seller API key",
        ]
    print("\n".join(lines), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-seed", action="store_true", help="Serve without the scenario.")
    args = parser.parse_args()
    os.environ.setdefault("WAYMARK_CHAIN_BACKEND", "tester")
    os.environ.setdefault("WAYMARK_DATABASE_URL", f"sqlite:///./{DEMO_DB}")
    # A demo relays one write after another: poll the queue and the chain briskly.
    os.environ.setdefault("WAYMARK_ANCHOR_INTERVAL_SECONDS", "0.05")
    os.environ.setdefault("WAYMARK_INDEXER_INTERVAL_SECONDS", "0.25")
    os.environ.setdefault("WAYMARK_RATE_LIMIT_PER_SECOND", "500")
    os.environ.setdefault("WAYMARK_RATE_LIMIT_BURST", "2000")
    base = f"http://{args.host}:{args.port}"
    os.environ.setdefault("WAYMARK_PUBLIC_BASE_URL", base)
    compile_contracts()
    settings = get_settings()
    if settings.chain_backend == "tester" and settings.database_url.endswith(DEMO_DB):
        # The in-process chain starts empty on every run; so does its database.
        Path(DEMO_DB).parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(DEMO_DB + suffix).unlink(missing_ok=True)
    chain = make_chain(settings)
    deployment = prepare_deployment(chain, settings)
    app = create_app(settings, chain, deployment=deployment)

    # The seller's webhook subscription delivers here (signed, checked on listing).
    inbox = WebhookInbox()
    inbox.start()

    def seed() -> None:
        try:
            wait_healthy(base)
            started = time.perf_counter()
            with httpx.Client(base_url=base, timeout=30) as http:
                result = Scenario(
                    http=http,
                    chain=chain,
                    deployment=deployment,
                    admin_token=settings.admin_token.get_secret_value(),
                    log=lambda msg: print(f"  {msg}", flush=True),
                    webhook_url=inbox.url,
                ).run()
            inbox.secret = result.webhook_secret
            routes = {str(getattr(r, "path", "")) for r in app.routes}
            print_urls(base, result, time.perf_counter() - started, routes, inbox)
        except Exception:
            print("demo seeding failed:", flush=True)
            traceback.print_exc()

    print(f"Waymark demo on {base}  (chain backend: {settings.chain_backend})")
    print(f"  health:   {base}/health")
    print(f"  API docs: {base}/docs")
    print(f"  database: {settings.database_url}", flush=True)
    if not args.no_seed:
        print("  seeding the member-day scenario in the background…", flush=True)
        threading.Thread(target=seed, name="demo-seed", daemon=True).start()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
