"""Look up an event's Merkle proof and whether it was verified against an indexed anchor."""

from __future__ import annotations

import json
import re
from functools import lru_cache

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from backend.anchoring.models import AnchorBatch, EventProof
from backend.anchoring.schemas import AnchorPublic, EpcisEventProofPublic, ProofPublic
from backend.chain.eip712 import Domain
from backend.db.reader import KeptConnection
from backend.errors import InvalidInput, NotFound
from backend.events.models import EpcisEvent, SupplyEvent, event_status
from backend.events.schemas import SupplyEventPublic
from backend.orgs.models import Organisation

_HASH_ID = re.compile(r"^ni:///sha-256;([0-9a-f]{64})\?ver=CBV2\.0$")
_HEX32 = re.compile(r"0x[0-9a-f]{64}")


@lru_cache(maxsize=16)
def _domain_json(domain: Domain) -> dict[str, object]:
    """``domain`` as JSON, once per domain (its checksummed address costs a keccak)."""
    return domain.to_json()


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


def normalise(ref: str) -> str:
    """``ref`` as a lower-case 0x-hex digest or eventId; :class:`InvalidInput` if it is none."""
    if m := _HASH_ID.match(ref.strip()):
        ref = "0x" + m.group(1)
    ref = ref.lower()
    if not _HEX32.fullmatch(ref):
        raise InvalidInput(
            "expected an event digest or eventId (0x followed by 64 hex digits) "
            "or an EPCIS event hash id (ni:///sha-256;…?ver=CBV2.0)"
        )
    return ref


# A supply event with its proof and batch, by digest or eventId: the common lookup. The
# batch of an event's one proof row is the batch it is in, and its status gives the
# event's (``backend.events.models.event_status``).
#
# A digest is the hash of what was signed; an eventId is the signer's to choose, so it
# may equal another event's digest. The digest wins: an eventId names an event only
# when no supply or EPCIS event has that digest (the branches exclude each other; an
# EPCIS event is the routed endpoint's to answer).
_SUPPLY = (
    "SELECT e.digest, e.event_id, e.subject, e.kind, e.occurred_at, e.location, "
    "e.payload_hash, e.signer, e.signature, p.leaf, p.proof, p.verified_block, "
    "b.root, b.leaf_count, b.status, b.tx_hash, b.block_number, b.block_hash "
    "FROM supply_events e "
    "LEFT JOIN event_proofs p ON p.event_id = e.id "
    "LEFT JOIN anchor_batches b ON b.id = p.batch_id "
    "WHERE e.id = ("
    "SELECT id FROM supply_events WHERE digest = ? "
    "UNION ALL SELECT id FROM supply_events WHERE event_id = ? "
    "AND NOT EXISTS (SELECT 1 FROM supply_events WHERE digest = ?) "
    "AND NOT EXISTS (SELECT 1 FROM epcis_events WHERE digest = ?))"
)


class SupplyProofReader:
    """Proofs of supply events on a kept connection (``backend.db.reader``)."""

    def __init__(self, engine: Engine) -> None:
        self.conn = KeptConnection(engine)
        self.sql = self.conn.statement(_SUPPLY)

    def get(self, *, registry: str, anchorer: str, domain: Domain, ref: str) -> ProofPublic | None:
        """The proof of the supply event ``ref`` names (normalised); ``None`` if none does."""
        r = self.conn.fetchone(self.sql, (ref, ref, ref, ref))
        if r is None:
            return None
        event = SupplyEventPublic(
            digest=r[0],
            event_id=r[1],
            subject=r[2],
            kind=r[3],
            occurred_at=r[4],
            location=r[5],
            payload_hash=r[6],
            signer=r[7],
            signature=r[8],
            status=event_status(r[14]),
        )
        anchor = None
        if r[9] is not None and r[12] is not None:
            anchor = AnchorPublic(
                root=r[12],
                leaf_count=r[13],
                status=r[14],
                tx_hash=r[15],
                block_number=r[16],
                block_hash=r[17],
            )
        return ProofPublic(
            event=event,
            digest=r[0],
            domain=_domain_json(domain),
            leaf=r[9] if anchor else None,
            proof=json.loads(r[10]) if anchor else None,
            anchor=anchor,
            chain_id=domain.chain_id,
            anchor_registry=registry,
            anchorer=anchorer,
            on_chain=(r[11] is not None) if anchor else None,
        )

    def close(self) -> None:
        self.conn.close()


def proof_for(
    *, session: Session, registry: str, anchorer: str, domain: Domain, ref: str
) -> ProofPublic:
    """``ref``: a supply event's digest or ``eventId`` (0x + 64 hex), or a captured EPCIS
    event's hash id (``ni:///sha-256;…?ver=CBV2.0``) or its digest."""
    ref = normalise(ref)
    # Digests first: an eventId is chosen by its signer and may equal another's digest.
    event: SupplyEvent | EpcisEvent | None = (
        session.scalar(select(SupplyEvent).where(SupplyEvent.digest == ref))
        or session.scalar(select(EpcisEvent).where(EpcisEvent.digest == ref))
        or session.scalar(select(SupplyEvent).where(SupplyEvent.event_id == ref))
    )
    if event is None:
        raise NotFound(f"no event with digest, eventId or hash id {ref}")
    proof_of = EventProof.epcis_event_id if isinstance(event, EpcisEvent) else EventProof.event_id
    leaf = proof = None
    anchor = None
    on_chain: bool | None = None
    row = session.scalar(select(EventProof).where(proof_of == event.id))
    if row is not None:
        batch = session.get(AnchorBatch, row.batch_id)
        if batch is not None:
            leaf = row.leaf
            proof = json.loads(row.proof)
            anchor = AnchorPublic.model_validate(batch)
            # Verified once, when the indexer recorded the anchor (``anchoring.indexer``).
            on_chain = row.verified_block is not None
    return ProofPublic(
        event=SupplyEventPublic.model_validate(event) if isinstance(event, SupplyEvent) else None,
        epcis_event=_epcis_public(session, event) if isinstance(event, EpcisEvent) else None,
        digest=event.digest,
        domain=_domain_json(domain),
        leaf=leaf,
        proof=proof,
        anchor=anchor,
        chain_id=domain.chain_id,
        anchor_registry=registry,
        anchorer=anchorer,
        on_chain=on_chain,
    )
