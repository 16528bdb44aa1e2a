"""Who may sign a relayed write: signature checks and the organisation's signer keys.

Every signed write is described by one :class:`SignedCall` and checked by one
function, :func:`verify_signed_call`, in this order: the EIP-712 signature
(against the contract's own domain) is the claimed address's by the contracts'
own rule (:func:`verify_signature`: ECDSA for a plain key, ERC-1271
``isValidSignature`` at the chain head for a contract wallet); that address is an active signer key of the calling
organisation in ``OrganisationRegistry`` (:mod:`backend.orgs.authority`), active at
receipt time and holding the role the write needs; and the API key carries a
fitting scope. The relayer then submits the call (:func:`backend.relayer.signed.relay`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy.orm import Session

from backend.chain.client import ChainClient
from backend.chain.eip712 import Domain, StructType, digest
from backend.chain.organisations import Role
from backend.chain.signatures import refusal
from backend.errors import Forbidden, InvalidInput
from backend.orgs.authority import signer_keys
from backend.orgs.service import Principal


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
    signature: bytes
    claimed: str
    field: str


def verify_signature(signed: Signed, *, chain: ChainClient) -> str:
    """``signed.claimed`` (EIP-55) once the signature is proven to be its; 422 naming
    ``signed.field`` otherwise.

    A plain key's signature must recover to it (strict ECDSA); a contract wallet's
    is whatever its ERC-1271 ``isValidSignature`` accepts at the chain head. Only
    the claimed address is ever asked, so no wallet vouches for another address.
    Alone, this is the check for a countersignature (a receiver's acceptance, a
    consignee's proof of delivery), whose signer belongs to whichever
    organisation; the caller's own signed writes go through :func:`verify_signed_call`.
    """
    why = refusal(
        chain,
        address=signed.claimed,
        digest=digest(signed.domain, signed.struct, signed.message),
        signature=signed.signature,
    )
    if why is not None:
        raise InvalidInput(f"signature is not {signed.field} {signed.claimed}'s: {why}")
    return to_checksum_address(signed.claimed)


@dataclass(frozen=True, slots=True)
class SignedCall(Signed):
    """A signed write as it arrives, with who may submit it: ``scopes`` are the
    API-key scopes allowed to submit it."""

    scopes: frozenset[str]
    # The registry role the signer must hold, one of them if several are set (None: the
    # contract decides alone); ``needed_by`` names the write in the refusal.
    role: Role | None = None
    needed_by: str = ""


def verify_signed_call(
    call: SignedCall, *, session: Session, principal: Principal, chain: ChainClient
) -> str:
    """The signer of ``call`` once it is proven to be the caller's active signer key.

    422 when the signature is malformed or not the claimed signer's (a plain
    key's or a contract wallet's, see :func:`verify_signature`); 403 when that
    signer is not an active key of the caller's organisation at receipt time or
    the API key lacks the scope.
    """
    signer = verify_signature(call, chain=chain)
    require_org_signer(
        session=session,
        principal=principal,
        address=signer,
        scopes=call.scopes,
        role=call.role,
        needed_by=call.needed_by,
    )
    return signer
