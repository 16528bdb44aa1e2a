"""Who may sign a relayed write: signature recovery and the organisation's signer keys.

Every signed write is described by one :class:`SignedCall` and checked by one
function, :func:`verify_signed_call`, in this order: the EIP-712 signature
recovers (strictly, against the contract's own domain) to the address the
message claims; that address is an active signer key of the calling
organisation at the time that matters; and the API key carries a fitting
scope. The relayer then submits the call (:func:`backend.relayer.signed.relay`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class SignedCall:
    """A signed message as it arrives, with who must have signed it and who may submit it.

    ``claimed`` is the address the message names as its signer and ``field``
    that member's name (``seller``, ``issuer``, ``certifier``, …) for the error
    message; ``scopes`` are the API-key scopes allowed to submit it.
    """

    domain: Domain
    struct: StructType
    message: Mapping[str, Any]
    signature: str
    claimed: str
    field: str
    scopes: frozenset[str]


def verify_signed_call(
    call: SignedCall, *, session: Session, principal: Principal, at: int | None = None
) -> str:
    """The signer of ``call`` once it is proven to be the caller's active signer key.

    422 when the signature is malformed or made by someone other than the
    claimed signer; 403 when that signer is not an active key of the caller's
    organisation at ``at`` (default now) or the API key lacks the scope.
    """
    signer = recover_signer(
        domain=call.domain, struct=call.struct, message=call.message, signature=call.signature
    )
    require_signed_by(recovered=signer, claimed=call.claimed, field=call.field)
    require_org_signer(
        session=session, principal=principal, address=signer, scopes=call.scopes, at=at
    )
    return signer
