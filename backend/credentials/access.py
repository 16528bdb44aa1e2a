"""Access levels (ESPR style): who may read a passport's restricted sections.

A passport document's ``restricted_sections`` are each ``legitimate_interest``
(repairers, recyclers) or ``authority`` (market surveillance, customs). Public
reads (passport view, consumer page, public credential, proof bundle) carry only
their digests. The issuer organisation grants another organisation a level, for
one passport or all it issues, until an expiry, and may revoke the grant;
``authority`` includes ``legitimate_interest``. The issuer organisation itself
reads everything.

A grant is an EIP-712 ``AccessGrant`` signed by an issuer key of the brand's
organisation (as ``backend.orgs.authority`` judges keys: in OrganisationRegistry,
active at receipt, holding the issuer role); the API key only says who submits it.
A revocation is an ``AccessGrantRevocation`` of the grant's digest signed the same
way. Each refusal names its rule: the grant signature rule, the key validity rule,
the grant expiry rule, the replay rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.chain.client import ChainClient
from backend.chain.eip712 import Domain, SignatureInvalid, digest, recover
from backend.chain.organisations import Role
from backend.chain.typed_data.events import ACCESS_GRANT, ACCESS_GRANT_REVOCATION
from backend.common.types import hex_bytes, to_hex
from backend.credentials.models import AccessGrant
from backend.db.base import utcnow
from backend.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.orgs.authority import signer_keys
from backend.orgs.models import Organisation
from backend.passports.canonical import section_digest

LEVELS: Final = ("public", "legitimate_interest", "authority")
RESTRICTED: Final = ("legitimate_interest", "authority")
ALL_PASSPORTS: Final = "0x" + "00" * 32
SIGNATURE_RULE: Final = "grant signature rule"
EXPIRY_RULE: Final = "grant expiry rule"
REPLAY_RULE: Final = "grant replay rule"


@dataclass(frozen=True)
class SignedGrant:
    """The ``AccessGrant`` message fields and the brand's signature (a key's 65 bytes or a
    contract wallet's)."""

    issuer: str  # the signer key, EIP-55
    grantee: str
    level: str
    passport_id: str | None
    expires_at: int
    salt: bytes
    signature: bytes

    def message(self) -> dict[str, object]:
        return {
            "issuer": self.issuer,
            "grantee": self.grantee,
            "level": self.level,
            "passport": hex_bytes(self.passport_id or ALL_PASSPORTS),
            "expiresAt": self.expires_at,
            "salt": self.salt,
        }


def _issuer_key(
    session: Session,
    *,
    chain: ChainClient,
    org: Organisation,
    digest_bytes: bytes,
    signature: bytes,
    now: int,
    claimed: str | None,
) -> str:
    """The issuer key of ``org`` that made ``signature`` over ``digest_bytes`` (403 otherwise).

    A plain key's signature names its signer by recovery. When it does not recover to the
    ``claimed`` signer and that address is a contract wallet, the wallet's ERC-1271
    ``isValidSignature`` (at the chain head) decides, asked of the claimed address alone:
    the contracts' one signature rule.
    """
    try:
        signer: str | None = recover(digest_bytes, signature)
        problem = ""
    except SignatureInvalid as exc:
        signer, problem = None, str(exc)
    if claimed is not None and signer != claimed and chain.has_code(claimed):
        if not chain.is_valid_signature(claimed, digest_bytes, signature):
            raise InvalidInput(
                f"{SIGNATURE_RULE}: contract wallet {claimed} does not accept the signature "
                "(ERC-1271 isValidSignature)"
            )
        signer = claimed
    if signer is None:
        raise InvalidInput(f"{SIGNATURE_RULE}: signature: {problem}")
    window = signer_keys(session=session, org_id=org.id).get(signer)
    if window is None:
        raise Forbidden(
            f"{SIGNATURE_RULE}: signed by {signer}, which is not a signer key of organisation "
            f"{org.slug!r} in OrganisationRegistry; only the brand's own keys grant access "
            "to its passports"
        )
    window.require_active(signer, now, role=Role.ISSUER, needed_by="granting passport access")
    return signer


def rank(level: str) -> int:
    return LEVELS.index(level)


def grant(
    *,
    session: Session,
    chain: ChainClient,
    domain: Domain,
    issuer_org_id: int,
    data: SignedGrant,
    now: int,
) -> AccessGrant:
    """Record a grant an issuer key of ``issuer_org_id`` signed, once."""
    if data.level not in RESTRICTED:
        raise InvalidInput(f"level must be one of {', '.join(RESTRICTED)}, got {data.level!r}")
    org = session.get(Organisation, issuer_org_id)
    if org is None:
        raise NotFound(f"organisation {issuer_org_id} not found")
    grant_digest = digest(domain, ACCESS_GRANT, data.message())
    signer = _issuer_key(
        session,
        chain=chain,
        org=org,
        digest_bytes=grant_digest,
        signature=data.signature,
        now=now,
        claimed=data.issuer,
    )
    if signer != data.issuer:
        raise InvalidInput(
            f"{SIGNATURE_RULE}: the signature was made by {signer}, not by issuer {data.issuer}"
        )
    if data.expires_at <= now:
        raise InvalidInput(
            f"{EXPIRY_RULE}: the grant expired at {data.expires_at} (unix seconds); "
            "the brand must sign a new one"
        )
    other = session.scalar(select(Organisation).where(Organisation.slug == data.grantee))
    if other is None:
        raise NotFound(f"organisation {data.grantee!r} not found")
    if other.id == issuer_org_id:
        raise InvalidInput("an organisation already reads its own passports in full")
    row = AccessGrant(
        issuer_org_id=issuer_org_id,
        grantee_org_id=other.id,
        level=data.level,
        passport_id=(data.passport_id or ALL_PASSPORTS).lower(),
        signer=signer,
        salt=to_hex(data.salt),
        expires_at=data.expires_at,
        digest=to_hex(grant_digest),
        signature=to_hex(data.signature),
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            f"{REPLAY_RULE}: grant {to_hex(grant_digest)} is already recorded; "
            "a signed grant counts once (sign a new one with a new salt)"
        ) from None
    return row


def revoke(
    *,
    session: Session,
    chain: ChainClient,
    domain: Domain,
    issuer_org_id: int,
    grant_id: int,
    signature: bytes,
    now: int,
    signer: str | None = None,
) -> AccessGrant:
    """Withdraw one of the organisation's grants with a revocation one of its issuer keys signed."""
    row = session.get(AccessGrant, grant_id)
    if row is None or row.issuer_org_id != issuer_org_id or row.digest is None:
        raise NotFound(f"access grant {grant_id} not found")
    org = session.get(Organisation, issuer_org_id)
    assert org is not None  # a foreign key
    message = {"grant": hex_bytes(row.digest)}
    signer = _issuer_key(
        session,
        chain=chain,
        org=org,
        digest_bytes=digest(domain, ACCESS_GRANT_REVOCATION, message),
        signature=signature,
        now=now,
        claimed=signer,
    )
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        row.revoked_by = signer
        row.revocation_signature = to_hex(signature)
        session.commit()
    return row


def granted_level(
    *,
    session: Session,
    issuer_org_id: int,
    reader_org_id: int | None,
    passport_id: str,
    now: int,
) -> str:
    """The highest level ``reader_org_id`` holds for the passport at ``now`` (``public``
    if none): signed grants only, neither revoked nor expired."""
    if reader_org_id is None:
        return "public"
    if reader_org_id == issuer_org_id:
        return "authority"
    levels = session.scalars(
        select(AccessGrant.level).where(
            AccessGrant.issuer_org_id == issuer_org_id,
            AccessGrant.grantee_org_id == reader_org_id,
            AccessGrant.revoked_at.is_(None),
            AccessGrant.signature.is_not(None),
            AccessGrant.expires_at > now,
            or_(AccessGrant.passport_id == passport_id, AccessGrant.passport_id == ALL_PASSPORTS),
        )
    ).all()
    return max(levels, key=rank, default="public")


def require(
    *,
    session: Session,
    issuer_org_id: int,
    reader_org_id: int | None,
    reader: str | None,
    passport_id: str,
    level: str,
    now: int,
) -> None:
    """Raise 403 naming ``level`` unless the reader holds it for this passport."""
    held = granted_level(
        session=session,
        issuer_org_id=issuer_org_id,
        reader_org_id=reader_org_id,
        passport_id=passport_id,
        now=now,
    )
    if rank(held) < rank(level):
        who = f"organisation {reader!r}" if reader else "an anonymous reader"
        raise Forbidden(
            f"access level {level} required: {who} holds no {level} grant from the issuer "
            f"of passport {passport_id}"
        )


def view(document: dict[str, Any], level: str) -> dict[str, Any]:
    """``document`` with each restricted section above ``level`` in its digest form."""
    sections = document.get("restricted_sections")
    if not isinstance(sections, list):
        return dict(document)
    shown = []
    for section in sections:
        if "content" in section and rank(section["access"]) > rank(level):
            shown.append(
                {
                    "name": section["name"],
                    "access": section["access"],
                    "digest": section_digest(section),
                }
            )
        else:
            shown.append(section)
    return {**document, "restricted_sections": shown}


def grant_public(row: AccessGrant, *, session: Session) -> dict[str, Any]:
    orgs = {
        o.id: o.slug
        for o in session.scalars(
            select(Organisation).where(Organisation.id.in_((row.issuer_org_id, row.grantee_org_id)))
        )
    }
    revoked: datetime | None = row.revoked_at
    return {
        "id": row.id,
        "issuer": orgs.get(row.issuer_org_id),
        "grantee": orgs.get(row.grantee_org_id),
        "level": row.level,
        "passport_id": None if row.passport_id == ALL_PASSPORTS else row.passport_id,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at,
        "signer": row.signer,
        "digest": row.digest,
        "revoked_at": revoked.isoformat() if revoked else None,
        "revoked_by": row.revoked_by,
    }
