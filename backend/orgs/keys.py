"""API key format, hashing and comparison.

A key is ``wm_<prefix>_<secret>``: 48 random bits of public prefix (the lookup
index) and 256 random bits of secret. Only ``sha256(key)`` is stored. A fast
hash is enough here because the key is high-entropy random data, not a
password: there is no dictionary to try, so a slow KDF would add latency to
every request without adding security. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "wm_"


def generate() -> tuple[str, str, str]:
    """A new key: (full key shown once, prefix, sha256 hex)."""
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_prefix(key: str) -> str | None:
    """The lookup prefix of a well-formed key, else None."""
    if not key.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = key[len(KEY_PREFIX) :].partition("_")
    if not sep or len(prefix) != 12 or not secret:
        return None
    return prefix


def matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), stored_hash)
