"""``waymark proof``: fetch a proof, and verify it against any JSON-RPC node."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from backend.cli.common import api_opt, write_json
from backend.cli.output import Output

if TYPE_CHECKING:
    from backend.qr.bundle.verify import Report

# The verifier (eth-abi, the signature checks) and the HTTP client are imported
# inside the commands, so ``waymark proof verify --help`` answers at once.


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
    from backend.cli.client import Api

    data = Api(api, None).get(f"/v1/proofs/{ref}")
    if out_path is None:
        write_json(None, data)
        return
    write_json(out_path, data)
    out.emit({"file": str(out_path), "digest": data.get("digest")})


@proof.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--rpc", required=True, help="JSON-RPC URL of a node of the chain.")
@click.option(
    "--trust",
    default=None,
    help="Trust manifest (deployments/<chainId>.json format): a file or an http(s) URL. "
    "Default: the manifest shipped in deployments/ for the node's chain.",
)
@click.option(
    "--confirmations",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Blocks an anchoring transaction needs (its own included).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict and checks as JSON.")
@click.pass_obj
def verify(
    out: Output, bundle: Path, rpc: str, trust: str | None, confirmations: int, as_json: bool
) -> None:
    """Verify a proof bundle against a node, trusting only the manifest you name.

    BUNDLE is a product's proof bundle (waymark-proof-bundle/3) or a
    ``GET /v1/proofs/{ref}`` answer (``waymark proof fetch``). No address or
    chain id is taken from it: they come from the trust manifest.

    Exit status: 0 VALID, 1 INVALID, 2 could not check, 3 SUPERSEDED,
    4 RECALLED, 5 REVOKED.
    """
    from backend.cli.chainio import verifier_rpc
    from backend.qr.bundle.verify import (
        EXIT_CODES,
        CouldNotCheck,
        RpcError,
        Trust,
        Verdict,
        verify_bundle,
        verify_proof,
    )

    as_json = as_json or out.as_json
    rpc_call = verifier_rpc(rpc)
    try:
        data = _load_bundle(bundle)
        anchors = Trust.from_manifest(_load_trust(trust, rpc_call))
    except CouldNotCheck as exc:
        _unchecked(str(exc), as_json)
    except RpcError as exc:
        _unchecked(f"node {rpc} refused eth_chainId: {exc}", as_json)
    if "format" in data or "event" not in data:
        report = verify_bundle(data, rpc_call, anchors, confirmations=confirmations)
    else:
        report = verify_proof(data, rpc_call, anchors, confirmations=confirmations)
    verdict = report.verdict
    if verdict is Verdict.UNCHECKED:
        _unchecked(report.problem or "nothing to check", as_json)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        click.echo("\n".join(_text(report)))
    sys.exit(EXIT_CODES[verdict])


def _text(report: Report) -> list[str]:
    lines = []
    for c in report.checks:
        item = (
            f" [{c.item[:10]}…]"
            if c.item and c.item.startswith("0x")
            else (f" [{c.item}]" if c.item else "")
        )
        lines.append(f"{'ok    ' if c.ok else 'FAILED'}  {c.id}{item}  {c.detail}")
    if report.organisation:
        lines.append(f"issued by: {report.organisation} (per OrganisationRegistry)")
    if report.passport_status is not None:
        current = f", current version {report.current_version}" if report.current_version else ""
        lines.append(f"passport status: {report.passport_status}{current}")
    lines.append(f"verdict: {report.verdict.value}")
    return lines


def _unchecked(message: str, as_json: bool) -> NoReturn:
    """Could not check: one line on stderr (and the verdict as JSON with --json), exit 2."""
    from backend.qr.bundle.verify import EXIT_CODES, Verdict

    if as_json:
        click.echo(json.dumps({"verdict": Verdict.UNCHECKED.value, "problem": message}))
    click.echo(f"could not check: {message}", err=True)
    sys.exit(EXIT_CODES[Verdict.UNCHECKED])


def _load_bundle(path: Path) -> dict[str, Any]:
    from backend.qr.bundle.verify import CouldNotCheck

    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise CouldNotCheck(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise CouldNotCheck(f"{path} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CouldNotCheck(f"{path} is not a proof bundle (not a JSON object)")
    return data


def _load_trust(trust: str | None, rpc_call: Any) -> Any:
    """The trust manifest the user named, else the one shipped for the node's chain."""
    import httpx

    from backend.chain.deployments import manifest_path
    from backend.qr.bundle.verify import CouldNotCheck

    if trust is None:
        try:
            chain_id = int(rpc_call("eth_chainId", []), 16)
        except (TypeError, ValueError) as exc:
            raise CouldNotCheck(f"node answered eth_chainId with nonsense: {exc}") from exc
        path = manifest_path(chain_id)
        if not path.is_file():
            raise CouldNotCheck(
                f"no trust manifest: none is shipped for chain {chain_id}; pass --trust FILE|URL"
            )
        trust = str(path)
    if trust.startswith(("http://", "https://")):
        try:
            response = httpx.get(trust, timeout=15, follow_redirects=False)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise CouldNotCheck(f"cannot fetch the trust manifest {trust}: {exc}") from exc
    try:
        return json.loads(Path(trust).read_bytes())
    except OSError as exc:
        raise CouldNotCheck(f"cannot read the trust manifest {trust}: {exc.strerror}") from exc
    except ValueError as exc:
        raise CouldNotCheck(f"the trust manifest {trust} is not JSON: {exc}") from exc
