"""``waymark event``: sign supply events (EIP-712 ``SupplyEvent``) offline and post them.

A signed event is the ``POST /v1/events`` body itself; a file holds one or
``{"events": [...]}`` (posted to ``/v1/events/batch``, each answered on its own).
The domain is ``Waymark Events`` version ``1`` on the anchoring chain, with the
``AnchorRegistry`` as ``verifyingContract``: given offline with ``--chain-id``
and ``--anchor-registry``, else read from the service's ``/health``.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import click

from backend.chain import eip712
from backend.chain.eip712 import Domain
from backend.chain.typed_data.events import SUPPLY_EVENT, EventKind, events_domain, location_bytes
from backend.cli.chainio import chain_now
from backend.cli.client import Api
from backend.cli.common import api_key_opt, api_opt, fail, parse_time, read_json
from backend.cli.common import write_json as write_out
from backend.cli.keys import load_account, password_opt
from backend.cli.milestones import file_digest
from backend.cli.output import Output
from backend.common.types import parse_hex

KINDS = ", ".join(k.name for k in EventKind)


def _domain(chain_id: int | None, anchor_registry: str | None, api: str) -> Domain:
    if chain_id is not None and anchor_registry is not None:
        return events_domain(chain_id, anchor_registry)
    if chain_id is not None or anchor_registry is not None:
        fail("give both --chain-id and --anchor-registry, or neither (to read them from --api)")
    health = Api(api, None).get("/health")
    info = (health.get("contracts") or {}).get("AnchorRegistry")
    if not info or health.get("chain_id") is None:
        fail(f"{api}/health does not list the AnchorRegistry or a chain id")
    return events_domain(int(health["chain_id"]), str(info["address"]))


def _kind(value: str) -> EventKind:
    text = value.strip().upper().replace("-", "_")
    if text.isdigit() and int(text) in {int(k) for k in EventKind}:
        return EventKind(int(text))
    if text in EventKind.__members__:
        return EventKind[text]
    fail(f"--kind {value!r}: not an event kind ({KINDS})")


def _bytes32(value: str, what: str) -> bytes:
    try:
        return parse_hex(value, what, 32)
    except ValueError as exc:
        fail(str(exc))


@click.group()
def event() -> None:
    """Sign supply events offline and post them (anchored in the next Merkle batch)."""


@event.command("sign")
@click.option("--keystore", type=click.Path(path_type=Path, dir_okay=False), required=True)
@password_opt
@click.option("--subject", required=True, help="Shipment id or passport id (0x + 64 hex).")
@click.option("--kind", "kind_text", required=True, help=f"{KINDS} or its number.")
@click.option("--occurred-at", default=None, help="Unix seconds, ISO 8601, now (default), +N.")
@click.option("--location", required=True, help="UN/LOCODE, e.g. NLRTM.")
@click.option(
    "--payload",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="File whose SHA-256 is the payload hash (a reading, a scan, a photo).",
)
@click.option("--payload-hash", default=None, help="0x + 64 hex (default: 32 zero bytes).")
@click.option("--event-id", default=None, help="0x + 64 hex (default: random).")
@click.option("--chain-id", type=int, default=None, help="Chain id of the anchoring chain.")
@click.option("--anchor-registry", default=None, help="AnchorRegistry address (offline).")
@click.option("--rpc", default=None, help="JSON-RPC URL whose clock `now` and +N count from.")
@api_opt
@api_key_opt
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option("--submit", is_flag=True, help="Post it to the API right away.")
@click.pass_obj
def sign(
    out: Output,
    keystore: Path,
    password_file: Path | None,
    subject: str,
    kind_text: str,
    occurred_at: str | None,
    location: str,
    payload: Path | None,
    payload_hash: str | None,
    event_id: str | None,
    chain_id: int | None,
    anchor_registry: str | None,
    rpc: str | None,
    api: str,
    api_key: str | None,
    out_path: Path | None,
    submit: bool,
) -> None:
    """Sign one supply event; print it, write it to --out, or --submit it."""
    if payload is not None and payload_hash is not None:
        fail("give --payload or --payload-hash, not both")
    code = location.replace(" ", "").upper()
    if not (2 <= len(code) <= 8 and code.isascii() and code.isalnum()):
        fail(f"--location {location!r}: a UN/LOCODE is letters and digits, e.g. NLRTM")
    now = chain_now(rpc)
    message: dict[str, Any] = {
        "eventId": _bytes32(event_id, "--event-id") if event_id else secrets.token_bytes(32),
        "subject": _bytes32(subject, "--subject"),
        "kind": int(_kind(kind_text)),
        "occurredAt": parse_time(occurred_at, default=now, now=now),
        "location": location_bytes(code),
        "payloadHash": (
            file_digest(payload)
            if payload is not None
            else _bytes32(payload_hash, "--payload-hash")
            if payload_hash
            else bytes(32)
        ),
    }
    domain = _domain(chain_id, anchor_registry, api)
    account = load_account(keystore, password_file)
    signature = eip712.sign(account.key, domain, SUPPLY_EVENT, message)
    body = {
        "eventId": "0x" + message["eventId"].hex(),
        "subject": "0x" + message["subject"].hex(),
        "kind": message["kind"],
        "occurredAt": message["occurredAt"],
        "location": code,
        "payloadHash": "0x" + message["payloadHash"].hex(),
        "signature": "0x" + signature.hex(),
    }
    if submit:
        out.emit(Api(api, api_key).post("/v1/events", body))
        return
    write_out(out_path, body)
    if out_path is not None:
        out.emit({"signed": 1, "signer": account.address, "file": str(out_path)})


@event.command("submit")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@api_opt
@api_key_opt
@click.pass_obj
def submit(out: Output, file: Path, api: str, api_key: str | None) -> None:
    """Post signed events: one (``/v1/events``) or ``{"events": [...]}`` (``/v1/events/batch``)."""
    data: Any = read_json(file)
    if isinstance(data, dict) and "events" in data:
        result = Api(api, api_key).post("/v1/events/batch", {"events": data["events"]})
        out.emit(result)
        if result.get("rejected"):
            first = next(r for r in result["results"] if r["status"] == "rejected")
            fail(
                f"{result['rejected']} of {len(result['results'])} events rejected; "
                f"event {first['index']}: {first.get('detail') or first.get('error')}"
            )
        return
    if not isinstance(data, dict):
        fail(f'{file} holds neither a signed event nor {{"events": [...]}}')
    out.emit(Api(api, api_key).post("/v1/events", data))
