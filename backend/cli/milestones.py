"""``waymark milestone``: sign shipment milestones offline, co-sign custody, submit.

A signed milestone is a JSON document that can travel by any channel (a USB
stick from a warehouse without connectivity, an email) before upload::

    {"type": "waymark.milestone", "domain": {...}, "milestone": {...},
     "signature": "0x…", "acceptance": null | {"nonce", "deadline", "signature"}}

A file holds one such document or ``{"milestones": [...]}``.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from eth_account.signers.local import LocalAccount

from backend.chain import eip712
from backend.chain.eip712 import Domain
from backend.chain.typed_data import shipments as td
from backend.cli.chainio import chain_now, read_nonce
from backend.cli.client import Api, resolve_domain
from backend.cli.common import (
    address,
    api_key_opt,
    api_opt,
    domain_from_json,
    fail,
    from_json,
    parse_time,
    read_json,
    to_json,
    write_json,
)
from backend.cli.keys import load_account, password_opt
from backend.cli.output import Output
from backend.common.types import MAX_WALLET_SIGNATURE_BYTES, parse_hex, to_hex

DOC_TYPE = "waymark.milestone"
DEFAULT_VALIDITY = 7 * 24 * 3600


def milestone_kind(value: str | int) -> td.MilestoneType:
    """``PICKED_UP``, ``picked-up`` or ``1``."""
    text = str(value).strip()
    if text.isdigit():
        try:
            return td.MilestoneType(int(text))
        except ValueError:
            fail(f"unknown milestone {text}")
    try:
        return td.MilestoneType[text.upper().replace("-", "_")]
    except KeyError:
        names = ", ".join(m.name for m in td.MilestoneType)
        fail(f"unknown milestone {text!r} (one of {names})")


def reason_code(kind: td.MilestoneType, value: str | int | None) -> int:
    if value is None:
        return 0
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    if kind is td.MilestoneType.EXCEPTION:
        try:
            return int(td.ExceptionReason[text.upper()])
        except KeyError:
            fail(f"unknown exception reason {text!r} (delayed, damaged, lost, other)")
    fail(f"reason {text!r} must be a number for {kind.name}")


def file_digest(path: Path) -> bytes:
    """SHA-256 of one evidence file (photo, scale ticket)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        fail(f"cannot read evidence {path}: {exc.strerror}")
    return digest.digest()


def evidence_digest(paths: Sequence[Path]) -> bytes:
    """The evidenceHash of evidence files in order (:func:`td.evidence_set_hash`); only
    this hash goes on chain."""
    try:
        return td.evidence_set_hash([file_digest(p) for p in paths])
    except ValueError as exc:
        fail(str(exc))


def _evidence_paths(value: Any) -> list[Path]:
    """``evidence`` of a spec: one path or a list of paths (a batch file may give either)."""
    if isinstance(value, str):
        return [Path(value)]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [Path(v) for v in value]
    fail(f"evidence must be a path or a list of paths, not {value!r}")


def build_message(spec: dict[str, Any], *, signer: str, nonce: int, now: int) -> dict[str, Any]:
    """A ``Milestone`` message from a spec (CLI flags or one item of a JSON batch)."""
    kind = milestone_kind(spec["milestone"])
    try:
        shipment_id = parse_hex(spec["shipment_id"], "shipment id", 32)
    except ValueError as exc:
        fail(str(exc))
    if spec.get("evidence") and spec.get("evidence_hash"):
        fail("give --evidence or --evidence-hash, not both")
    evidence = td.ZERO_HASH
    if spec.get("evidence"):
        evidence = evidence_digest(_evidence_paths(spec["evidence"]))
    elif spec.get("evidence_hash"):
        try:
            evidence = parse_hex(spec["evidence_hash"], "evidence hash", 32)
        except ValueError as exc:
            fail(str(exc))
    counterparty = td.ZERO_ADDRESS
    if spec.get("counterparty"):
        counterparty = address(spec["counterparty"], "counterparty")
    if kind in td.CUSTODY_TRANSFERS and counterparty == td.ZERO_ADDRESS:
        fail(f"{kind.name} moves custody: give --counterparty (the receiving party)")
    # DELIVERED to a shipment with a consignee names it (who signs the proof of delivery).
    takes_counterparty = kind in td.CUSTODY_TRANSFERS or kind == td.MilestoneType.DELIVERED
    if not takes_counterparty and counterparty != td.ZERO_ADDRESS:
        fail(f"{kind.name} takes no counterparty")
    try:
        location: str | bytes = spec["location"] if spec.get("location") else bytes(5)
        return td.milestone(
            shipment_id=shipment_id,
            kind=kind,
            signer=signer,
            nonce=nonce,
            deadline=parse_time(spec.get("deadline"), default=now + DEFAULT_VALIDITY, now=now),
            occurred_at=parse_time(spec.get("occurred_at"), default=now, now=now),
            location=location,
            measured_weight_grams=int(spec.get("weight_grams") or 0),
            evidence_hash=evidence,
            reason_code=reason_code(kind, spec.get("reason")),
            counterparty=counterparty,
        )
    except ValueError as exc:
        fail(str(exc))


def signed_document(domain: Domain, message: dict[str, Any], signature: bytes) -> dict[str, Any]:
    return {
        "type": DOC_TYPE,
        "domain": domain.to_json(),
        "milestone": to_json(td.MILESTONE, message),
        "signature": "0x" + signature.hex(),
        "acceptance": None,
    }


def documents(data: Any) -> list[dict[str, Any]]:
    """The signed milestones in a file (one document or ``{"milestones": [...]}``)."""
    items = data.get("milestones") if isinstance(data, dict) and "milestones" in data else [data]
    if not isinstance(items, list) or not items:
        fail("no milestones in file")
    for i, item in enumerate(items):
        if not isinstance(item, dict) or item.get("type") != DOC_TYPE:
            fail(f"item {i} is not a signed milestone ({DOC_TYPE})")
    return items


#: How a signed milestone's signature is checked (``milestone inspect`` names it).
KEY_CHECK = "signer's key"
CHAIN_CHECK = "checked on chain on submission"


@dataclass(frozen=True)
class Decoded:
    """A signed milestone read from its file, and which check its signature gets."""

    domain: Domain
    message: dict[str, Any]
    signature: bytes
    check: str  # KEY_CHECK or CHAIN_CHECK
    # The key a 65-byte signature recovers to when that is not the named signer.
    recovered: str | None = None


def decode(doc: dict[str, Any]) -> Decoded:
    """Domain, message and signature of a signed milestone, its signature checked if it can be.

    A 65-byte signature that recovers to the named signer is the signer's key's: checked
    here. Any other may be a contract wallet's (ERC-1271): a multi-owner wallet's longer
    signature, or an owner key's 65 bytes, which recover to the owner and not to the wallet
    named. Only the chain can say, so the service checks it on submission (a tampered
    key-signed file is refused there, with the key it recovers to).
    """
    try:
        domain = domain_from_json(doc["domain"])
        message = from_json(td.MILESTONE, doc["milestone"])
        signature = parse_hex(doc["signature"], "signature")
    except (KeyError, ValueError, TypeError) as exc:
        fail(f"malformed signed milestone: {exc}")
    if not 1 <= len(signature) <= MAX_WALLET_SIGNATURE_BYTES:
        fail(
            f"malformed signed milestone: signature must be 1 to {MAX_WALLET_SIGNATURE_BYTES} "
            f"bytes, got {len(signature)}"
        )
    try:
        signer = eip712.recover(eip712.digest(domain, td.MILESTONE, message), signature)
    except eip712.SignatureInvalid:
        return Decoded(domain, message, signature, CHAIN_CHECK)
    if signer.lower() == str(message["signer"]).lower():
        return Decoded(domain, message, signature, KEY_CHECK)
    return Decoded(domain, message, signature, CHAIN_CHECK, recovered=signer)


def _progress(items: Sequence[Any], label: str, out: Output) -> Iterator[Any]:
    if out.as_json or len(items) < 2:
        yield from items
        return
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar


def submit_documents(
    api: Api, docs: Sequence[dict[str, Any]], out: Output, *, wait: bool = False
) -> list[dict[str, Any]]:
    """POST each signed milestone (in order); with ``wait``, until each is mined and indexed."""
    results = []
    for doc in _progress(docs, "Submitting", out):
        message = decode(doc).message
        custody = message["milestone"] in {int(k) for k in td.CUSTODY_TRANSFERS}
        if custody and not doc.get("acceptance"):
            kind = td.MilestoneType(message["milestone"]).name
            fail(f"{kind} needs the receiving party's co-signature first (milestone cosign)")
        body = api_body(doc, message)
        sid = body["milestone"]["shipmentId"]
        receipt = doc.get("receipt")
        if receipt:
            # DELIVERED with the consignee's proof of delivery (``milestone receipt``).
            body = {k: body[k] for k in ("milestone", "signature")} | {
                "receipt": {k: receipt[k] for k in ("condition", "nonce", "deadline", "signature")}
            }
            accepted = api.post(f"/v1/shipments/{sid}/delivery", body)
        else:
            accepted = api.post(f"/v1/shipments/{sid}/milestones", body)
        if wait:
            relay = api.wait_relay(int(accepted["relay_id"]))
            accepted = {**accepted, "status": relay["status"], "tx_hash": relay["tx_hash"],
                        "block_number": relay["block_number"]}  # fmt: skip
        results.append(accepted)
    return results


def api_body(doc: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/shipments/{id}/milestones`` body: locations as UN/LOCODE text."""
    milestone_json = {**doc["milestone"], "location": td.locode_text(message["location"])}
    acceptance = doc.get("acceptance")
    return {
        "milestone": milestone_json,
        "signature": doc["signature"],
        "acceptance": (
            {k: acceptance[k] for k in ("nonce", "deadline", "signature")} if acceptance else None
        ),
    }


# -- commands --------------------------------------------------------------------------

domain_opts = [
    click.option("--chain-id", type=int, default=None, help="Chain id of the registry (offline)."),
    click.option("--registry", default=None, help="ShipmentRegistry address (offline)."),
    click.option("--rpc", default=None, help="JSON-RPC URL to read the signer's next nonce from."),
]


def _with(options: list[Any]) -> Any:
    def wrap(fn: Any) -> Any:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return wrap


@click.group()
def milestone() -> None:
    """Sign shipment milestones (offline), co-sign custody transfers, submit them."""


@milestone.command("sign")
@click.option("--keystore", type=click.Path(path_type=Path, dir_okay=False), required=True)
@password_opt
@click.option("--shipment-id", help="Shipment id (0x + 64 hex).")
@click.option("--milestone", "kind", help="PICKED_UP, DEPARTED, … or its number.")
@click.option("--occurred-at", default=None, help="Unix seconds, ISO 8601, now (default).")
@click.option("--location", default=None, help="UN/LOCODE, e.g. VNSGN.")
@click.option("--weight-grams", type=int, default=0, help="Measured gross weight.")
@click.option(
    "--evidence",
    type=click.Path(path_type=Path, dir_okay=False),
    multiple=True,
    help="An evidence file (photo, scale ticket); repeat for up to 8, in order.",
)
@click.option("--evidence-hash", default=None, help="0x + 64 hex of off-chain evidence.")
@click.option("--reason", default=None, help="Exception reason (delayed, damaged, lost, other).")
@click.option(
    "--counterparty",
    default=None,
    help="Receiving party (PICKED_UP, HANDOVER); the consignee for DELIVERED with a receipt.",
)
@click.option("--nonce", type=int, default=None, help="Signer's next nonce (else read via --rpc).")
@click.option("--deadline", default=None, help="Signature valid until (default: 7 days).")
@click.option(
    "--from-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="JSON list of milestones (keys as the flags, snake_case) to sign in one go.",
)
@_with(domain_opts)
@api_opt
@api_key_opt
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option("--submit", is_flag=True, help="Submit to the API right away.")
@click.option(
    "--wait", is_flag=True, help="With --submit: wait until each is mined and shows in the service."
)
@click.pass_obj
def sign(
    out: Output,
    keystore: Path,
    password_file: Path | None,
    shipment_id: str | None,
    kind: str | None,
    occurred_at: str | None,
    location: str | None,
    weight_grams: int,
    evidence: tuple[Path, ...],
    evidence_hash: str | None,
    reason: str | None,
    counterparty: str | None,
    nonce: int | None,
    deadline: str | None,
    from_file: Path | None,
    chain_id: int | None,
    registry: str | None,
    rpc: str | None,
    api: str,
    api_key: str | None,
    out_path: Path | None,
    submit: bool,
    wait: bool,
) -> None:
    """Sign one milestone from flags, or a batch from --from-file; print or submit it."""
    if from_file is not None:
        specs = read_json(from_file)
        if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
            fail(f"{from_file} must hold a JSON list of milestone objects")
    else:
        if not shipment_id or not kind:
            fail("give --shipment-id and --milestone, or --from-file")
        specs = [
            {
                "shipment_id": shipment_id,
                "milestone": kind,
                "occurred_at": occurred_at,
                "location": location,
                "weight_grams": weight_grams,
                "evidence": [str(p) for p in evidence] or None,
                "evidence_hash": evidence_hash,
                "reason": reason,
                "counterparty": counterparty,
                "deadline": deadline,
            }
        ]
    domain = resolve_domain(
        "ShipmentRegistry",
        chain_id=chain_id,
        address=registry,
        api=None if chain_id is not None else api,
    )
    account = load_account(keystore, password_file)
    first = _first_nonce(nonce, rpc, domain, account)
    now = chain_now(rpc)
    docs = []
    for i, spec in enumerate(_progress(specs, "Signing", out)):
        message = build_message(spec, signer=account.address, nonce=first + i, now=now)
        signature = td.sign_milestone(account.key, domain, message)
        docs.append(signed_document(domain, message, signature))
    result: dict[str, Any] = docs[0] if len(docs) == 1 else {"milestones": docs}
    if submit:
        responses = submit_documents(Api(api, api_key), docs, out, wait=wait)
        out.emit({"submitted": len(responses), "results": responses})
        return
    _write_signed(out, out_path, result, len(docs))


def _first_nonce(nonce: int | None, rpc: str | None, domain: Domain, account: LocalAccount) -> int:
    if nonce is not None:
        return nonce
    if rpc is None:
        fail("give --nonce (offline) or --rpc to read the signer's next nonce")
    return read_nonce(rpc, "ShipmentRegistry", domain.verifying_contract, account.address)


def _countersign(
    docs: list[dict[str, Any]],
    account: LocalAccount,
    field: str,
    sign: Callable[[Domain, dict[str, Any], int, int], dict[str, Any]],
    wanted: Callable[[dict[str, Any]], bool],
    nonce: int | None,
    rpc: str | None,
    deadline: str | None,
) -> int:
    """Add ``field`` = ``sign(...)`` to each wanted milestone of ``docs``; how many.

    The signer's nonce is read once (on the first wanted milestone) and counted up,
    and every signature carries the same deadline.
    """
    now = chain_now(rpc)
    first: int | None = None
    until = 0
    signed = 0
    for doc in docs:
        decoded = decode(doc)
        domain, message = decoded.domain, decoded.message
        if not wanted(message):
            continue
        if first is None:
            first = _first_nonce(nonce, rpc, domain, account)
            until = parse_time(deadline, default=now + DEFAULT_VALIDITY, now=now)
        doc[field] = sign(domain, message, first + signed, until)
        signed += 1
    return signed


def _write_signed(out: Output, path: Path | None, result: dict[str, Any], count: int) -> None:
    if path is None:
        write_json(None, result)
        return
    write_json(path, result)
    out.emit({"signed": count, "file": str(path)})


@milestone.command("cosign")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--keystore", type=click.Path(path_type=Path, dir_okay=False), required=True)
@password_opt
@click.option("--nonce", type=int, default=None, help="Receiver's next nonce (else via --rpc).")
@click.option("--rpc", default=None, help="JSON-RPC URL to read the receiver's nonce from.")
@click.option("--deadline", default=None, help="Acceptance valid until (default: 7 days).")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.pass_obj
def cosign(
    out: Output,
    file: Path,
    keystore: Path,
    password_file: Path | None,
    nonce: int | None,
    rpc: str | None,
    deadline: str | None,
    out_path: Path | None,
) -> None:
    """Accept custody: the receiving party countersigns a PICKED_UP / HANDOVER milestone."""
    data = read_json(file)
    docs = documents(data)
    account = load_account(keystore, password_file)
    custody = {int(k) for k in td.CUSTODY_TRANSFERS}

    def for_this_receiver(message: dict[str, Any]) -> bool:
        if message["milestone"] not in custody:
            return False
        if str(message["counterparty"]).lower() != account.address.lower():
            fail(
                f"milestone names {message['counterparty']} as receiver, "
                f"not this keystore's {account.address}"
            )
        return True

    def accept(domain: Domain, message: dict[str, Any], n: int, until: int) -> dict[str, Any]:
        sig = td.sign_acceptance(account.key, domain, message, nonce=n, deadline=until)
        return {
            "signer": account.address,
            "nonce": n,
            "deadline": until,
            "signature": "0x" + sig.hex(),
        }

    signed = _countersign(
        docs, account, "acceptance", accept, for_this_receiver, nonce, rpc, deadline
    )
    if signed == 0:
        fail("no PICKED_UP or HANDOVER milestone in file to co-sign")
    target = out_path or file
    write_json(target, data)
    out.emit({"cosigned": signed, "file": str(target), "receiver": account.address})


@milestone.command("receipt")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--keystore", type=click.Path(path_type=Path, dir_okay=False), required=True)
@password_opt
@click.option(
    "--condition",
    type=click.Choice(["accepted", "damaged", "refused"]),
    default="accepted",
    show_default=True,
    help="In good order, with a damage exception, or refused at the door.",
)
@click.option("--nonce", type=int, default=None, help="Consignee's next nonce (else via --rpc).")
@click.option("--rpc", default=None, help="JSON-RPC URL to read the consignee's nonce from.")
@click.option("--deadline", default=None, help="Receipt valid until (default: 7 days).")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.pass_obj
def receipt(
    out: Output,
    file: Path,
    keystore: Path,
    password_file: Path | None,
    condition: str,
    nonce: int | None,
    rpc: str | None,
    deadline: str | None,
    out_path: Path | None,
) -> None:
    """Proof of delivery: the consignee signs the carrier's DELIVERED (or refuses the goods)."""
    data = read_json(file)
    docs = documents(data)
    account = load_account(keystore, password_file)
    delivered = int(td.MilestoneType.DELIVERED)

    def receive(domain: Domain, message: dict[str, Any], n: int, until: int) -> dict[str, Any]:
        sig = td.sign_proof_of_delivery(
            account.key,
            domain,
            message,
            condition=td.DeliveryCondition[condition.upper()],
            nonce=n,
            deadline=until,
        )
        return {
            "signer": account.address,
            "condition": condition,
            "nonce": n,
            "deadline": until,
            "signature": "0x" + sig.hex(),
        }

    signed = _countersign(
        docs,
        account,
        "receipt",
        receive,
        lambda message: message["milestone"] == delivered,
        nonce,
        rpc,
        deadline,
    )
    if signed == 0:
        fail("no DELIVERED milestone in file to sign a proof of delivery for")
    target = out_path or file
    write_json(target, data)
    out.emit(
        {
            "receipts": signed,
            "file": str(target),
            "consignee": account.address,
            "condition": condition,
        }
    )


@milestone.command("submit")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@api_opt
@api_key_opt
@click.option(
    "--wait", is_flag=True, help="Wait until each milestone is mined and shows in the service."
)
@click.pass_obj
def submit_cmd(out: Output, file: Path, api: str, api_key: str | None, wait: bool) -> None:
    """Upload signed milestones (from ``milestone sign``) to the API for relaying."""
    docs = documents(read_json(file))
    responses = submit_documents(Api(api, api_key), docs, out, wait=wait)
    out.emit({"submitted": len(responses), "results": responses})


@milestone.command("inspect")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_obj
def inspect(out: Output, file: Path) -> None:
    """Show what the milestones in a signed-milestone file say, and how each signature is
    checked: here, by the signer's key, or on chain when submitted (a contract wallet's)."""
    rows = []
    for doc in documents(read_json(file)):
        decoded = decode(doc)
        message = decoded.message
        row = {
            "shipment_id": to_hex(message["shipmentId"]),
            "milestone": td.MilestoneType(message["milestone"]).name,
            "signer": message["signer"],
            "nonce": message["nonce"],
            "location": td.locode_text(message["location"]),
            "chain_id": decoded.domain.chain_id,
            "cosigned": bool(doc.get("acceptance")),
            "signature_bytes": len(decoded.signature),
            "signature_check": decoded.check,
        }
        if decoded.recovered is not None:
            # Valid only if the signer is a contract wallet that accepts this key's signature.
            row["recovers_to"] = decoded.recovered
        rows.append(row)
    out.emit({"milestones": rows} if len(rows) > 1 else rows[0])


REASONS = ", ".join(r.name.lower() for r in td.CorrectionReason)


def _correction_reason(value: str) -> td.CorrectionReason:
    text = value.strip().upper().replace("-", "_")
    if text.isdigit() and int(text) in {int(r) for r in td.CorrectionReason}:
        return td.CorrectionReason(int(text))
    if text in td.CorrectionReason.__members__:
        return td.CorrectionReason[text]
    fail(f"--reason {value!r}: not a correction reason ({REASONS})")


def _record_hash(api: Api, shipment_id: str, index: int) -> bytes:
    """The record hash of history entry ``index``, as the service indexed it."""
    shipment = api.get(f"/v1/shipments/{shipment_id}")
    for entry in shipment.get("milestones") or []:
        if entry.get("index") == index:
            return parse_hex(entry["record_hash"], "record hash", 32)
    fail(f"shipment {shipment_id} has no milestone at index {index}")


@milestone.command("correct")
@click.option("--keystore", type=click.Path(path_type=Path, dir_okay=False), required=True)
@password_opt
@click.option("--shipment-id", required=True, help="Shipment id (0x + 64 hex).")
@click.option("--index", "index", type=click.IntRange(0, 2**32 - 1), required=True,
              help="History index of the entry declared erroneous.")  # fmt: skip
@click.option("--reason", required=True, help=f"Why: {REASONS} (or 1, 2, 3).")
@click.option("--record-hash", default=None,
              help="Record hash of that entry (offline; else read from the API).")  # fmt: skip
@click.option(
    "--evidence",
    type=click.Path(path_type=Path, dir_okay=False),
    multiple=True,
    help="A corrective evidence file; repeat for up to 8, in order.",
)
@click.option("--evidence-hash", default=None, help="0x + 64 hex of the corrective evidence.")
@click.option("--nonce", type=int, default=None, help="Signer's next nonce (else read via --rpc).")
@click.option("--deadline", default=None, help="Signature valid until (default: 7 days).")
@_with(domain_opts)
@api_opt
@api_key_opt
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option("--submit", is_flag=True, help="Submit to the API right away.")
@click.option(
    "--wait", is_flag=True, help="With --submit: wait until it is mined and shows in the service."
)
@click.pass_obj
def correct(
    out: Output,
    keystore: Path,
    password_file: Path | None,
    shipment_id: str,
    index: int,
    reason: str,
    record_hash: str | None,
    evidence: tuple[Path, ...],
    evidence_hash: str | None,
    nonce: int | None,
    deadline: str | None,
    chain_id: int | None,
    registry: str | None,
    rpc: str | None,
    api: str,
    api_key: str | None,
    out_path: Path | None,
    submit: bool,
    wait: bool,
) -> None:
    """Sign a correction declaring history entry --index erroneous; print or submit it."""
    try:
        sid = parse_hex(shipment_id, "--shipment-id", 32)
        given_hash = parse_hex(record_hash, "--record-hash", 32) if record_hash else None
        proof = parse_hex(evidence_hash, "--evidence-hash", 32) if evidence_hash else None
    except ValueError as exc:
        fail(str(exc))
    if evidence and proof is not None:
        fail("give --evidence or --evidence-hash, not both")
    why = _correction_reason(reason)
    client = Api(api, api_key)
    corrected = given_hash or _record_hash(client, shipment_id.lower(), index)
    domain = resolve_domain(
        "ShipmentRegistry",
        chain_id=chain_id,
        address=registry,
        api=None if chain_id is not None else api,
    )
    account = load_account(keystore, password_file)
    now = chain_now(rpc)
    message = td.correction(
        shipment_id=sid,
        corrected_index=index,
        corrected_record_hash=corrected,
        reason=why,
        signer=account.address,
        nonce=_first_nonce(nonce, rpc, domain, account),
        deadline=parse_time(deadline, default=now + DEFAULT_VALIDITY, now=now),
        evidence_hash=evidence_digest(evidence) if evidence else proof or td.ZERO_HASH,
    )
    signature = td.sign_correction(account.key, domain, message)
    body = {"correction": to_json(td.CORRECTION, message), "signature": "0x" + signature.hex()}
    if not submit:
        _write_signed(out, out_path, body, 1)
        return
    accepted = client.post(f"/v1/shipments/{shipment_id.lower()}/corrections", body)
    if wait:
        relay = client.wait_relay(int(accepted["relay_id"]))
        accepted = {**accepted, "status": relay["status"], "tx_hash": relay["tx_hash"]}
    out.emit(accepted)
