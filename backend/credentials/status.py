"""W3C Bitstring Status List v1.0: one revocation list per issuing organisation.

Each passport gets a random free position in its issuer's list the first time
one of its credentials is exported (assigned once, never reused). The bit at that
position is 1 while the passport is recalled or revoked on chain, read from
the passport read model whenever the list is served, so a recall shows in the
list as soon as the indexer has seen it and the passport's credentials keep
resolving with it.
"""

from __future__ import annotations

import base64
import gzip
import secrets
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.credentials.models import StatusEntry

# The specification's minimum (16 KiB), so a list does not reveal how few entries it has.
MIN_BITS = 131_072
PURPOSE = "revocation"


def encode(set_positions: Iterable[int], *, length: int = MIN_BITS) -> str:
    """Multibase base64url (``u``…) of the GZIP of the bitstring; bit 0 is the leftmost."""
    positions = list(set_positions)
    size = max(length, (max(positions, default=-1) // 8 + 1) * 8)
    bits = bytearray(size // 8)
    for p in positions:
        bits[p // 8] |= 0x80 >> (p % 8)
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url (prefix 'u')")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def is_set(bits: bytes, position: int) -> bool:
    return bool(bits[position // 8] & (0x80 >> (position % 8)))


def position_of(session: Session, *, org_id: int, passport_id: str) -> int:
    """The passport's position in its issuer's list, assigned on first use. May commit."""
    for _ in range(20):
        entry = session.get(StatusEntry, passport_id)
        if entry is not None:
            return entry.position
        # A random free position (the specification's advice): a list's set bits then say
        # nothing about the order in which passports were issued.
        count = session.scalar(
            select(func.count()).select_from(StatusEntry).where(StatusEntry.org_id == org_id)
        )
        if (count or 0) >= MIN_BITS:
            raise RuntimeError(f"the status list of organisation {org_id} is full")
        session.add(
            StatusEntry(
                passport_id=passport_id, org_id=org_id, position=secrets.randbelow(MIN_BITS)
            )
        )
        try:
            session.commit()
        except IntegrityError:  # a concurrent export took the position or the passport
            session.rollback()
    raise RuntimeError(f"could not assign a status list position to passport {passport_id}")
