"""Secrets at rest: sealed with AES-256-GCM under keys the operator keeps outside the database.

Used for every secret the service must get back in clear to use it (webhook
signing secrets, credential-signing private keys), so a database dump alone
yields nothing that signs. A sealed value reads::

    wmseal1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>

Each purpose derives its own 256-bit keys (HKDF-SHA256 with the purpose as
``info``) from a comma-separated list of key material: the first key seals,
every key opens (rotate by putting a new one first and resealing). The caller
binds each sealed value to its row with the associated data, so a sealed value
copied to another row does not open.
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

PREFIX = "wmseal1:"
_NONCE = 12


class SecretUnavailable(Exception):
    """A sealed value that the configured keys cannot open."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def split_keys(configured: str) -> list[str]:
    """The key materials of a comma-separated setting, blanks dropped."""
    return [k.strip() for k in configured.split(",") if k.strip()]


class Sealer:
    """Seals and opens values for one purpose; the first key seals, every key opens."""

    def __init__(self, keys: Sequence[str], *, info: bytes, setting: str) -> None:
        if not keys:
            raise ValueError("at least one key is required")
        self._setting = setting
        self._keys: dict[str, AESGCM] = {}
        self._current = ""
        for material in keys:
            hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info)
            derived = hkdf.derive(material.encode())
            key_id = hashlib.sha256(derived).hexdigest()[:8]
            self._keys.setdefault(key_id, AESGCM(derived))
            self._current = self._current or key_id

    def seal(self, value: bytes, *, aad: bytes) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._keys[self._current].encrypt(nonce, value, aad)
        return f"{PREFIX}{self._current}:{_b64(nonce + sealed)}"

    def open(self, stored: str, *, aad: bytes, what: str) -> bytes:
        """The value sealed in ``stored``; ``what`` names it in errors."""
        key_id, _, body = stored.removeprefix(PREFIX).partition(":")
        aead = self._keys.get(key_id)
        if aead is None:
            raise SecretUnavailable(
                f"{what} is sealed under key {key_id}, which {self._setting} no longer lists"
            )
        raw = _unb64(body)
        try:
            return aead.decrypt(raw[:_NONCE], raw[_NONCE:], aad)
        except InvalidTag:
            raise SecretUnavailable(f"{what} does not open under key {key_id}") from None

    @property
    def current_prefix(self) -> str:
        """How every value sealed under the sealing key starts (hex and ``:``, LIKE-safe)."""
        return f"{PREFIX}{self._current}:"

    def is_current(self, stored: str) -> bool:
        return stored.startswith(self.current_prefix)
