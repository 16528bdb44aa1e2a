"""Access levels (ESPR style): who may read a passport's restricted sections.

A passport document's ``restricted_sections`` are each ``legitimate_interest``
(repairers, recyclers) or ``authority`` (market surveillance, customs). Public
reads (passport view, consumer page, public credential, proof bundle) carry only
their digests. The issuer organisation grants another organisation a level, for
one passport or all it issues, and may revoke the grant; ``authority`` includes
``legitimate_interest``. The issuer organisation itself reads everything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.credentials.models import AccessGrant
from backend.db.base import utcnow
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.orgs.models import Organisation
from backend.passports.canonical import section_digest

LEVELS: Final = ("public", "legitimate_interest", "authority")
RESTRICTED: Final = ("legitimate_interest", "authority")
ALL_PASSPORTS: Final = "0x" + "00" * 32


def rank(level: str) -> int:
    return LEVELS.index(level)


def grant(
    *,
    session: Session,
    issuer_org_id: int,
    grantee: str,
    level: str,
    passport_id: str | None,
) -> AccessGrant:
    """Record a grant from ``issuer_org_id`` to the organisation ``grantee`` (a slug)."""
    if level not in RESTRICTED:
        raise InvalidInput(f"level must be one of {', '.join(RESTRICTED)}, got {level!r}")
    other = session.scalar(select(Organisation).where(Organisation.slug == grantee))
    if other is None:
        raise NotFound(f"organisation {grantee!r} not found")
    if other.id == issuer_org_id:
        raise InvalidInput("an organisation already reads its own passports in full")
    row = AccessGrant(
        issuer_org_id=issuer_org_id,
        grantee_org_id=other.id,
        level=level,
        passport_id=(passport_id or ALL_PASSPORTS).lower(),
    )
    session.add(row)
    session.commit()
    return row


def revoke(*, session: Session, issuer_org_id: int, grant_id: int) -> AccessGrant:
    row = session.get(AccessGrant, grant_id)
    if row is None or row.issuer_org_id != issuer_org_id:
        raise NotFound(f"access grant {grant_id} not found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
    return row


def granted_level(
    *, session: Session, issuer_org_id: int, reader_org_id: int | None, passport_id: str
) -> str:
    """The highest level ``reader_org_id`` holds for the passport (``public`` if none)."""
    if reader_org_id is None:
        return "public"
    if reader_org_id == issuer_org_id:
        return "authority"
    levels = session.scalars(
        select(AccessGrant.level).where(
            AccessGrant.issuer_org_id == issuer_org_id,
            AccessGrant.grantee_org_id == reader_org_id,
            AccessGrant.revoked_at.is_(None),
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
) -> None:
    """Raise 403 naming ``level`` unless the reader holds it for this passport."""
    held = granted_level(
        session=session,
        issuer_org_id=issuer_org_id,
        reader_org_id=reader_org_id,
        passport_id=passport_id,
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
        "revoked_at": revoked.isoformat() if revoked else None,
    }
