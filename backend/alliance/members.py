"""Alliance member addresses: which organisation may act for which address.

An organisation acts only for the member addresses it registered, each with a
``personal_sign`` signature proving control of it.
"""

from __future__ import annotations

from eth_utils import to_checksum_address
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.alliance.models import AllianceMember
from backend.alliance.schemas import MemberCreate, MemberPublic, MembersPublic
from backend.chain import ChainClient, eip712
from backend.chain.signatures import refusal
from backend.errors import Conflict, Forbidden, InvalidInput
from backend.orgs.models import Organisation
from backend.orgs.schemas import Scope
from backend.orgs.service import Principal

#: API-key scopes that act for member addresses.
MEMBER_SCOPES = frozenset({Scope.SELLER, Scope.SUPPLIER})


def member_proof_text(address: str, org_slug: str) -> str:
    """The text a member address signs (``personal_sign``) to be registered to an org."""
    return f"Waymark alliance member {to_checksum_address(address)} for organisation {org_slug}"


def caller_org(session: Session, principal: Principal) -> Organisation:
    """The calling organisation (403 for a key of none)."""
    if principal.org_id is None:
        raise Forbidden("this endpoint needs an organisation's API key")
    org = session.get(Organisation, principal.org_id)
    assert org is not None
    return org


def register_member(
    *, session: Session, chain: ChainClient, principal: Principal, data: MemberCreate
) -> MemberPublic:
    """Register ``data.address`` to the caller's organisation (admin key, proof of control).

    The proof is the address's by the contracts' one signature rule: a plain key's
    ``personal_sign`` recovers to it, a contract wallet's ERC-1271 answer accepts it.
    """
    org = caller_org(session, principal)
    principal.require_admin_of(org)
    text = member_proof_text(data.address, org.slug)
    why = refusal(
        chain, address=data.address, digest=eip712.personal_digest(text), signature=data.signature
    )
    if why is not None:
        raise InvalidInput(f"signature is not {data.address}'s: {why}; sign {text!r}")
    row = AllianceMember(org_id=org.id, address=data.address, label=data.label)
    session.add(row)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"{data.address} is already registered") from exc
    return MemberPublic(id=row.id, address=row.address, label=row.label)


def list_members(*, session: Session, principal: Principal) -> MembersPublic:
    """The member addresses the calling organisation registered."""
    org = caller_org(session, principal)
    rows = session.scalars(
        select(AllianceMember).where(AllianceMember.org_id == org.id).order_by(AllianceMember.id)
    ).all()
    return MembersPublic(
        items=[MemberPublic(id=r.id, address=r.address, label=r.label) for r in rows]
    )


def own_addresses(session: Session, principal: Principal) -> set[str]:
    """The member addresses the calling organisation registered (none without one)."""
    if principal.org_id is None:
        return set()
    return set(
        session.scalars(
            select(AllianceMember.address).where(AllianceMember.org_id == principal.org_id)
        )
    )


def require_member(session: Session, principal: Principal, address: str) -> None:
    """The caller's organisation registered ``address``; otherwise 403."""
    if address not in own_addresses(session, principal):
        raise Forbidden(f"{address} is not a member address of your organisation")
