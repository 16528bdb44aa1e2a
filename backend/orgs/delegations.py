"""Delegations: an issuer organisation lets another one add events about its passports."""

from __future__ import annotations

import time

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from backend.chain.client import ChainClient
from backend.chain.eip712 import Domain, digest
from backend.chain.typed_data.events import SUBJECT_DELEGATION
from backend.common.types import hex_bytes, to_hex
from backend.db.base import utcnow
from backend.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.orgs.authority import signer_keys
from backend.orgs.models import Delegation, Organisation
from backend.orgs.schemas import DelegationCreate, DelegationPublic
from backend.orgs.service import Principal, get_org
from backend.orgs.signers import Signed, verify_signature
from backend.orgs.subjects import EVERY_PASSPORT, Basis, require_speaks_for
from backend.pages import store as pages


def _public(d: Delegation, issuer: Organisation, delegate: Organisation) -> DelegationPublic:
    return DelegationPublic(
        id=d.id,
        issuer_org=issuer.slug,
        issuer_name=issuer.name,
        delegate_org=delegate.slug,
        delegate_name=delegate.name,
        subject=d.subject,
        signer=d.signer,
        salt=d.salt,
        digest=d.digest,
        signature=d.signature,
        created_at=d.created_at,
        revoked_at=d.revoked_at,
    )


def message(data: DelegationCreate) -> dict[str, object]:
    """The ``SubjectDelegation`` message as the issuer signed it."""
    return {
        "issuer": data.issuer,
        "subject": hex_bytes(data.subject),
        "delegate": data.delegate,
        "salt": data.salt,
    }


def grant(
    *,
    session: Session,
    principal: Principal,
    chain: ChainClient,
    domain: Domain,
    slug: str,
    data: DelegationCreate,
) -> DelegationPublic:
    """Record a delegation the issuer signed (admin key of the issuer organisation)."""
    issuer = get_org(session=session, slug=slug)
    principal.require_admin_of(issuer)
    grant_digest = digest(domain, SUBJECT_DELEGATION, message(data))
    signer = verify_signature(
        Signed(domain, SUBJECT_DELEGATION, message(data), data.signature, data.issuer, "issuer"),
        chain=chain,
    )
    window = signer_keys(session=session, org_id=issuer.id).get(signer)
    if window is None:
        raise Forbidden(f"{signer} is not a signer key of organisation {issuer.slug!r}")
    window.require_active(signer, int(time.time()))
    delegate = session.scalar(select(Organisation).where(Organisation.slug == data.delegate))
    if delegate is None:
        raise NotFound(f"organisation {data.delegate!r} not found")
    if delegate.id == issuer.id:
        raise InvalidInput("an organisation always speaks for its own passports")
    if data.subject != EVERY_PASSPORT:
        # Only the issuer can hand on the right to speak for a passport.
        require_speaks_for(
            session=session,
            org_id=issuer.id,
            subject=data.subject,
            bases=frozenset({Basis.ISSUER}),
            org_slug=issuer.slug,
        )
    row = Delegation(
        issuer_org_id=issuer.id,
        delegate_org_id=delegate.id,
        subject=data.subject,
        signer=signer,
        salt=to_hex(data.salt),
        digest=to_hex(grant_digest),
        signature=to_hex(data.signature),
        created_at=utcnow(),
    )
    session.add(row)
    pages.mark_speaker(session, delegate.id, data.subject, every=data.subject == EVERY_PASSPORT)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"delegation {to_hex(grant_digest)} is already recorded") from exc
    return _public(row, issuer, delegate)


def revoke(
    *, session: Session, principal: Principal, slug: str, delegation_id: int
) -> DelegationPublic:
    """Withdraw a delegation: from now on it counts for nothing, also for stored events."""
    issuer = get_org(session=session, slug=slug)
    principal.require_admin_of(issuer)
    row = session.get(Delegation, delegation_id)
    if row is None or row.issuer_org_id != issuer.id:
        raise NotFound(f"delegation {delegation_id} not found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        pages.mark_speaker(
            session, row.delegate_org_id, row.subject, every=row.subject == EVERY_PASSPORT
        )
        session.commit()
    delegate = session.get(Organisation, row.delegate_org_id)
    assert delegate is not None  # a foreign key
    return _public(row, issuer, delegate)


def listing(
    *, session: Session, principal: Principal, slug: str, after: int, limit: int
) -> tuple[list[DelegationPublic], int | None]:
    """Delegations the organisation granted or received (any of its keys may read them)."""
    org = get_org(session=session, slug=slug)
    if not principal.operator and principal.org_id != org.id:
        raise NotFound(f"organisation {slug!r} not found")
    issuer, delegate = aliased(Organisation), aliased(Organisation)
    rows = session.execute(
        select(Delegation, issuer, delegate)
        .join(issuer, issuer.id == Delegation.issuer_org_id)
        .join(delegate, delegate.id == Delegation.delegate_org_id)
        .where(
            or_(Delegation.issuer_org_id == org.id, Delegation.delegate_org_id == org.id),
            Delegation.id > after,
        )
        .order_by(Delegation.id)
        .limit(limit + 1)
    ).all()
    items = [_public(d, i, g) for d, i, g in rows[:limit]]
    return items, (items[-1].id if len(rows) > limit else None)
