"""Proof bundles built from the read models: a passport, its anchored events with
their Merkle proofs, the signer keys' validity and each organisation's authority to
speak for the passport, in the format :mod:`backend.qr.bundle.verify` checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain.deployments import Deployment
from backend.chain.eip712 import typed_data_payload
from backend.chain.organisations import Role
from backend.chain.typed_data.events import SUBJECT_DELEGATION, events_domain
from backend.chain.typed_data.shipments import MilestoneType
from backend.common.types import hex_bytes, to_hex
from backend.gs1.keys import key as gs1_key
from backend.orgs.authority import org_ids_of
from backend.orgs.models import Delegation, Organisation, RegistryKey, SignerKey
from backend.orgs.subjects import EVERY_PASSPORT, Basis, speakers
from backend.passports.canonical import document_hash
from backend.qr import view
from backend.qr.bundle.verify import BUNDLE_FORMAT, PINNED, VERIFICATION_STEPS
from backend.qr.evidence import as_brand, event_typed_data, signer_names, supply_events
from backend.qr.resolver import Resolved
from backend.shipments import public as shipments_public


def proof_bundle(
    *, session: Session, chain_id: int, deployment: Deployment, resolved: Resolved, base: str
) -> dict[str, Any]:
    """A self-contained bundle that verifies against the chain with no Waymark API."""
    passport = resolved.passport
    registry = deployment.address("AnchorRegistry")
    records = supply_events(session=session, passport_id=resolved.passport_id)
    journeys = shipments_public.journey_for_passport(
        session=session, passport_id=hex_bytes(resolved.passport_id)
    )
    names = signer_names(
        session=session,
        passport=passport,
        journeys=journeys,
        events=records,
        passport_id=resolved.passport_id,
    )
    windows = _key_windows(
        session,
        [(r.event.signer_key_id, r.event.signer) for r in records],
        deployment.address("OrganisationRegistry"),
    )
    evidence = _Evidence(session, resolved.passport_id, journeys, chain_id, registry)
    events = []
    for record in records:
        if not record.anchored:
            continue  # nothing proves a pending event yet; the page shows it as pending
        ev = record.event
        entry: dict[str, Any] = {
            "digest": ev.digest,
            "signer": ev.signer,
            "signed_by": _named(names, ev.signer),
            "received_at": _iso(ev.received_at),
            "signer_validity": windows.get((ev.signer_key_id, ev.signer)),
            "signature": ev.signature,
            "typed_data": event_typed_data(ev, chain_id, registry),
            "leaf": record.leaf,
            "proof": record.proof,
            "root": record.batch.root if record.anchored and record.batch else None,
            "anchor": None,
            "authorisation": evidence.authorisation(ev.org_id, ev.signer),
        }
        if record.anchored and record.batch is not None:
            entry["anchor"] = {
                "tx_hash": record.batch.tx_hash,
                "block_number": record.batch.block_number,
                "block_hash": record.batch.block_hash,
                "status": record.batch.status,
            }
        events.append(entry)
    milestones = [
        {
            "shipment_id": j.shipment.id,
            "milestone": MilestoneType(m.milestone).name,
            "record_hash": m.record_hash,
            "signer": m.signer,
            "signed_by": _named(names, m.signer),
            "tx_hash": m.tx_hash,
            "block_number": m.block_number,
        }
        for j in journeys
        for m in j.shipment.milestones
    ]
    return {
        "format": BUNDLE_FORMAT,
        "chain_id": chain_id,
        "contracts": {
            name: deployment.address(name) for name in PINNED if name in deployment.contracts
        },
        # whose anchors count in the open AnchorRegistry (a claim; verifiers pin their own)
        "anchorer": deployment.anchor_account,
        "subject": {
            "gs1_path": gs1_key(passport.gtin, passport.lot, passport.serial).path,
            "digital_link": resolved.link.uri(base),
            "passport_id": resolved.passport_id,
            "level": resolved.level,
        },
        "passport": {
            "version": passport.version,
            "issuer": passport.issuer,
            "issued_by": _named(
                {passport.issuer.lower(): as_brand(names[passport.issuer.lower()])},
                passport.issuer,
            ),
            "status": passport.status,
            "document": passport.document,
            "canonical_hash": to_hex(document_hash(passport.document)),
            "on_chain_document_hash": passport.document_hash,
            "tx_hash": passport.tx_hash,
            "block_number": passport.block_number,
        },
        "delegations": evidence.delegations,
        "events": events,
        "milestones": milestones,
        "parties": [_named(names, a) for a in sorted({n.address for n in names.values()})],
        "verification": {
            "steps": list(VERIFICATION_STEPS),
            "leaf": "keccak256(keccak256(digest)) (OpenZeppelin StandardMerkleTree, bytes32 value)",
            "document_hash": "keccak256(RFC 8785 JSON canonicalisation of passport.document)",
        },
    }


class _Evidence:
    """Why each event's organisation may speak for the passport, in terms a verifier checks.

    The basis is the subject rule's (``backend.orgs.subjects``); a delegate's grant is
    carried as the issuer signed it, and a shipment party names the shipment whose
    on-chain parties include the signing key.
    """

    def __init__(
        self, session: Session, pid: str, journeys: Sequence[Any], chain_id: int, registry: str
    ) -> None:
        self.session = session
        self.pid = pid
        self.bases = speakers(session=session, subjects=[pid])[pid].orgs
        self.issuer_org = next((o for o, b in self.bases.items() if b is Basis.ISSUER), None)
        self.domain = events_domain(chain_id, registry)
        self.journeys = journeys
        sellers = [j.shipment.seller for j in journeys]
        self.seller_orgs = org_ids_of(session, sellers)
        self.delegations: list[dict[str, Any]] = []
        self._index: dict[int, int] = {}  # delegate organisation → its grant's index

    def _grant(self, delegate_org: int) -> int | None:
        if delegate_org in self._index:
            return self._index[delegate_org]
        row = self.session.execute(
            select(Delegation, Organisation.slug)
            .join(Organisation, Organisation.id == Delegation.delegate_org_id)
            .where(
                Delegation.issuer_org_id == self.issuer_org,
                Delegation.delegate_org_id == delegate_org,
                Delegation.revoked_at.is_(None),
                Delegation.subject.in_([self.pid, EVERY_PASSPORT]),
            )
            .order_by(Delegation.id)
        ).first()
        if row is None:
            return None
        grant, slug = row
        message = {
            "issuer": grant.signer,
            "subject": hex_bytes(grant.subject),
            "delegate": slug,
            "salt": hex_bytes(grant.salt),
        }
        self.delegations.append(
            {
                "typed_data": typed_data_payload(self.domain, SUBJECT_DELEGATION, message),
                "signature": grant.signature,
                "digest": grant.digest,
            }
        )
        self._index[delegate_org] = len(self.delegations) - 1
        return self._index[delegate_org]

    def authorisation(self, org_id: int | None, signer: str) -> dict[str, Any] | None:
        basis = self.bases.get(org_id) if org_id is not None else None
        if basis is Basis.ISSUER:
            return {"basis": "issuer"}
        if basis is Basis.DELEGATE and org_id is not None:
            return {"basis": "delegate", "delegation": self._grant(org_id)}
        if basis is Basis.SHIPMENT_PARTY:
            for j in self.journeys:
                sh = j.shipment
                keys = {
                    a.lower()
                    for a in (sh.seller, *sh.carriers, sh.warehouse, sh.customs_broker)
                    if a
                }
                if signer.lower() not in keys:
                    continue
                seller_org = self.seller_orgs.get(sh.seller.lower())
                out: dict[str, Any] = {"basis": "shipment_party", "shipment_id": sh.id}
                if seller_org is not None and seller_org != self.issuer_org:
                    grant = self._grant(seller_org)
                    if grant is None:
                        continue
                    out["delegation"] = grant
                return out
        return None


def _named(names: Mapping[str, view.Signer], address: str) -> dict[str, Any]:
    """A key as the bundle names it: organisation, role and whether it is registered."""
    signer = names.get(address.lower())
    return {
        "address": address,
        "organisation": signer.name if signer and signer.verified else None,
        "role": signer.role if signer else None,
        "verified": bool(signer and signer.verified),
    }


def _key_windows(
    session: Session, keys: Sequence[tuple[int | None, str]], registry: str
) -> dict[tuple[int | None, str], dict[str, Any]]:
    """(signer key id, address) → the key's validity: the service's receipt-time window
    where it registered the key, and the ``OrganisationRegistry`` window (added at
    block, revoked at block) from the indexed read model, which also covers keys an
    organisation added on chain directly. None for a key neither knows."""
    wanted = set(keys)
    ids = sorted({k for k, _ in wanted if k})
    service = (
        {k.id: k for k in session.scalars(select(SignerKey).where(SignerKey.id.in_(ids)))}
        if ids
        else {}
    )
    addresses = sorted({a for _, a in wanted})
    chain = {
        k.key: k
        for i in range(0, len(addresses), 500)
        for k in session.scalars(
            select(RegistryKey).where(RegistryKey.key.in_(addresses[i : i + 500]))
        )
    }
    out: dict[tuple[int | None, str], dict[str, Any]] = {}
    for key_id, address in wanted:
        own = service.get(key_id) if key_id else None
        held = chain.get(address)
        if own is None and held is None:
            continue
        out[(key_id, address)] = {
            "valid_from": _iso(own.valid_from) if own else None,
            "revoked_at": _iso(own.revoked_at) if own and own.revoked_at else None,
            "source": "service signer record" if own else "OrganisationRegistry",
            "registry": {
                "contract": registry,
                "organisation_id": held.org_id,
                "roles": Role(held.roles).names(),
                "valid_from_block": held.added_block,
                "revoked_at_block": held.revoked_block,
                "added_in": held.tx_hash,
            }
            if held
            else None,
        }
    return out


def _iso(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``."""
    return value.isoformat().replace("+00:00", "Z")
