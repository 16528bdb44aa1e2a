"""Wallet sign-in for the field app (EIP-4361) and the session it leaves behind.

A phone holds no API key: the person signs a sign-in message with the wallet
key their organisation registered in ``OrganisationRegistry``, and that
registry says which organisation the key speaks for and in which roles
(:mod:`backend.orgs.authority`). The order of checks:

1. the server writes the message (:func:`issue_message`): this site's domain
   and URI, the deployment's chain id, a fresh random nonce stored for that
   address with an expiry;
2. :func:`sign_in` parses the signed text strictly, checks domain, URI, chain,
   expiry and that the nonce was issued for exactly this message, verifies the
   signature (ECDSA for a plain key, ERC-1271 ``isValidSignature`` for a
   contract wallet), spends the nonce (one conditional update: a replay, even
   on another replica, finds it spent) and resolves the key's organisation;
3. the session cookie carries the address and organisation, signed with the
   keys every replica shares; each request checks the key again, so a key
   revoked on chain ends its sessions at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from eth_utils import to_checksum_address
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backend.chain import ChainClient
from backend.chain.eip712 import personal_digest
from backend.chain.organisations import Role
from backend.chain.signatures import signed_by
from backend.errors import Forbidden, InvalidInput, Unauthenticated
from backend.fieldapp import siwe
from backend.fieldapp.models import SignInNonce
from backend.orgs.authority import org_ids_of, signer_keys
from backend.orgs.models import Organisation
from backend.orgs.service import Principal

STATEMENT = "Sign in to Waymark to record milestones and handovers for your organisation."
NONCE_TTL = 600
CLOCK_SKEW = 60
SESSION_COOKIE = "waymark_app_session"
SESSION_MAX_AGE = 12 * 3600
SALT = "waymark.app.session"
# Kept a while after expiry so a late replay is told "expired", not "unknown".
PRUNE_AFTER = 24 * 3600

# Registry roles → the API-key scopes the relayed write paths ask for.
ROLE_SCOPES: dict[Role, str] = {
    Role.SELLER: "seller",
    Role.SUPPLIER: "supplier",
    Role.CARRIER: "carrier",
    Role.WAREHOUSE: "carrier",
    Role.CUSTOMS_BROKER: "carrier",
    Role.CERTIFIER: "certifier",
}


@dataclass(frozen=True, slots=True)
class Site:
    """Where the app is served: what a sign-in message must name."""

    domain: str
    uri: str

    @classmethod
    def from_base_url(cls, base_url: str) -> Site:
        parts = urlsplit(base_url)
        return cls(domain=parts.netloc, uri=f"{parts.scheme}://{parts.netloc}/app")


@dataclass(frozen=True, slots=True)
class Identity:
    """A signed-in wallet key: its organisation and roles as the registry holds them now."""

    address: str
    org_id: int
    org_slug: str
    org_name: str
    roles: tuple[str, ...]

    @property
    def scopes(self) -> frozenset[str]:
        held = Role(0)
        for name in self.roles:
            held |= Role[name.upper()]
        return frozenset(scope for role, scope in ROLE_SCOPES.items() if role & held)

    def principal(self) -> Principal:
        """The principal the relayed write paths judge this key's writes by."""
        return Principal(self.org_id, self.org_slug, self.scopes, None)


def issue_message(
    *, session: Session, site: Site, address: str, wallet_chain_id: int, chain_id: int, now: int
) -> siwe.SiweMessage:
    """A sign-in message for ``address`` (checksummed) with a fresh nonce (stored, one use,
    expiring)."""
    if wallet_chain_id != chain_id:
        raise InvalidInput(
            f"wrong network: the wallet is on chain {wallet_chain_id}; "
            f"Waymark signs on chain {chain_id}; switch the wallet's network"
        )
    session.execute(delete(SignInNonce).where(SignInNonce.expires_at < now - PRUNE_AFTER))
    message = siwe.build(
        domain=site.domain,
        address=address,
        statement=STATEMENT,
        uri=site.uri,
        chain_id=chain_id,
        nonce=secrets.token_hex(16),
        issued_at=now,
        expiration_time=now + NONCE_TTL,
    )
    session.add(
        SignInNonce(
            nonce=message.nonce,
            address=message.address,
            chain_id=chain_id,
            issued_at=message.issued_at,
            expires_at=message.expiration_time,
        )
    )
    session.commit()
    return message


def sign_in(
    *,
    session: Session,
    chain: ChainClient,
    site: Site,
    chain_id: int,
    text: str,
    signature: bytes,
    now: int,
) -> Identity:
    """The identity ``text`` signed by ``signature`` proves, the nonce spent; else 401/403."""
    try:
        message = siwe.parse(text)
    except siwe.MessageInvalid as exc:
        raise InvalidInput(f"message: {exc}") from None
    if message.domain != site.domain:
        raise Unauthenticated(f"the message is for {message.domain}, not this site ({site.domain})")
    if message.uri != site.uri:
        raise Unauthenticated(f"the message is for {message.uri}, not {site.uri}")
    if message.chain_id != chain_id:
        raise Unauthenticated(
            f"wrong network: the message is for chain {message.chain_id}, not {chain_id}"
        )
    row = session.get(SignInNonce, message.nonce)
    if row is None or (row.address, row.chain_id, row.issued_at, row.expires_at) != (
        message.address,
        message.chain_id,
        message.issued_at,
        message.expiration_time,
    ):
        raise Unauthenticated("this sign-in message was not issued by this service")
    if now >= message.expiration_time:
        raise Unauthenticated("the sign-in message has expired; sign in again")
    if row.used_at is not None:
        raise Unauthenticated("this sign-in message was already used; sign in again")
    if not signed_by(
        chain, address=message.address, digest=personal_digest(text), signature=signature
    ):
        raise Unauthenticated(f"the signature is not {message.address}'s")
    spent = session.execute(
        update(SignInNonce)
        .where(
            SignInNonce.nonce == message.nonce,
            SignInNonce.used_at.is_(None),
            SignInNonce.expires_at > now,
        )
        .values(used_at=now)
    )
    if getattr(spent, "rowcount", 0) != 1:
        raise Unauthenticated("this sign-in message was already used; sign in again")
    session.commit()
    return identity_of(session=session, address=message.address, now=now)


def identity_of(*, session: Session, address: str, now: int) -> Identity:
    """Which organisation ``address`` speaks for, in which roles, judged at ``now`` (403 if none)."""
    org_id = org_ids_of(session, [address]).get(address.lower())
    if org_id is None:
        raise Forbidden(
            f"key not registered: {address} is not a signer key of any organisation in "
            "OrganisationRegistry; ask your organisation's administrator to add it"
        )
    window = signer_keys(session=session, org_id=org_id).get(to_checksum_address(address))
    if window is None:
        raise Forbidden(f"key not registered: {address} is not a key of its organisation")
    window.require_active(address, now)
    org = session.scalars(select(Organisation).where(Organisation.id == org_id)).one()
    roles = tuple(Role(window.roles).names()) if window.roles is not None else ()
    return Identity(to_checksum_address(address), org_id, org.slug, org.name, roles)


def session_token(*, signer: TimestampSigner, identity: Identity) -> str:
    """A cookie value naming the key and its organisation (no secret in it)."""
    return signer.sign(f"{identity.address}.{identity.org_id}").decode()


def session_identity(
    *, session: Session, signer: TimestampSigner, token: str, now: int
) -> Identity:
    """The identity a session cookie stands for, checked against the registry again."""
    try:
        payload = signer.unsign(token, max_age=SESSION_MAX_AGE).decode()
    except SignatureExpired:
        raise Unauthenticated("session expired; sign in again") from None
    except BadSignature:
        raise Unauthenticated("invalid session") from None
    address, _, org = payload.partition(".")
    try:
        identity = identity_of(session=session, address=address, now=now)
    except Forbidden as exc:
        raise Unauthenticated(f"session ended: {exc}") from None
    if str(identity.org_id) != org:
        raise Unauthenticated("session ended: the key now belongs to another organisation")
    return identity
