"""What each relayed shipment write leaves in the indexed read model."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.relayer.effects import Effect, landed
from backend.shipments.models import Milestone, MilestoneCorrection, OverdueFlag, Shipment


class ShipmentCreated(Effect):
    kind: ClassVar[str] = "shipment_created"

    def find(self, session: Session) -> tuple[str, int] | None:
        return landed(session.get(Shipment, self.subject))


class MilestonesRecorded(Effect):
    """Every milestone of the batch, by record hash (the subject is its first shipment)."""

    kind: ClassVar[str] = "milestones_recorded"
    record_hashes: list[str]

    def find(self, session: Session) -> tuple[str, int] | None:
        rows = session.scalars(
            select(Milestone).where(Milestone.record_hash.in_(self.record_hashes))
        ).all()
        if not rows or len(rows) != len(set(self.record_hashes)):
            return None
        return landed(rows[-1])


class MilestoneCorrected(Effect):
    kind: ClassVar[str] = "milestone_corrected"
    corrected_index: int
    signer: str

    def find(self, session: Session) -> tuple[str, int] | None:
        return landed(
            session.scalar(
                select(MilestoneCorrection).where(
                    MilestoneCorrection.shipment_id == self.subject,
                    MilestoneCorrection.corrected_index == self.corrected_index,
                    MilestoneCorrection.signer == self.signer,
                )
            )
        )


class OverdueFlagged(Effect):
    kind: ClassVar[str] = "overdue_flagged"
    milestone: int

    def find(self, session: Session) -> tuple[str, int] | None:
        return landed(
            session.scalar(
                select(OverdueFlag).where(
                    OverdueFlag.shipment_id == self.subject, OverdueFlag.milestone == self.milestone
                )
            )
        )


#: The kinds of every shipment write (earlier ones to the same shipment queue later ones).
KINDS = tuple(
    e.kind for e in (ShipmentCreated, MilestonesRecorded, MilestoneCorrected, OverdueFlagged)
)
