"""Organisations, API keys and signer keys: creation, rotation, revocation, auth."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.chain.organisations import ALL_ROLES, Role, org_id_for
from backend.common.types import to_hex
from backend.db.base import utcnow
from backend.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from backend.orgs import keys
from backend.orgs.authority import KEY_RULE
from backend.orgs.models import ApiKey, Organisation, SignerKey
from backend.orgs.schemas import (
    DEFAULT_ORG_ROLES,
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyPublic,
    OrganisationCreate,
    OrganisationCreated,
    OrganisationPublic,
    OrganisationRegister,
    OrganisationRegistered,
    OrgRole,
    Scope,
    SignerPublic,
)


@runtime_checkable
class ChainRegistrar(Protocol):
    """Queues the ``OrganisationRegistry`` calls mirroring organisation writes (the app
    supplies one, ``backend.relayer.organisations.RelayedRegistrar``)."""

    def register(self, session: Session, org: Organisation, prefixes: list[str]) -> None: ...

    def key_roles(self, org: Organisation, roles: list[OrgRole] | None) -> Role: ...

    def add_key(
        self, session: Session, org: Organisation, signer: SignerKey, roles: Role
    ) -> None: ...

    def revoke_key(self, session: Session, org: Organisation, signer: SignerKey) -> None: ...


WRITER_SCOPES = frozenset({Scope.SELLER, Scope.SUPPLIER, Scope.CARRIER, Scope.CERTIFIER})


@dataclass(frozen=True)
class Principal:
    """Who is calling: an org's API key, or the operator (admin token)."""

    org_id: int | None
    org_slug: str | None
    scopes: frozenset[str]
    key_id: int | None
    operator: bool = False

    @property
    def rate_key(self) -> str:
        return "operator" if self.operator else f"key:{self.key_id}"

    def require_any(self, scopes: frozenset[str] | set[str]) -> None:
        if self.operator:
            return
        if not (self.scopes & scopes) and Scope.ADMIN not in self.scopes:
            wanted = ", ".join(sorted(scopes))
            raise Forbidden(f"this API key needs one of the scopes: {wanted}")

    def require_admin_of(self, org: Organisation) -> None:
        """Operator, or an admin key of ``org``; other orgs see 404, not 403."""
        if self.operator:
            return
        if self.org_id != org.id:
            raise NotFound(f"organisation {org.slug!r} not found")
        if Scope.ADMIN not in self.scopes:
            raise Forbidden("this API key needs the admin scope")


def authenticate(*, session: Session, token: str, admin_token: str) -> Principal:
    """Resolve a bearer token to a principal (constant-time comparisons)."""
    prefix = keys.parse_prefix(token)
    if prefix is None:
        if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
            return Principal(None, None, frozenset({"operator"}), None, operator=True)
        raise Unauthenticated("unknown API key")
    row = session.execute(
        select(ApiKey, Organisation.slug)
        .join(Organisation, Organisation.id == ApiKey.org_id)
        .where(ApiKey.prefix == prefix)
    ).first()
    # Compare against a dummy hash when the prefix is unknown so timing does
    # not reveal which prefixes exist.
    stored = row[0].key_hash if row else keys.hash_key("wm_000000000000_dummy")
    if not keys.matches(token, stored) or row is None:
        raise Unauthenticated("unknown API key")
    key, slug = row
    if key.revoked_at is not None:
        raise Unauthenticated("this API key has been revoked")
    return Principal(key.org_id, slug, key.scope_set, key.id)


def public_org(org: Organisation) -> OrganisationPublic:
    return OrganisationPublic(
        slug=org.slug,
        name=org.name,
        created_at=org.created_at,
        country=org.country,
        web_domain=org.web_domain,
        roles=[n for n in Role(org.roles).names() if n != "admin"],
        chain_org_id=to_hex(org_id_for(org.slug)) if org.roles else "",
    )


def _public_key(key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=key.id,
        prefix=key.prefix,
        scopes=sorted(key.scope_set),
        label=key.label,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


def _public_signer(s: SignerKey) -> SignerPublic:
    return SignerPublic.model_validate(s)


def get_org(*, session: Session, slug: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(f"organisation {slug!r} not found")
    return org


def create_org(
    *, session: Session, data: OrganisationCreate, registrar: ChainRegistrar | None = None
) -> OrganisationCreated:
    """A new organisation and its first admin API key (returned once).

    With a ``registrar`` the organisation's registration in ``OrganisationRegistry``
    (with its GS1 prefixes) is queued in the same transaction.
    """
    roles = Role.parse([r.value for r in (data.roles or DEFAULT_ORG_ROLES)]) | Role.ADMIN
    org = Organisation(
        slug=data.slug,
        name=data.name,
        country=data.country,
        web_domain=data.web_domain,
        roles=int(roles & ALL_ROLES) if registrar is not None else 0,
    )
    session.add(org)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"organisation {data.slug!r} already exists") from exc
    issued = _issue(session, org, ApiKeyCreate(scopes=[Scope.ADMIN], label="bootstrap admin"))
    if registrar is not None:
        registrar.register(session, org, list(dict.fromkeys(data.gs1_prefixes)))
    session.commit()
    return OrganisationCreated(organisation=public_org(org), admin_key=issued)


def register_existing(
    *, session: Session, slug: str, data: OrganisationRegister, registrar: ChainRegistrar | None
) -> OrganisationRegistered:
    """Backfill: register an organisation created before ``OrganisationRegistry`` existed.

    Queues its registration (name, ``data``'s country, domain, roles and GS1
    prefixes) and the addition of each signer key that is not revoked, in one
    transaction. Until then the registry does not vouch for its keys, so they
    sign nothing (``backend.orgs.authority``).
    """
    if registrar is None:
        raise Conflict("this deployment has no OrganisationRegistry to register in")
    org = get_org(session=session, slug=slug)
    if org.roles:
        raise Conflict(f"organisation {slug!r} is already registered in OrganisationRegistry")
    roles = Role.parse([r.value for r in (data.roles or DEFAULT_ORG_ROLES)]) | Role.ADMIN
    org.roles = int(roles & ALL_ROLES)
    if data.country is not None:
        org.country = data.country
    if data.web_domain is not None:
        org.web_domain = data.web_domain
    registrar.register(session, org, list(dict.fromkeys(data.gs1_prefixes)))
    now = utcnow()
    keys_added = []
    for signer in session.scalars(
        select(SignerKey).where(SignerKey.org_id == org.id).order_by(SignerKey.id)
    ):
        if signer.revoked_at is not None and signer.revoked_at <= now:
            continue  # revoked keys sign nothing; the chain need not learn them
        registrar.add_key(session, org, signer, Role(org.roles))
        keys_added.append(signer.address)
    session.commit()
    return OrganisationRegistered(organisation=public_org(org), keys=keys_added)


def _issue(session: Session, org: Organisation, data: ApiKeyCreate) -> ApiKeyIssued:
    secret, prefix, digest = keys.generate()
    key = ApiKey(
        org_id=org.id,
        prefix=prefix,
        key_hash=digest,
        scopes=",".join(sorted({s.value for s in data.scopes})),
        label=data.label,
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    return ApiKeyIssued(**_public_key(key).model_dump(), key=secret)


def issue_key(
    *, session: Session, principal: Principal, slug: str, data: ApiKeyCreate
) -> ApiKeyIssued:
    org = get_org(session=session, slug=slug)
    principal.require_admin_of(org)
    issued = _issue(session, org, data)
    session.commit()
    return issued


def revoke_key(*, session: Session, principal: Principal, slug: str, key_id: int) -> ApiKeyPublic:
    org = get_org(session=session, slug=slug)
    principal.require_admin_of(org)
    key = session.get(ApiKey, key_id)
    if key is None or key.org_id != org.id:
        raise NotFound(f"API key {key_id} not found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    session.commit()
    return _public_key(key)


def list_keys(
    *, session: Session, principal: Principal, slug: str, after: int, limit: int
) -> tuple[list[ApiKeyPublic], int | None]:
    org = get_org(session=session, slug=slug)
    principal.require_admin_of(org)
    rows = session.scalars(
        select(ApiKey)
        .where(ApiKey.org_id == org.id, ApiKey.id > after)
        .order_by(ApiKey.id)
        .limit(limit + 1)
    ).all()
    items = [_public_key(k) for k in rows[:limit]]
    return items, (items[-1].id if len(rows) > limit else None)


def register_signer(
    *,
    session: Session,
    principal: Principal,
    slug: str,
    address: str,
    label: str,
    valid_from: datetime | None,
    roles: list[OrgRole] | None = None,
    registrar: ChainRegistrar | None = None,
) -> SignerPublic:
    """Register a signer key; with a ``registrar`` it is added on chain with ``roles``."""
    org = get_org(session=session, slug=slug)
    principal.require_admin_of(org)
    now = utcnow()
    start = _not_in_past(valid_from, now, "valid_from") if valid_from else now
    signer = _add_signer(session, org, address, label, start)
    if registrar is not None:
        registrar.add_key(session, org, signer, registrar.key_roles(org, roles))
    session.commit()
    return _public_signer(signer)


def _not_in_past(when: datetime, now: datetime, field: str) -> datetime:
    """``when`` (UTC) unless it lies before ``now``: validity cannot be back-dated."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if (now - when).total_seconds() > CLOCK_SKEW_SECONDS:
        raise InvalidInput(
            f"{KEY_RULE}: {field} {when.isoformat()} is in the past; a key's validity "
            "starts and ends at receipt time or later, so omit it to mean now"
        )
    return max(when, now)


def _add_signer(
    session: Session, org: Organisation, address: str, label: str, valid_from: datetime
) -> SignerKey:
    if valid_from.tzinfo is None:
        valid_from = valid_from.replace(tzinfo=UTC)
    existing = session.scalar(select(SignerKey).where(SignerKey.address == address))
    if existing is not None:
        raise Conflict(f"signer {address} is already registered")
    signer = SignerKey(org_id=org.id, address=address, label=label, valid_from=valid_from)
    session.add(signer)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"signer {address} is already registered") from exc
    return signer


def _own_signer(session: Session, org: Organisation, signer_id: int) -> SignerKey:
    signer = session.get(SignerKey, signer_id)
    if signer is None or signer.org_id != org.id:
        raise NotFound(f"signer {signer_id} not found")
    return signer


def revoke_signer(
    *,
    session: Session,
    principal: Principal,
    slug: str,
    signer_id: int,
    revoked_at: datetime | None,
    registrar: ChainRegistrar | None = None,
) -> SignerPublic:
    """Stop accepting signatures by this key from ``revoked_at`` (now or later) on.

    On chain the key is revoked from the block the revocation is mined in, so a
    revocation scheduled for later stays in the service's record until then.
    """
    org = get_org(session=session, slug=slug)
    principal.require_admin_of(org)
    signer = _own_signer(session, org, signer_id)
    now = utcnow()
    when = _not_in_past(revoked_at, now, "revoked_at") if revoked_at else now
    if when < signer.valid_from:
        raise InvalidInput("revoked_at is before the signer's valid_from")
    first = signer.revoked_at is None
    if signer.revoked_at is None or when < signer.revoked_at:
        signer.revoked_at = when
    if first and registrar is not None and when <= now:
        registrar.revoke_key(session, org, signer)
    session.commit()
    return _public_signer(signer)


def rotate_signer(
    *,
    session: Session,
    principal: Principal,
    slug: str,
    signer_id: int,
    address: str,
    label: str,
    roles: list[OrgRole] | None = None,
    registrar: ChainRegistrar | None = None,
) -> tuple[SignerPublic, SignerPublic]:
    """Revoke ``signer_id`` now and register ``address`` from now, atomically."""
    org = get_org(session=session, slug=slug)
    principal.require_admin_of(org)
    old = _own_signer(session, org, signer_id)
    if old.revoked_at is not None:
        raise Conflict(f"signer {signer_id} is already revoked")
    now = utcnow()
    old.revoked_at = now
    new = _add_signer(session, org, address, label, now)
    if registrar is not None:
        registrar.add_key(session, org, new, registrar.key_roles(org, roles))
        registrar.revoke_key(session, org, old)
    session.commit()
    return _public_signer(old), _public_signer(new)


def list_signers(
    *, session: Session, principal: Principal, slug: str, after: int, limit: int
) -> tuple[list[SignerPublic], int | None]:
    org = get_org(session=session, slug=slug)
    principal.require_admin_of(org)
    rows = session.scalars(
        select(SignerKey)
        .where(SignerKey.org_id == org.id, SignerKey.id > after)
        .order_by(SignerKey.id)
        .limit(limit + 1)
    ).all()
    items = [_public_signer(s) for s in rows[:limit]]
    return items, (items[-1].id if len(rows) > limit else None)


# Clocks of a client and the service differ a little; a start this close to
# the receipt time counts as "now", not as back-dating.
CLOCK_SKEW_SECONDS = 5
