"""The seller war room: shipments with their colour, alliance positions, browser sessions.

Shipment state comes from ``ShipmentRegistry`` events (created, milestones, late,
overdue, weight discrepancies) for the shipments whose seller is one of the
organisation's signer keys, plus the registry's stored terms for SLA deadlines;
the colour is :func:`backend.dashboard.rules.assess`. Alliance sections read
``CapacityPool`` and ``EmergencyStockTransfer`` events for the same addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain import ChainClient, DeploymentMissing
from backend.chain.client import DecodedEvent
from backend.chain.deployments import Deployment
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data.shipments import ExceptionReason, MilestoneType, Status, locode_text
from backend.dashboard.rules import (
    SLA_TARGETS,
    Assessment,
    Colour,
    ShipmentSnapshot,
    WeightDeviation,
    assess,
)
from backend.errors import Unauthenticated
from backend.orgs import keys
from backend.orgs.models import ApiKey, Organisation, SignerKey
from backend.orgs.service import Principal

SESSION_COOKIE = "waymark_session"
SESSION_MAX_AGE = 12 * 3600
COLOUR_ORDER = {Colour.RED: 0, Colour.YELLOW: 1, Colour.GREEN: 2, Colour.CLOSED: 3}


# -- sessions --------------------------------------------------------------------------


def _mac(secret: bytes, prefix: str, issued: int, key_hash: str) -> str:
    msg = f"{prefix}.{issued}.{key_hash}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def session_token(*, secret: bytes, api_key: str, key_hash: str, now: int | None = None) -> str:
    """``prefix.issued.mac``: names the key without containing it; dies with the key.

    The MAC covers the stored key hash, so revoking or rotating the key ends
    every session made from it; the secret is per process, so a restart does too.
    """
    prefix = keys.parse_prefix(api_key)
    if prefix is None:
        raise Unauthenticated("not an organisation API key")
    issued = int(time.time()) if now is None else now
    return f"{prefix}.{issued}.{_mac(secret, prefix, issued, key_hash)}"


def session_principal(
    *, session: Session, secret: bytes, token: str, now: int | None = None
) -> Principal:
    """The principal a session cookie stands for, or :class:`Unauthenticated`."""
    try:
        prefix, issued_text, mac = token.split(".")
        issued = int(issued_text)
    except ValueError:
        raise Unauthenticated("malformed session") from None
    current = int(time.time()) if now is None else now
    if not 0 <= current - issued <= SESSION_MAX_AGE:
        raise Unauthenticated("session expired; sign in again")
    row = session.execute(
        select(ApiKey, Organisation.slug)
        .join(Organisation, Organisation.id == ApiKey.org_id)
        .where(ApiKey.prefix == prefix)
    ).first()
    expected = _mac(secret, prefix, issued, row[0].key_hash if row else "")
    if row is None or not hmac.compare_digest(expected, mac):
        raise Unauthenticated("invalid session")
    key, slug = row
    if key.revoked_at is not None:
        raise Unauthenticated("this API key has been revoked")
    return Principal(key.org_id, slug, key.scope_set, key.id)


def stored_key_hash(*, session: Session, api_key: str) -> str:
    prefix = keys.parse_prefix(api_key)
    found = session.scalar(select(ApiKey.key_hash).where(ApiKey.prefix == prefix))
    if found is None:
        raise Unauthenticated("unknown API key")
    return found


# -- shipments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShipmentRow:
    snapshot: ShipmentSnapshot
    assessment: Assessment


@dataclass
class _Acc:
    seller: str = ""
    origin: str = ""
    destination: str = ""
    late: list[MilestoneType] = field(default_factory=list)
    overdue: list[MilestoneType] = field(default_factory=list)
    weights: list[WeightDeviation] = field(default_factory=list)
    exceptions: list[ExceptionReason] = field(default_factory=list)
    hold_since: int | None = None
    last_location: str = ""
    last_at: int | None = None


def seller_addresses(*, session: Session, org_id: int) -> set[str]:
    """Every signer key the organisation ever registered (lower-case)."""
    rows = session.scalars(select(SignerKey.address).where(SignerKey.org_id == org_id))
    return {a.lower() for a in rows}


def _logs(chain: ChainClient, deployment: Deployment, names: Iterable[str]) -> list[DecodedEvent]:
    addresses, first = [], None
    for name in names:
        record = deployment.contracts.get(name)
        if record is not None:
            addresses.append(record.address)
            first = record.deploy_block if first is None else min(first, record.deploy_block)
    if not addresses or first is None:
        return []
    return chain.get_logs(addresses, first, chain.block_number())


def shipment_rows(
    *, chain: ChainClient, deployment: Deployment, sellers: set[str], now: int
) -> list[ShipmentRow]:
    """The sellers' shipments, worst colour first."""
    acc: dict[bytes, _Acc] = defaultdict(_Acc)
    mine: set[bytes] = set()
    for ev in _logs(chain, deployment, ["ShipmentRegistry"]):
        sid = ev.args.get("shipmentId")
        if not isinstance(sid, bytes):
            continue
        a = acc[sid]
        if ev.name == "ShipmentCreated":
            a.seller = str(ev.args["seller"])
            if a.seller.lower() in sellers:
                mine.add(sid)
        elif ev.name == "MilestoneRecorded":
            kind = MilestoneType(ev.args["milestone"])
            at = int(ev.args["occurredAt"])
            a.last_location = locode_text(bytes(ev.args["location"])) or a.last_location
            a.last_at = at
            if kind is MilestoneType.CUSTOMS_HOLD:
                a.hold_since = at
            elif kind is MilestoneType.EXCEPTION:
                a.exceptions.append(ExceptionReason(ev.args["reasonCode"]))
        elif ev.name == "MilestoneLate":
            a.late.append(MilestoneType(ev.args["milestone"]))
        elif ev.name == "MilestoneOverdue":
            a.overdue.append(MilestoneType(ev.args["milestone"]))
        elif ev.name == "WeightDiscrepancy":
            a.weights.append(
                WeightDeviation(int(ev.args["referenceGrams"]), int(ev.args["measuredGrams"]))
            )
    if not mine:
        return []
    registry = ShipmentRegistryClient(chain, deployment.address("ShipmentRegistry"))
    rows = []
    for sid in mine:
        info = registry.shipment(sid)
        if info is None:
            continue
        a = acc[sid]
        deadlines = {kind: int(getattr(info.sla, attr)) for attr, kind, _ in SLA_TARGETS}
        snap = ShipmentSnapshot(
            shipment_id="0x" + sid.hex(),
            status=info.status,
            origin=info.origin,
            destination=info.destination,
            deadlines=deadlines,
            late=tuple(dict.fromkeys(a.late)),
            overdue_flagged=tuple(a.overdue),
            weight_discrepancies=tuple(a.weights),
            customs_hold_since=a.hold_since if info.status is Status.CUSTOMS_HOLD else None,
            exceptions=tuple(a.exceptions),
            last_location=a.last_location,
            last_event_at=a.last_at,
        )
        rows.append(ShipmentRow(snap, assess(snap, now)))
    rows.sort(key=lambda r: (COLOUR_ORDER[r.assessment.colour], r.snapshot.shipment_id))
    return rows


# -- alliance -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AllianceSummary:
    transfers: list[dict[str, Any]]
    settlements: list[dict[str, Any]]
    reallocations: list[dict[str, Any]]


def alliance_summary(
    *, chain: ChainClient, deployment: Deployment, sellers: set[str]
) -> AllianceSummary:
    """Stock-transfer requests, settlements and booking transfers involving the sellers."""
    transfers: dict[int, dict[str, Any]] = {}
    settlements: list[dict[str, Any]] = []
    reallocations: list[dict[str, Any]] = []
    try:
        events = _logs(chain, deployment, ["CapacityPool", "EmergencyStockTransfer"])
    except DeploymentMissing:
        events = []
    for ev in events:
        a = {k: (("0x" + v.hex()) if isinstance(v, bytes) else v) for k, v in ev.args.items()}
        involved = {str(v).lower() for v in a.values() if isinstance(v, str)}
        if ev.name == "StockRequested":
            if involved & sellers:
                transfers[int(a["requestId"])] = {**a, "state": "requested"}
        elif ev.name in {
            "OfferAccepted",
            "TransferReleased",
            "TransferRefunded",
            "RequestCancelled",
        }:
            rid = int(a["requestId"])
            if rid in transfers:
                transfers[rid]["state"] = {
                    "OfferAccepted": "accepted (escrowed)",
                    "TransferReleased": "released",
                    "TransferRefunded": "refunded",
                    "RequestCancelled": "cancelled",
                }[ev.name]
        elif ev.name == "MemberSettled" and involved & sellers:
            settlements.append(a)
        elif ev.name == "BookingTransferred" and involved & sellers:
            reallocations.append(a)
    return AllianceSummary(list(transfers.values()), settlements, reallocations)


def counts(rows: Iterable[ShipmentRow]) -> dict[str, int]:
    out = {c.value: 0 for c in Colour}
    for row in rows:
        out[row.assessment.colour.value] += 1
    return out
