"""Each organisation's ES256K credential-signing key: made on first use, sealed at rest.

Wallet keys sign EIP-712, not JOSE, so the service signs the JWS envelope of an
organisation's credentials with a key of its own per organisation, listed as an
``assertionMethod`` in the organisation's did:web. Its private half is stored
only sealed (:mod:`backend.common.sealing`, AES-256-GCM under
``WAYMARK_CREDENTIAL_SEALING_KEYS``, the organisation id as associated data).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.common.sealing import Sealer, split_keys
from backend.config import Settings
from backend.credentials.models import CredentialKey

# Published on purpose: what the development chains seal with when no key is set.
DEVELOPMENT_KEY = "waymark-development-credential-sealing-key-not-secret"
_INFO = b"waymark credential signing keys v1"
ALGORITHM = "ES256K"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sealer(settings: Settings) -> Sealer:
    configured = settings.credential_sealing_keys
    keys: Sequence[str] = (
        [DEVELOPMENT_KEY] if configured is None else split_keys(configured.get_secret_value())
    )
    return Sealer(keys, info=_INFO, setting="WAYMARK_CREDENTIAL_SEALING_KEYS")


def _aad(org_id: int) -> bytes:
    return f"credential-key:{org_id}".encode()


def public_jwk(x: str, y: str) -> dict[str, str]:
    return {"kty": "EC", "crv": "secp256k1", "x": x, "y": y}


def thumbprint(x: str, y: str) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key."""
    canonical = json.dumps(public_jwk(x, y), sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True)
class SigningKey:
    """An organisation's credential key, opened for one request."""

    org_id: int
    kid: str
    jwk: dict[str, str]
    private: ec.EllipticCurvePrivateKey

    def sign(self, signing_input: bytes) -> bytes:
        """JWS ES256K signature: ``r ‖ s``, 32 bytes each (RFC 8812)."""
        der = self.private.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def public_key(session: Session, org_id: int) -> CredentialKey | None:
    return session.scalar(select(CredentialKey).where(CredentialKey.org_id == org_id))


def signing_key(session: Session, settings: Settings, org_id: int) -> SigningKey:
    """The organisation's key, made and stored (sealed) on first use. May commit."""
    row = public_key(session, org_id)
    box = sealer(settings)
    if row is None:
        private = ec.generate_private_key(ec.SECP256K1())
        numbers = private.public_key().public_numbers()
        x = b64url(numbers.x.to_bytes(32, "big"))
        y = b64url(numbers.y.to_bytes(32, "big"))
        secret = private.private_numbers().private_value.to_bytes(32, "big")
        row = CredentialKey(
            org_id=org_id,
            kid=thumbprint(x, y),
            public_x=x,
            public_y=y,
            sealed_private_key=box.seal(secret, aad=_aad(org_id)),
        )
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # another replica made it first: use theirs
            session.rollback()
            row = public_key(session, org_id)
            assert row is not None
    raw = box.open(row.sealed_private_key, aad=_aad(org_id), what=f"credential key of org {org_id}")
    private = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256K1())
    return SigningKey(org_id, row.kid, public_jwk(row.public_x, row.public_y), private)


def compact_jws(key: SigningKey, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """``header.payload.signature`` (RFC 7515 compact serialisation), signed ES256K."""
    protected = b64url(json.dumps({**header, "alg": ALGORITHM}, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    signing_input = f"{protected}.{body}".encode()
    return f"{protected}.{body}.{b64url(key.sign(signing_input))}"
