"""Dashboard session cookies, signed with keys every replica shares (itsdangerous).

The cookie is ``<key prefix>.<fingerprint of the stored key hash>`` plus a
timestamp and an HMAC-SHA256 signature (``itsdangerous.TimestampSigner``). It
never contains the API key; revoking or rotating the key ends every session
made from it, because the fingerprint no longer matches.

Signing keys come from ``WAYMARK_SESSION_SECRETS`` (comma-separated; the first
signs, all are accepted, so a new key is rotated in by putting it first and the
old one is dropped once its sessions have expired). Without that setting a
random key is made once and kept in the database (``service_secrets``), so
replicas agree without configuration.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.dashboard.models import ServiceSecret
from backend.db.engine import conflict_insert
from backend.errors import Unauthenticated
from backend.orgs import keys
from backend.orgs.models import ApiKey, Organisation
from backend.orgs.service import Principal

SESSION_COOKIE = "waymark_session"
SESSION_MAX_AGE = 12 * 3600
SECRET_NAME = "dashboard-session"  # noqa: S105 - the row name, not a secret
SALT = "waymark.dashboard.session"


def signing_keys(settings: Settings, engine: Engine) -> list[bytes]:
    """The configured keys (newest first), else the one kept in the database."""
    if settings.session_secrets is not None:
        configured = [
            k.strip() for k in settings.session_secrets.get_secret_value().split(",") if k.strip()
        ]
        if configured:
            return [k.encode() for k in configured]
    insert = conflict_insert(engine.dialect.name, ServiceSecret)
    with engine.begin() as conn:
        conn.execute(
            insert.values(name=SECRET_NAME, value=secrets.token_hex(32)).on_conflict_do_nothing(
                index_elements=[ServiceSecret.name]
            )
        )
        value = conn.scalar(select(ServiceSecret.value).where(ServiceSecret.name == SECRET_NAME))
    assert value is not None
    return [value.encode()]


def make_signer(signing: list[bytes], salt: str = SALT) -> TimestampSigner:
    """A cookie signer over the shared keys; each kind of session has its own ``salt``."""
    # itsdangerous signs with the last key of the list and accepts every one.
    return TimestampSigner(
        list(reversed(signing)), salt=salt, digest_method=hashlib.sha256, sep="~"
    )


def _fingerprint(key_hash: str) -> str:
    return hashlib.sha256(f"{SALT}:{key_hash}".encode()).hexdigest()[:32]


def session_token(*, signer: TimestampSigner, api_key: str, key_hash: str) -> str:
    """A cookie value standing for ``api_key`` without containing it."""
    prefix = keys.parse_prefix(api_key)
    if prefix is None:
        raise Unauthenticated("not an organisation API key")
    return signer.sign(f"{prefix}.{_fingerprint(key_hash)}").decode()


def session_principal(*, session: Session, signer: TimestampSigner, token: str) -> Principal:
    """The principal a session cookie stands for, or :class:`Unauthenticated`."""
    try:
        payload = signer.unsign(token, max_age=SESSION_MAX_AGE).decode()
    except SignatureExpired:
        raise Unauthenticated("session expired; sign in again") from None
    except BadSignature:
        raise Unauthenticated("invalid session") from None
    prefix, _, fingerprint = payload.partition(".")
    row = session.execute(
        select(ApiKey, Organisation.slug)
        .join(Organisation, Organisation.id == ApiKey.org_id)
        .where(ApiKey.prefix == prefix)
    ).first()
    if row is None or not hmac.compare_digest(_fingerprint(row[0].key_hash), fingerprint):
        raise Unauthenticated("invalid session")
    key, slug = row
    if key.revoked_at is not None:
        raise Unauthenticated("this API key has been revoked")
    return Principal(key.org_id, slug, key.scope_set, key.id)


def stored_key_hash(*, session: Session, api_key: str) -> str:
    prefix = keys.parse_prefix(api_key)
    found = session.scalar(select(ApiKey.key_hash).where(ApiKey.prefix == prefix))
    if found is None:
        raise Unauthenticated("unknown API key")
    return found
