"""The Standard Webhooks signature scheme (https://www.standardwebhooks.com/).

A subscription's secret is ``whsec_`` + base64 of 32 random bytes. Each attempt
carries three headers::

    webhook-id:        msg_<id>            (the same on every retry of one message)
    webhook-timestamp: <unix seconds>      (the time of this attempt)
    webhook-signature: v1,<b64 sig> [v1,<b64 sig> …]

where ``sig = HMAC-SHA256(secret, f"{id}.{timestamp}.{body}")``. While a rotated
secret is still in its grace period the header carries one signature per live
secret, so receivers verifying with either the old or the new secret accept it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's prefix, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh ``whsec_`` secret."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_`` secret stands for."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of ``body`` under ``secret``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secrets_: Iterable[str], *, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt, signed with every live secret."""
    sigs = " ".join(signature(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sigs,
    }
