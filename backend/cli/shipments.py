"""``waymark shipment create``: the seller signs ``CreateShipment`` with its keystore.

The terms and the manifest they commit to (``keccak256`` of its RFC 8785 JSON)
go to ``POST /v1/shipments``, which relays them; ``--wait`` follows the relay.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from backend.chain.typed_data import shipments as td
from backend.cli.chainio import chain_now, read_nonce
from backend.cli.client import Api, resolve_domain
from backend.cli.common import (
    ADDRESS,
    TIME_FORMS,
    api_key_opt,
    api_opt,
    fail,
    parse_time,
    read_json,
    to_json,
)
from backend.cli.keys import load_account, password_opt
from backend.cli.milestones import DEFAULT_VALIDITY
from backend.cli.output import Output
from backend.common.types import to_hex
from backend.shipments.messages import manifest_document, manifest_hash
from backend.shipments.schemas import ManifestIn

SLA_KEYS = {
    "picked_up_by": "pickedUpBy",
    "export_cleared_by": "exportClearedBy",
    "departed_by": "departedBy",
    "arrived_by": "arrivedBy",
    "import_cleared_by": "importClearedBy",
    "delivered_by": "deliveredBy",
}


@click.group()
def shipment() -> None:
    """Create shipments signed by the seller's key."""


@shipment.command("create")
@click.option("--keystore", type=click.Path(path_type=Path, dir_okay=False), required=True)
@password_opt
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="Manifest JSON: {transportMode, lines: [{gtin, lot?, serial?, quantity}], sscc?}.",
)
@click.option("--origin", required=True, help="UN/LOCODE, e.g. VNSGN.")
@click.option("--destination", required=True, help="UN/LOCODE, e.g. USLAX.")
@click.option(
    "--carrier", "carriers", multiple=True, required=True, type=ADDRESS, help="Carrier address."
)
@click.option("--customs-broker", type=ADDRESS, default=None)
@click.option("--warehouse", type=ADDRESS, default=None)
@click.option(
    "--consignee", type=ADDRESS, default=None, help="Signs the proof of delivery when named."
)
@click.option("--weight-grams", type=click.IntRange(0, 2**64 - 1), required=True)
@click.option("--pieces", type=click.IntRange(0, 2**32 - 1), required=True)
@click.option("--tolerance-bps", type=click.IntRange(0, 10_000), default=200, show_default=True)
@click.option(
    "--sla",
    "sla_items",
    multiple=True,
    metavar="MILESTONE=TIME",
    help=f"A deadline, e.g. picked_up_by=+86400 ({TIME_FORMS}); repeatable.",
)
@click.option("--reference", default=None, help="Your reference (hashed into the id).")
@click.option("--nonce", type=int, default=None, help="Seller's next nonce (else via --rpc).")
@click.option("--rpc", default=None, help="JSON-RPC URL: the nonce and the chain's clock.")
@click.option("--deadline", default=None, help="Signature valid until (default: 7 days).")
@api_opt
@api_key_opt
@click.option(
    "--wait", is_flag=True, help="Wait until the shipment is mined and shows in the service."
)
@click.pass_obj
def create(
    out: Output,
    keystore: Path,
    password_file: Path | None,
    manifest_path: Path,
    origin: str,
    destination: str,
    carriers: tuple[str, ...],
    customs_broker: str | None,
    warehouse: str | None,
    consignee: str | None,
    weight_grams: int,
    pieces: int,
    tolerance_bps: int,
    sla_items: tuple[str, ...],
    reference: str | None,
    nonce: int | None,
    rpc: str | None,
    deadline: str | None,
    api: str,
    api_key: str | None,
    wait: bool,
) -> None:
    """Sign a shipment's terms as the seller and submit them with the manifest."""
    try:
        manifest = manifest_document(ManifestIn.model_validate(read_json(manifest_path)))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        fail(f"{manifest_path}: {where}: {first['msg']}")
    now = chain_now(rpc)
    sla: dict[str, int] = {}
    for item in sla_items:
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in SLA_KEYS:
            fail(f"--sla {item!r}: give MILESTONE=TIME with one of {', '.join(SLA_KEYS)}")
        sla[key.strip()] = parse_time(value, now=now)
    domain = resolve_domain("ShipmentRegistry", chain_id=None, address=None, api=api)
    account = load_account(keystore, password_file)
    if nonce is None:
        if rpc is None:
            fail("give --nonce or --rpc to read the seller's next nonce")
        nonce = read_nonce(rpc, "ShipmentRegistry", domain.verifying_contract, account.address)
    ref = reference if reference is not None else os.urandom(12)
    try:
        terms = td.shipment_terms(
            shipment_id=td.shipment_id(account.address, ref),
            seller=account.address,
            origin=origin,
            destination=destination,
            declared_weight_grams=weight_grams,
            piece_count=pieces,
            weight_tolerance_bps=tolerance_bps,
            manifest_hash=manifest_hash(manifest),
            carriers=list(carriers),
            warehouse=warehouse or td.ZERO_ADDRESS,
            customs_broker=customs_broker or td.ZERO_ADDRESS,
            consignee=consignee or td.ZERO_ADDRESS,
            sla=td.service_level(**sla),
        )
    except ValueError as exc:
        fail(str(exc))
    until = parse_time(deadline, default=now + DEFAULT_VALIDITY, now=now)
    signature = td.sign_create_shipment(account.key, domain, terms, nonce=nonce, deadline=until)
    body: dict[str, Any] = {
        "terms": to_json(td.SHIPMENT_TERMS, terms)
        | {
            "origin": origin.replace(" ", "").upper(),
            "destination": destination.replace(" ", "").upper(),
        },
        "nonce": nonce,
        "deadline": until,
        "signature": "0x" + signature.hex(),
        "manifest": manifest,
    }
    client = Api(api, api_key)
    accepted = client.post("/v1/shipments", body)
    result = {"shipment_id": to_hex(terms["shipmentId"]), **accepted}
    if wait:
        relay = client.wait_relay(int(accepted["relay_id"]))
        result |= {k: relay[k] for k in ("status", "tx_hash", "block_number")}
    out.emit(result)
