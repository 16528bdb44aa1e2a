"""``waymark proof``: fetch a proof, and verify it against any JSON-RPC node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from backend.cli.chainio import json_rpc
from backend.cli.client import Api
from backend.cli.common import api_opt, fail, read_json, write_json
from backend.cli.output import Output
from backend.qr.bundle import BUNDLE_FORMAT, verify_bundle, verify_proof


@click.group()
def proof() -> None:
    """Fetch and independently verify proofs of signed, anchored events."""


@proof.command("fetch")
@click.argument("ref")
@api_opt
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.pass_obj
def fetch(out: Output, ref: str, api: str, out_path: Path | None) -> None:
    """Download the public proof of an event (by digest or event id)."""
    data = Api(api, None).get(f"/v1/proofs/{ref}")
    if out_path is None:
        write_json(None, data)
        return
    write_json(out_path, data)
    out.emit({"file": str(out_path), "digest": data.get("digest")})


@proof.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--rpc", required=True, help="JSON-RPC URL of a node you trust.")
@click.pass_obj
def verify(out: Output, bundle: Path, rpc: str) -> None:
    """Verify a proof without the Waymark server: signature, Merkle path, on-chain anchor.

    BUNDLE is a product page's proof bundle (waymark-proof-bundle/1) or a
    ``GET /v1/proofs/{ref}`` response (``waymark proof fetch``).

    Exits 0 when every check passes, 2 otherwise.
    """
    data: Any = read_json(bundle)
    if not isinstance(data, dict):
        fail(f"{bundle} is not a proof object")
    bundle_format = data.get("format") == BUNDLE_FORMAT
    try:
        report = (
            verify_bundle(data, json_rpc(rpc))
            if bundle_format
            else verify_proof(data, json_rpc(rpc))
        )
    except (KeyError, ValueError, TypeError) as exc:
        fail(f"malformed proof{' bundle' if bundle_format else ''}: {exc}")
    if bundle_format:
        rows = [{"check": c.name, "ok": c.ok, "detail": c.detail} for c in report.checks]
        text = [f"{'ok    ' if c.ok else 'FAILED'}  {c.name}  {c.detail}" for c in report.checks]
        out.emit(
            {"valid": report.ok, "passport_status": report.passport_status, "checks": rows},
            "\n".join([*text, "valid" if report.ok else "INVALID"]),
        )
        if not report.ok:
            failed = report.failures()
            fail("; ".join(f"{c.name}: {c.detail}" for c in failed) or "bundle is empty")
        return
    problems = [c.detail for c in report.failures()]
    summary = {
        "valid": report.ok,
        "checks": {c.name: c.ok for c in report.checks},
        "problems": problems,
    }
    lines = [f"{c.name:16} {'ok' if c.ok else 'FAILED'}" for c in report.checks]
    out.emit(summary, "\n".join([*lines, "valid" if report.ok else "INVALID"]))
    if not report.ok:
        fail("; ".join(problems) or "proof does not verify")
