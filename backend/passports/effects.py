"""What each relayed passport write leaves in the indexed read model."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.passports.models import Attestation, PassportStatusChange, PassportVersion
from backend.relayer.effects import Effect, landed


class PassportVersioned(Effect):
    """A version issued (``version`` 1) or amended."""

    kind: ClassVar[str] = "passport_versioned"
    version: int

    def find(self, session: Session) -> tuple[str, int] | None:
        return landed(
            session.scalar(
                select(PassportVersion).where(
                    PassportVersion.passport_id == self.subject,
                    PassportVersion.version == self.version,
                )
            )
        )


class PassportStatusSet(Effect):
    """Recalled or revoked."""

    kind: ClassVar[str] = "passport_status_set"
    status: str

    def find(self, session: Session) -> tuple[str, int] | None:
        return landed(
            session.scalar(
                select(PassportStatusChange)
                .where(
                    PassportStatusChange.passport_id == self.subject,
                    PassportStatusChange.status == self.status,
                )
                .limit(1)
            )
        )


class AttestationMade(Effect):
    kind: ClassVar[str] = "attestation_made"
    attestation_id: str

    def find(self, session: Session) -> tuple[str, int] | None:
        return landed(session.get(Attestation, self.attestation_id))


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
