"""Who may sign a relayed write: signature recovery and the organisation's signer keys.

Every signed write checks, in this order: the EIP-712 signature recovers
(strictly, against the contract's own domain) to the address the message
claims; that address is an active signer key of the calling organisation at
the time that matters; and the API key carries a fitting scope.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from backend.chain.eip712 import Domain, SignatureInvalid, StructType, digest, recover
from backend.errors import Forbidden, InvalidInput
from backend.orgs.service import Principal, active_signers


def recover_signer(
    *, domain: Domain, struct: StructType, message: Mapping[str, Any], signature: str
) -> str:
    """The address that signed ``message`` (422 if the signature is malformed)."""
    try:
        return recover(digest(domain, struct, message), bytes.fromhex(signature[2:]))
    except SignatureInvalid as exc:
        raise InvalidInput(f"signature: {exc}") from exc


def require_signed_by(*, recovered: str, claimed: str, field: str) -> None:
    if recovered.lower() != claimed.lower():
        raise InvalidInput(f"signature was made by {recovered}, not by {field} {claimed}")


def org_of(principal: Principal) -> int:
    if principal.org_id is None:
        raise Forbidden("writes belong to an organisation; use its API key")
    return principal.org_id


def org_signers(*, session: Session, principal: Principal) -> set[str]:
    """The calling organisation's signer addresses (EIP-55, whatever their validity)."""
    return set(active_signers(session=session, org_id=org_of(principal)))


def require_org_signer(
    *,
    session: Session,
    principal: Principal,
    address: str,
    scopes: frozenset[str],
    at: int | None = None,
) -> None:
    """``address`` is an active signer key of the caller's org at ``at`` (default now)."""
    principal.require_any(scopes)
    windows = {
        a.lower(): w for a, w in active_signers(session=session, org_id=org_of(principal)).items()
    }
    window = windows.get(address.lower())
    if window is None:
        raise Forbidden(f"{address} is not a signer key of this organisation")
    when = int(time.time()) if at is None else at
    valid_from, revoked_at = window
    if when < valid_from or (revoked_at is not None and when >= revoked_at):
        raise Forbidden(f"signer {address} is not active")
