"""Webhook signing secrets at rest: sealed with AES-256-GCM under the operator's keys.

A Standard Webhooks secret is symmetric: the service needs it back to sign each
attempt, so it cannot be hashed like an API key. It is stored sealed::

    wmseal1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>

under a 256-bit key derived (HKDF-SHA256) from ``WAYMARK_WEBHOOK_SECRETS_KEYS``,
a comma-separated list kept outside the database: the first key seals, every key
opens (rotate by putting a new one first; :func:`reseal` moves the stored secrets
over at start-up). The subscription id is the associated data, so a sealed secret
copied to another subscription's row does not open. A database dump alone
therefore yields no secret that signs. On the throwaway development chains an
unset setting falls back to a published development key; any other chain refuses
to start without real keys (:func:`backend.config.service_refusals`).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.webhooks.models import WebhookSecret

PREFIX = "wmseal1:"
# Published on purpose: what the development chains seal with when no key is set.
DEVELOPMENT_KEY = "waymark-development-webhook-secrets-key-not-secret"
_INFO = b"waymark webhook signing secrets v1"
_NONCE = 12


class SecretUnavailable(Exception):
    """A stored secret that the configured keys cannot open."""


def _derive(material: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
    return hkdf.derive(material.encode())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SecretBox:
    """Seals and opens webhook secrets; the first key seals, every key opens."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key is required")
        self._keys: dict[str, AESGCM] = {}
        self._current = ""
        for material in keys:
            derived = _derive(material)
            key_id = hashlib.sha256(derived).hexdigest()[:8]
            self._keys.setdefault(key_id, AESGCM(derived))
            self._current = self._current or key_id

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        configured = settings.webhook_secrets_keys
        if configured is None:
            return cls([DEVELOPMENT_KEY])
        return cls([k.strip() for k in configured.get_secret_value().split(",") if k.strip()])

    @staticmethod
    def _aad(subscription_id: int) -> bytes:
        return f"webhook-secret:{subscription_id}".encode()

    def seal(self, secret: str, *, subscription_id: int) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._keys[self._current].encrypt(
            nonce, secret.encode(), self._aad(subscription_id)
        )
        return f"{PREFIX}{self._current}:{_b64(nonce + sealed)}"

    def open(self, stored: str, *, subscription_id: int) -> str:
        """The secret; a value stored before sealing existed is returned as it is."""
        if not stored.startswith(PREFIX):
            return stored
        key_id, _, body = stored.removeprefix(PREFIX).partition(":")
        aead = self._keys.get(key_id)
        if aead is None:
            raise SecretUnavailable(
                f"sealed under key {key_id}, which WAYMARK_WEBHOOK_SECRETS_KEYS no longer lists"
            )
        raw = _unb64(body)
        try:
            return aead.decrypt(raw[:_NONCE], raw[_NONCE:], self._aad(subscription_id)).decode()
        except InvalidTag:
            raise SecretUnavailable(
                f"sealed secret of subscription {subscription_id} does not open under key {key_id}"
            ) from None

    def is_current(self, stored: str) -> bool:
        return stored.startswith(f"{PREFIX}{self._current}:")


def reseal(session: Session, box: SecretBox) -> int:
    """Seal stored secrets that are in clear or under an older key; how many. Commits.

    Idempotent and safe to run from several replicas at once: each writes a valid
    sealing of the same secret under the same key.
    """
    changed = 0
    for row in session.scalars(select(WebhookSecret).order_by(WebhookSecret.id)):
        if box.is_current(row.secret):
            continue
        try:
            secret = box.open(row.secret, subscription_id=row.subscription_id)
        except SecretUnavailable:
            continue  # left for its owner to rotate; delivery reports it
        row.secret = box.seal(secret, subscription_id=row.subscription_id)
        changed += 1
    session.commit()
    return changed
