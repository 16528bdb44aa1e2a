"""Look up an event's Merkle proof and check it against the chain."""

from __future__ import annotations

import json
import re

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.anchoring.models import AnchorBatch, EventProof
from backend.anchoring.schemas import AnchorPublic, EpcisEventProofPublic, ProofPublic
from backend.chain import AnchorRegistryClient, ChainClient, ChainError
from backend.chain.eip712 import Domain
from backend.errors import InvalidInput, NotFound
from backend.events.models import EpcisEvent, SupplyEvent
from backend.events.router import public
from backend.orgs.models import Organisation

_HASH_ID = re.compile(r"^ni:///sha-256;([0-9a-f]{64})\?ver=CBV2\.0$")


def _epcis_public(session: Session, event: EpcisEvent) -> EpcisEventProofPublic:
    body = json.loads(event.document)
    org = session.get(Organisation, event.org_id)
    return EpcisEventProofPublic(
        hash_id=event.hash_id,
        event_id=event.client_event_id or event.hash_id,
        event_type=event.event_type,
        submitted_by=org.slug if org is not None else "",
        signer=event.signer,
        signature=event.signature,
        status=event.status,
        event=body,
    )


def proof_for(
    *, session: Session, chain: ChainClient, registry: str, domain: Domain, ref: str
) -> ProofPublic:
    """``ref``: a supply event's digest or ``eventId`` (0x + 64 hex), or a captured EPCIS
    event's hash id (``ni:///sha-256;…?ver=CBV2.0``) or its digest."""
    if m := _HASH_ID.match(ref.strip()):
        ref = "0x" + m.group(1)
    ref = ref.lower()
    if (
        len(ref) != 66
        or not ref.startswith("0x")
        or any(c not in "0123456789abcdef" for c in ref[2:])
    ):
        raise InvalidInput(
            "expected an event digest or eventId (0x followed by 64 hex digits) "
            "or an EPCIS event hash id (ni:///sha-256;…?ver=CBV2.0)"
        )
    event: SupplyEvent | EpcisEvent | None = session.scalar(
        select(SupplyEvent).where(or_(SupplyEvent.digest == ref, SupplyEvent.event_id == ref))
    )
    if event is None:
        event = session.scalar(select(EpcisEvent).where(EpcisEvent.digest == ref))
    if event is None:
        raise NotFound(f"no event with digest, eventId or hash id {ref}")
    proof_of = EventProof.epcis_event_id if isinstance(event, EpcisEvent) else EventProof.event_id
    leaf = proof = None
    anchor = None
    on_chain: bool | None = None
    if event.batch_id is not None:
        batch = session.get(AnchorBatch, event.batch_id)
        row = session.scalar(
            select(EventProof).where(proof_of == event.id, EventProof.batch_id == event.batch_id)
        )
        if batch is not None and row is not None:
            leaf = row.leaf
            proof = json.loads(row.proof)
            anchor = AnchorPublic(
                root=batch.root,
                leaf_count=batch.leaf_count,
                status=batch.status,
                tx_hash=batch.tx_hash,
                block_number=batch.block_number,
                block_hash=batch.block_hash,
            )
            try:
                on_chain = AnchorRegistryClient(chain, registry).verify(
                    bytes.fromhex(batch.root[2:]),
                    bytes.fromhex(leaf[2:]),
                    [bytes.fromhex(p[2:]) for p in proof],
                )
            except ChainError:
                on_chain = None
    return ProofPublic(
        event=public(event) if isinstance(event, SupplyEvent) else None,
        epcis_event=_epcis_public(session, event) if isinstance(event, EpcisEvent) else None,
        digest=event.digest,
        domain=domain.to_json(),
        leaf=leaf,
        proof=proof,
        anchor=anchor,
        chain_id=domain.chain_id,
        anchor_registry=registry,
        on_chain=on_chain,
    )
