"""What passports tell the subject rule: each passport's issuer organisation."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.lists import among
from backend.orgs.authority import org_ids_of
from backend.orgs.subjects import SubjectFacts, chunks
from backend.passports.models import Passport
from backend.relayer.models import RelayRequest, RelayStatus, RelayWrite

ISSUE_PURPOSE = "passport_issue"


def passport_subjects(session: Session, subjects: Collection[str]) -> SubjectFacts:
    """Issuer organisation of each subject that is a passport (indexed, or on its way)."""
    facts = SubjectFacts()
    issuer_keys: dict[str, str] = {}
    for chunk in chunks(subjects):
        for pid, issuer in session.execute(
            select(Passport.id, Passport.issuer).where(among(session, Passport.id, chunk))
        ):
            issuer_keys[pid] = issuer
    orgs = org_ids_of(session, issuer_keys.values())
    for pid, issuer in issuer_keys.items():
        facts.issuers[pid] = orgs.get(issuer.lower())
    # An issue relayed but not yet indexed speaks for its organisation; one the
    # contract refused does not.
    pending = [p for p in subjects if p not in facts.issuers]
    for chunk in chunks(pending):
        for pid, org in session.execute(
            select(RelayWrite.subject, RelayWrite.org_id)
            .join(RelayRequest, RelayRequest.id == RelayWrite.relay_id)
            .where(
                among(session, RelayWrite.subject, chunk),
                RelayRequest.purpose == ISSUE_PURPOSE,
                RelayRequest.status != RelayStatus.FAILED,
            )
            .order_by(RelayWrite.id)
        ):
            facts.issuers.setdefault(pid, org)
    return facts
