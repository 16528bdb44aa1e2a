"""Shared plumbing for benchmarks that run the service: uvicorn, an organisation, signed events.

Not a benchmark itself (``bench/report.py`` skips it).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from coincurve import PrivateKey
from eth_account import Account

from backend.chain.anvil import free_port
from backend.chain.typed_data.events import (
    events_domain,
    hash_supply_event,
    location_bytes,
    supply_event_digest,
)
from bench.common import ROOT

TOKEN = "bench-operator-token"  # noqa: S105 - a throwaway server's operator token


def serve(
    env: dict[str, str], timeout: float = 90.0, *, port: int | None = None, proxied: bool = False
) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn with the app on a loopback port (a free one by default).

    ``env`` adds WAYMARK_* settings; ``proxied`` trusts the X-Forwarded-For of a
    load balancer on loopback for the client address.
    """
    port = port or free_port()
    full = {
        **os.environ,
        "WAYMARK_ADMIN_TOKEN": TOKEN,
        "WAYMARK_INDEXER_ENABLED": "false",
        "WAYMARK_RATE_LIMIT_PER_SECOND": "1000000",
        "WAYMARK_RATE_LIMIT_BURST": "1000000",
        **env,
    }
    full.pop("WAYMARK_FAULT", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "backend.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            *(["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"] if proxied else []),
        ],
        cwd=ROOT,
        env=full,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/livez", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class BenchOrg:
    slug: str
    writer: dict[str, str]
    admin: dict[str, str]


def make_org(client: httpx.Client, slug: str, signer: str) -> BenchOrg:
    """An organisation with a writer key and ``signer`` registered since 2020."""
    op = {"Authorization": f"Bearer {TOKEN}"}
    org = client.post("/v1/orgs", json={"slug": slug, "name": slug.title()}, headers=op)
    org.raise_for_status()
    admin = {"Authorization": f"Bearer {org.json()['admin_key']['key']}"}
    key = client.post(f"/v1/orgs/{slug}/api-keys", json={"scopes": ["carrier"]}, headers=admin)
    key.raise_for_status()
    client.post(
        f"/v1/orgs/{slug}/signers",
        json={"address": signer},
        headers=admin,
    ).raise_for_status()
    return BenchOrg(slug, {"Authorization": f"Bearer {key.json()['key']}"}, admin)


def run_worker(
    rpc_url: str,
    database_url: str,
    registry: str,
    *,
    extra: dict[str, str] | None = None,
    stdout: int = subprocess.DEVNULL,
    indexer: bool = False,
) -> subprocess.Popen[bytes]:
    """``scripts/anchor_worker.py`` as its own process (output discarded unless piped);
    ``indexer`` runs the chain indexer in it too (``serve`` starts the app without one),
    which records each proof's verification when its anchor is indexed."""
    env = {
        **os.environ,
        "WAYMARK_CHAIN_BACKEND": "anvil",
        "WAYMARK_RPC_URL": rpc_url,
        "WAYMARK_DATABASE_URL": database_url,
        **(extra or {}),
    }
    env.pop("WAYMARK_FAULT", None)
    return subprocess.Popen(
        [
            sys.executable,
            str(Path("scripts") / "anchor_worker.py"),
            "--registry",
            registry,
            *(["--indexer"] if indexer else []),
        ],
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=subprocess.DEVNULL,
    )


class EventSigner:
    """One signer key producing distinct signed SupplyEvents for a chain's events domain."""

    def __init__(self, chain_id: int, registry: str) -> None:
        acct = Account.create()
        self.address: str = acct.address
        self._key = PrivateKey(bytes(acct.key))
        self._sep = events_domain(chain_id, registry).separator
        self._loc = location_bytes("NLRTM")

    def batch_body(self, n: int) -> tuple[bytes, list[str]]:
        """A ``/v1/events/batch`` body of ``n`` fresh events, and their digests (0x-hex)."""
        now = int(time.time()) - 60
        items, digests = [], []
        for _ in range(n):
            eid, subject, payload = (secrets.token_bytes(32) for _ in range(3))
            digest = supply_event_digest(
                self._sep, hash_supply_event(eid, subject, 3, now, self._loc, payload)
            )
            sig = self._key.sign_recoverable(digest, hasher=None)
            sig = sig[:64] + bytes([sig[64] + 27])
            digests.append("0x" + digest.hex())
            items.append(
                f'{{"eventId":"0x{eid.hex()}","subject":"0x{subject.hex()}","kind":3,'
                f'"occurredAt":{now},"location":"NLRTM","payloadHash":"0x{payload.hex()}",'
                f'"signature":"0x{sig.hex()}"}}'
            )
        return ('{"events":[' + ",".join(items) + "]}").encode(), digests
