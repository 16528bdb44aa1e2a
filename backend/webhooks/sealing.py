"""Webhook signing secrets at rest: sealed (:mod:`backend.common.sealing`) under the operator's keys.

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

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.common.sealing import PREFIX, Sealer, SecretUnavailable, split_keys
from backend.config import Settings
from backend.webhooks.models import WebhookSecret

__all__ = ["DEVELOPMENT_KEY", "PREFIX", "SecretBox", "SecretUnavailable", "reseal"]

# Published on purpose: what the development chains seal with when no key is set.
DEVELOPMENT_KEY = "waymark-development-webhook-secrets-key-not-secret"
_INFO = b"waymark webhook signing secrets v1"


class SecretBox:
    """Seals and opens webhook secrets; the first key seals, every key opens."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._sealer = Sealer(keys, info=_INFO, setting="WAYMARK_WEBHOOK_SECRETS_KEYS")

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        configured = settings.webhook_secrets_keys
        if configured is None:
            return cls([DEVELOPMENT_KEY])
        return cls(split_keys(configured.get_secret_value()))

    @staticmethod
    def _aad(subscription_id: int) -> bytes:
        return f"webhook-secret:{subscription_id}".encode()

    def seal(self, secret: str, *, subscription_id: int) -> str:
        return self._sealer.seal(secret.encode(), aad=self._aad(subscription_id))

    def open(self, stored: str, *, subscription_id: int) -> str:
        """The secret; a value stored before sealing existed is returned as it is."""
        if not stored.startswith(PREFIX):
            return stored
        return self._sealer.open(
            stored,
            aad=self._aad(subscription_id),
            what=f"sealed secret of subscription {subscription_id}",
        ).decode()

    def is_current(self, stored: str) -> bool:
        return self._sealer.is_current(stored)

    @property
    def current_prefix(self) -> str:
        return self._sealer.current_prefix


def reseal(session: Session, box: SecretBox) -> int:
    """Seal stored secrets that are in clear or under an older key; how many. Commits.

    Idempotent and safe to run from several replicas at once: each writes a valid
    sealing of the same secret under the same key. Runs at every start-up, so it
    reads only the rows that need it, not every secret.
    """
    changed = 0
    stale = select(WebhookSecret).where(WebhookSecret.secret.not_like(f"{box.current_prefix}%"))
    for row in session.scalars(stale.order_by(WebhookSecret.id)):
        try:
            secret = box.open(row.secret, subscription_id=row.subscription_id)
        except SecretUnavailable:
            continue  # left for its owner to rotate; delivery reports it
        row.secret = box.seal(secret, subscription_id=row.subscription_id)
        changed += 1
    session.commit()
    return changed
