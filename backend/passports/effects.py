"""What each relayed passport write leaves in the indexed read model."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.passports.models import Attestation, PassportStatusChange, PassportVersion
from backend.relayer.effects import Effect


class PassportVersioned(Effect):
    """A version issued (``version`` 1) or amended."""

    kind: ClassVar[str] = "passport_versioned"
    version: int

    def find(self, session: Session) -> tuple[str, int] | None:
        v = session.scalar(
            select(PassportVersion).where(
                PassportVersion.passport_id == self.subject,
                PassportVersion.version == self.version,
            )
        )
        return None if v is None else (v.tx_hash, v.block_number)


class PassportStatusSet(Effect):
    """Recalled or revoked."""

    kind: ClassVar[str] = "passport_status_set"
    status: str

    def find(self, session: Session) -> tuple[str, int] | None:
        c = session.scalar(
            select(PassportStatusChange)
            .where(
                PassportStatusChange.passport_id == self.subject,
                PassportStatusChange.status == self.status,
            )
            .limit(1)
        )
        return None if c is None else (c.tx_hash, c.block_number)


class AttestationMade(Effect):
    kind: ClassVar[str] = "attestation_made"
    attestation_id: str

    def find(self, session: Session) -> tuple[str, int] | None:
        att = session.get(Attestation, self.attestation_id)
        return None if att is None else (att.tx_hash, att.block_number)


class AttestationRevoked(Effect):
    kind: ClassVar[str] = "attestation_revoked"
    attestation_id: str

    def find(self, session: Session) -> tuple[str, int] | None:
        att = session.get(Attestation, self.attestation_id)
        if att is None or att.revoked_tx_hash is None or att.revoked_block is None:
            return None
        return att.revoked_tx_hash, att.revoked_block


#: The kinds of every passport write (earlier ones to the same passport queue later ones).
KINDS = tuple(
    e.kind for e in (PassportVersioned, PassportStatusSet, AttestationMade, AttestationRevoked)
)
