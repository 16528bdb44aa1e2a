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

The rule lives here, below the domains that know the facts: passports and
shipments each register a *subject source* (:func:`register_source`, wired
by the app) that reports what they know about a set of subjects as
organisation ids, so this module reads no domain table itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.db.lists import among
from backend.errors import Forbidden
from backend.orgs.models import Delegation

RULE = "subject rule"
RULE_TEXT = (
    "only the passport's issuer organisation, an organisation the issuer delegated, "
    "or a party to a shipment whose manifest carries the passport may add events about it; "
    "only a party to a shipment may add events about the shipment"
)
EVERY_PASSPORT = "0x" + "00" * 32
CHUNK = 500


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
class SubjectFacts:
    """What a domain knows about subjects, as organisation ids."""

    # passport id → issuer organisation (None: issued by a key no organisation holds)
    issuers: dict[str, int | None] = field(default_factory=dict)
    # passport id → shipments whose manifest carries it
    carried_by: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # shipment id → the seller's organisation
    sellers: dict[str, int] = field(default_factory=dict)
    # shipment id → organisations party to it (seller, carriers, warehouse, broker)
    parties: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    # shipment id → passports its manifest carries
    carries: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def merge(self, other: SubjectFacts) -> None:
        for pid, org in other.issuers.items():
            self.issuers.setdefault(pid, org)
        for pid, sids in other.carried_by.items():
            self.carried_by[pid] |= sids
        for sid, org in other.sellers.items():
            self.sellers.setdefault(sid, org)
        for sid, orgs in other.parties.items():
            self.parties[sid] |= orgs
        for sid, pids in other.carries.items():
            self.carries[sid] |= pids


SubjectSource = Callable[[Session, Collection[str]], SubjectFacts]
_SOURCES: dict[str, SubjectSource] = {}


def register_source(name: str, source: SubjectSource) -> None:
    """Let a domain report what it knows about subjects (idempotent by ``name``)."""
    _SOURCES[name] = source


@dataclass
class Speakers:
    """Who may speak for one subject, and on what basis."""

    kind: SubjectKind = SubjectKind.UNKNOWN
    orgs: dict[int, Basis] = field(default_factory=dict)
    # For a shipment: the passports its manifest carries.
    carries: frozenset[str] = frozenset()

    def basis(self, org_id: int) -> Basis | None:
        return self.orgs.get(org_id)

    def grant(self, org_id: int | None, basis: Basis) -> None:
        # The strongest basis wins: issuer > delegate > shipment party.
        if org_id is not None and org_id not in self.orgs:
            self.orgs[org_id] = basis


def chunks(values: Iterable[str]) -> list[list[str]]:
    """Sorted, distinct values in slices small enough for one ``IN (…)``."""
    items = sorted(set(values))
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _facts(session: Session, subjects: Collection[str]) -> SubjectFacts:
    if not _SOURCES:
        # Fail closed: without the domains' facts every subject would look unknown.
        raise RuntimeError("no subject sources are registered (see backend.main)")
    facts = SubjectFacts()
    for source in _SOURCES.values():
        facts.merge(source(session, subjects))
    return facts


def _delegates(session: Session, issuers: dict[str, int | None]) -> dict[str, set[int]]:
    """passport id → organisations its issuer delegated (for it, or for all its passports)."""
    out: dict[str, set[int]] = defaultdict(set)
    issuer_orgs = {o for o in issuers.values() if o is not None}
    if not issuer_orgs:
        return out
    grants: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for chunk in chunks(issuers):
        for issuer_org, subject, delegate in session.execute(
            select(Delegation.issuer_org_id, Delegation.subject, Delegation.delegate_org_id).where(
                Delegation.issuer_org_id.in_(issuer_orgs),
                Delegation.revoked_at.is_(None),
                or_(
                    among(session, Delegation.subject, chunk), Delegation.subject == EVERY_PASSPORT
                ),
            )
        ):
            grants[issuer_org].append((subject, delegate))
    for pid, org in issuers.items():
        for subject, delegate in grants.get(org, []) if org is not None else []:
            if subject in (pid, EVERY_PASSPORT):
                out[pid].add(delegate)
    return out


def speakers(
    *,
    session: Session,
    subjects: Collection[str],
    parties: Mapping[str, Collection[int]] | None = None,
) -> dict[str, Speakers]:
    """For each subject, the organisations that may add events about it and why.

    ``parties``: shipment id → organisations the caller proved party to it on
    chain (``ShipmentRegistry.rolesOf``), which the read model may not have
    indexed yet.
    """
    memo: dict[frozenset[str], dict[str, Speakers]] | None = session.info.get(_MEMO)
    if memo is not None and parties is None:
        key = frozenset(subjects)
        if key not in memo:
            memo[key] = _speakers(session, subjects, None)
        return memo[key]
    return _speakers(session, subjects, parties)


_MEMO = "backend.orgs.subjects.speakers"


@contextmanager
def remembered(session: Session) -> Iterator[None]:
    """Inside the block, :func:`speakers` of one set of subjects is read once: for a
    view assembled from several reads of the same subject (a consumer page reads its
    passport's four times) that writes nothing in between."""
    if _MEMO in session.info:
        yield
        return
    session.info[_MEMO] = {}
    try:
        yield
    finally:
        session.info.pop(_MEMO, None)


def _speakers(
    session: Session,
    subjects: Collection[str],
    parties: Mapping[str, Collection[int]] | None,
) -> dict[str, Speakers]:
    out = {s: Speakers() for s in subjects}
    facts = _facts(session, list(out))
    for sid, orgs in (parties or {}).items():
        facts.parties[sid].update(orgs)
    passports = {pid: org for pid, org in facts.issuers.items() if pid in out}
    delegates = _delegates(session, passports)
    for pid, org in passports.items():
        out[pid].kind = SubjectKind.PASSPORT
        out[pid].grant(org, Basis.ISSUER)
        for delegate in sorted(delegates[pid]):
            out[pid].grant(delegate, Basis.DELEGATE)
        # Parties to shipments that carry the passport count only when the
        # shipment's seller speaks for the passport itself: a manifest naming a
        # stranger's passport gives its parties nothing.
        entitled = {org, *delegates[pid]}
        for sid in sorted(facts.carried_by.get(pid, ())):
            if facts.sellers.get(sid) in entitled:
                for party in sorted(facts.parties.get(sid, ())):
                    out[pid].grant(party, Basis.SHIPMENT_PARTY)
    for sid, found in out.items():
        if found.kind is SubjectKind.UNKNOWN and sid in facts.sellers:
            found.kind = SubjectKind.SHIPMENT
            found.carries = frozenset(facts.carries.get(sid, ()))
            for party in sorted(facts.parties.get(sid, ())):
                found.grant(party, Basis.SHIPMENT_PARTY)
    return out


def refusals(
    *,
    session: Session,
    org_id: int,
    subjects: Collection[str],
    org_slug: str | None = None,
    parties: Mapping[str, Collection[int]] | None = None,
) -> dict[str, Forbidden]:
    """Subject → the 403 naming the rule, for each subject ``org_id`` may not speak for.

    The one check of every event and milestone write. A shipment is about what
    it carries: speaking for it also takes speaking for every passport its
    manifest lists (so a carrier whose seller lost the issuer's delegation can
    no longer write about the goods). Two rounds of :func:`speakers`, whatever
    the number of subjects; ``parties`` as there.
    """
    who = speakers(session=session, subjects=subjects, parties=parties)
    out: dict[str, Forbidden] = {}
    carried: dict[str, frozenset[str]] = {}
    for subject, found in who.items():
        if found.kind is SubjectKind.UNKNOWN:
            continue
        if found.basis(org_id) is None:
            out[subject] = refusal(subject, found.kind, org_slug)
        elif found.carries:
            carried[subject] = found.carries
    if carried:
        inner = speakers(session=session, subjects=set().union(*carried.values()), parties=parties)
        for subject, pids in carried.items():
            for pid in sorted(pids):
                if inner[pid].kind is not SubjectKind.UNKNOWN and inner[pid].basis(org_id) is None:
                    out[subject] = refusal(pid, inner[pid].kind, org_slug, carried_by=subject)
                    break
    return out


def require_may_write(
    *,
    session: Session,
    org_id: int,
    subjects: Collection[str],
    org_slug: str | None = None,
    parties: Mapping[str, Collection[int]] | None = None,
) -> None:
    """Raise the first of :func:`refusals` (for writes that are all or none)."""
    found = refusals(
        session=session, org_id=org_id, subjects=subjects, org_slug=org_slug, parties=parties
    )
    for subject in sorted(found):
        raise found[subject]


def refusal(
    subject: str,
    kind: SubjectKind,
    org_slug: str | None = None,
    *,
    carried_by: str | None = None,
) -> Forbidden:
    """The 403 naming the rule for an organisation that may not speak for ``subject``."""
    who = f"organisation {org_slug!r}" if org_slug else "this organisation"
    via = f" (carried by shipment {carried_by})" if carried_by else ""
    return Forbidden(
        f"{RULE}: {who} may not add events about {kind.value} {subject}{via}; {RULE_TEXT}"
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
