"""Who may speak for a subject: the one rule every write path and public read applies.

A *subject* is what a signed event or milestone is about: a passport id or a
shipment id (both ``bytes32`` as lower-case 0x hex). An organisation may add
events about

* a **passport** if it is the passport's issuer organisation (the organisation
  holding the issuer key on chain, or the one whose issue is on its way), an
  organisation the issuer delegated (:class:`~backend.orgs.models.Delegation`,
  signed by the issuer, not revoked), or a party (seller, carrier, warehouse,
  customs broker) to a shipment whose manifest carries the passport and whose
  seller is the issuer or one of its delegates;
* a **shipment** if it is a party to it (the seller's organisation, or the
  organisation of a carrier, warehouse or broker key named in it).

Anything else is refused with :data:`RULE`. Subjects the service does not know
(neither a passport nor a shipment yet) belong to nobody: events about them are
kept, and shown once the subject exists only if their organisation may speak
for it then, because :func:`speakers` is applied again when the public page and
the proof bundle are read.

:func:`speakers` answers for many subjects with a fixed number of queries, so a
batch of a thousand events costs the same handful of round trips as one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.errors import Forbidden
from backend.orgs.models import Delegation, SignerKey
from backend.passports.models import Passport, PassportWrite
from backend.relayer.models import RelayRequest
from backend.shipments.models import ManifestLine, Shipment, ShipmentManifest

RULE = "subject rule"
RULE_TEXT = (
    "only the passport's issuer organisation, an organisation the issuer delegated, "
    "or a party to a shipment whose manifest carries the passport may add events about it; "
    "only a party to a shipment may add events about the shipment"
)
EVERY_PASSPORT = "0x" + "00" * 32
ISSUE_PURPOSE = "passport_issue"
_CHUNK = 500


class Basis(StrEnum):
    """Why an organisation may speak for a subject."""

    ISSUER = "issuer"
    DELEGATE = "delegate"
    SHIPMENT_PARTY = "shipment_party"


class SubjectKind(StrEnum):
    PASSPORT = "passport"
    SHIPMENT = "shipment"
    UNKNOWN = "unknown"


@dataclass
class Speakers:
    """Who may speak for one subject, and on what basis."""

    kind: SubjectKind = SubjectKind.UNKNOWN
    orgs: dict[int, Basis] = field(default_factory=dict)

    def basis(self, org_id: int) -> Basis | None:
        return self.orgs.get(org_id)

    def _grant(self, org_id: int | None, basis: Basis) -> None:
        # The strongest basis wins: issuer > delegate > shipment party.
        if org_id is not None and org_id not in self.orgs:
            self.orgs[org_id] = basis


def _chunks(values: Iterable[str]) -> list[list[str]]:
    items = sorted(set(values))
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _org_of_addresses(session: Session, addresses: Iterable[str]) -> dict[str, int]:
    """EIP-55 address → organisation of the signer key, keyed by the lower-case address."""
    out: dict[str, int] = {}
    for chunk in _chunks(a for a in addresses if a):
        rows = session.execute(
            select(SignerKey.address, SignerKey.org_id).where(SignerKey.address.in_(chunk))
        )
        out.update({a.lower(): org for a, org in rows})
    return out


def _shipment_parties(session: Session, shipment_ids: Collection[str]) -> dict[str, set[int]]:
    """shipment id → organisations party to it (seller org, and orgs of named party keys)."""
    parties: dict[str, set[int]] = defaultdict(set)
    addresses: dict[str, set[str]] = defaultdict(set)
    for chunk in _chunks(shipment_ids):
        for sid, org in session.execute(
            select(ShipmentManifest.shipment_id, ShipmentManifest.org_id).where(
                ShipmentManifest.shipment_id.in_(chunk)
            )
        ):
            parties[sid].add(org)
        for s in session.scalars(select(Shipment).where(Shipment.id.in_(chunk))):
            named = [s.seller, *s.carriers, s.warehouse, s.customs_broker]
            addresses[s.id].update(a for a in named if a)
    orgs = _org_of_addresses(session, {a for group in addresses.values() for a in group})
    for sid, group in addresses.items():
        parties[sid].update(orgs[a.lower()] for a in group if a.lower() in orgs)
    return parties


def _issuer_orgs(session: Session, passport_ids: list[str]) -> dict[str, int | None]:
    """passport id → issuer organisation (``None``: issued by a key no organisation holds)."""
    issuers: dict[str, int | None] = {}
    issuer_keys: dict[str, str] = {}
    for chunk in _chunks(passport_ids):
        for pid, issuer in session.execute(
            select(Passport.id, Passport.issuer).where(Passport.id.in_(chunk))
        ):
            issuer_keys[pid] = issuer
    orgs = _org_of_addresses(session, issuer_keys.values())
    for pid, issuer in issuer_keys.items():
        issuers[pid] = orgs.get(issuer.lower())
    # An issue that is relayed but not yet indexed speaks for its organisation;
    # one the contract refused does not.
    pending = [p for p in passport_ids if p not in issuers]
    for chunk in _chunks(pending):
        for pid, org in session.execute(
            select(PassportWrite.passport_id, PassportWrite.org_id)
            .join(RelayRequest, RelayRequest.id == PassportWrite.relay_id)
            .where(
                PassportWrite.passport_id.in_(chunk),
                PassportWrite.action == ISSUE_PURPOSE,
                RelayRequest.status != "failed",
            )
            .order_by(PassportWrite.id)
        ):
            issuers.setdefault(pid, org)
    return issuers


def speakers(*, session: Session, subjects: Collection[str]) -> dict[str, Speakers]:
    """For each subject, the organisations that may add events about it and why."""
    out = {s: Speakers() for s in subjects}
    issuers = _issuer_orgs(session, list(out))
    passports = list(issuers)
    for pid, org in issuers.items():
        out[pid].kind = SubjectKind.PASSPORT
        out[pid]._grant(org, Basis.ISSUER)

    # Delegations by each passport's issuer, for that passport or for all of them.
    delegates: dict[str, set[int]] = defaultdict(set)
    issuer_orgs = {o for o in issuers.values() if o is not None}
    if issuer_orgs:
        by_issuer: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for chunk in _chunks(passports):
            for issuer_org, subject, delegate in session.execute(
                select(
                    Delegation.issuer_org_id, Delegation.subject, Delegation.delegate_org_id
                ).where(
                    Delegation.issuer_org_id.in_(issuer_orgs),
                    Delegation.revoked_at.is_(None),
                    or_(Delegation.subject.in_(chunk), Delegation.subject == EVERY_PASSPORT),
                )
            ):
                by_issuer[issuer_org].append((subject, delegate))
        for pid, org in issuers.items():
            for subject, delegate in by_issuer.get(org, []) if org is not None else []:
                if subject in (pid, EVERY_PASSPORT):
                    delegates[pid].add(delegate)
                    out[pid]._grant(delegate, Basis.DELEGATE)

    # Parties to shipments that carry the passport, counted only when the
    # shipment's seller speaks for the passport itself: a manifest naming a
    # stranger's passport gives its parties nothing.
    carrying: dict[str, set[str]] = defaultdict(set)
    for chunk in _chunks(passports):
        for sid, pid in session.execute(
            select(ManifestLine.shipment_id, ManifestLine.passport_id).where(
                ManifestLine.passport_id.in_(chunk)
            )
        ):
            carrying[pid].add(sid)
    unknown = [s for s in out if s not in issuers]
    parties = _shipment_parties(
        session, {sid for group in carrying.values() for sid in group} | set(unknown)
    )
    sellers = _sellers(session, {sid for group in carrying.values() for sid in group})
    for pid, sids in carrying.items():
        entitled = {issuers[pid], *delegates[pid]}
        for sid in sorted(sids):
            if sellers.get(sid) in entitled:
                for org in sorted(parties.get(sid, ())):
                    out[pid]._grant(org, Basis.SHIPMENT_PARTY)
    for sid in unknown:
        if sid in parties:
            out[sid].kind = SubjectKind.SHIPMENT
            for org in sorted(parties[sid]):
                out[sid]._grant(org, Basis.SHIPMENT_PARTY)
    return out


def _sellers(session: Session, shipment_ids: Collection[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(shipment_ids):
        for sid, org in session.execute(
            select(ShipmentManifest.shipment_id, ShipmentManifest.org_id).where(
                ShipmentManifest.shipment_id.in_(chunk)
            )
        ):
            out[sid] = org
    return out


def refusal(subject: str, kind: SubjectKind, org_slug: str | None = None) -> Forbidden:
    """The 403 naming the rule for an organisation that may not speak for ``subject``."""
    who = f"organisation {org_slug!r}" if org_slug else "this organisation"
    return Forbidden(
        f"{RULE}: {who} may not add events about {kind.value} {subject}; {RULE_TEXT}",
        rule=RULE,
    )


def require_speaks_for(
    *,
    session: Session,
    org_id: int,
    subject: str,
    bases: frozenset[Basis] = frozenset(Basis),
    org_slug: str | None = None,
) -> Basis | None:
    """The basis on which ``org_id`` speaks for ``subject`` (403 naming the rule if none).

    ``None`` for a subject the service does not know yet (nobody speaks for it).
    """
    found = speakers(session=session, subjects=[subject])[subject]
    if found.kind is SubjectKind.UNKNOWN:
        return None
    basis = found.basis(org_id)
    if basis is None or basis not in bases:
        raise refusal(subject, found.kind, org_slug)
    return basis
