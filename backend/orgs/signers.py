"""Who may sign a relayed write: signature recovery and the organisation's signer keys.

Every signed write is described by one :class:`SignedCall` and checked by one
function, :func:`verify_signed_call`, in this order: the EIP-712 signature
recovers (strictly, against the contract's own domain) to the address the
message claims; that address is an active signer key of the calling
organisation in ``OrganisationRegistry`` (:mod:`backend.orgs.authority`), active at
receipt time and holding the role the write needs; and the API key carries a
fitting scope. The relayer then submits the call (:func:`backend.relayer.signed.relay`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from backend.chain.eip712 import Domain, SignatureInvalid, StructType, digest, recover
from backend.chain.organisations import Role
from backend.common.types import hex_bytes
from backend.errors import Forbidden, InvalidInput
from backend.orgs.authority import signer_keys
from backend.orgs.service import Principal


def recover_signer(
    *, domain: Domain, struct: StructType, message: Mapping[str, Any], signature: str
) -> str:
    """The address that signed ``message`` (422 if the signature is malformed)."""
    try:
        return recover(digest(domain, struct, message), hex_bytes(signature))
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
    return set(signer_keys(session=session, org_id=org_of(principal)))


def require_org_signer(
    *,
    session: Session,
    principal: Principal,
    address: str,
    scopes: frozenset[str],
    role: Role | None = None,
    needed_by: str = "",
) -> int | None:
    """``address`` is a key of the caller's org in the registry, active now (receipt
    time) and holding ``role`` there; its service record id (None: on chain only).

    Never judged by a time the signer claims: a revoked key cannot sign "earlier"
    writes, and a key the registry revoked signs nothing.
    """
    principal.require_any(scopes)
    windows = {
        a.lower(): w for a, w in signer_keys(session=session, org_id=org_of(principal)).items()
    }
    window = windows.get(address.lower())
    if window is None:
        raise Forbidden(f"{address} is not a signer key of this organisation")
    window.require_active(address, int(time.time()), role, needed_by=needed_by)
    return window.key_id


@dataclass(frozen=True, slots=True)
class Signed:
    """A signed message and the address that must have signed it.

    ``claimed`` is the address the message names as its signer and ``field``
    that member's name (``seller``, ``issuer``, ``acceptance counterparty``, …)
    for the error message.
    """

    domain: Domain
    struct: StructType
    message: Mapping[str, Any]
    signature: str
    claimed: str
    field: str


def verify_signature(signed: Signed) -> str:
    """The signer of ``signed``: 422 unless the signature is well formed and by ``claimed``.

    Alone, this is the check for a countersignature (a receiver's acceptance, a
    consignee's proof of delivery), whose signer belongs to whichever
    organisation; the caller's own signed writes go through :func:`verify_signed_call`.
    """
    signer = recover_signer(
        domain=signed.domain,
        struct=signed.struct,
        message=signed.message,
        signature=signed.signature,
    )
    require_signed_by(recovered=signer, claimed=signed.claimed, field=signed.field)
    return signer


@dataclass(frozen=True, slots=True)
class SignedCall(Signed):
    """A signed write as it arrives, with who may submit it: ``scopes`` are the
    API-key scopes allowed to submit it."""

    scopes: frozenset[str]
    # The registry role the signer must hold, one of them if several are set (None: the
    # contract decides alone); ``needed_by`` names the write in the refusal.
    role: Role | None = None
    needed_by: str = ""


def verify_signed_call(call: SignedCall, *, session: Session, principal: Principal) -> str:
    """The signer of ``call`` once it is proven to be the caller's active signer key.

    422 when the signature is malformed or made by someone other than the
    claimed signer; 403 when that signer is not an active key of the caller's
    organisation at receipt time or the API key lacks the scope.
    """
    signer = verify_signature(call)
    require_org_signer(
        session=session,
        principal=principal,
        address=signer,
        scopes=call.scopes,
        role=call.role,
        needed_by=call.needed_by,
    )
    return signer
