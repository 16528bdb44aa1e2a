"""Relayed signed writes: verify the signature and signer, simulate, then enqueue durably.

Every domain write that a relayer submits on behalf of a signer goes through
:func:`recover_signer` (strict EIP-712 recovery against the contract's own
domain), :func:`require_org_signer` (the signer is an active signer key of
the calling organisation and the API key has a fitting scope) and
:func:`submit` (the call is simulated first, so a revert is reported now as
409 with the decoded error, then stored as a ``relay_requests`` row in the
caller's transaction). The relayer sends it after the commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.chain import ChainClient
from backend.chain.eip712 import Domain, SignatureInvalid, StructType, digest, recover
from backend.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.orgs.service import Principal, signer_keys
from backend.relayer.models import RelayRequest
from backend.relayer.service import Mined, enqueue


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
    return set(signer_keys(session=session, org_id=org_of(principal)))


def require_org_signer(
    *,
    session: Session,
    principal: Principal,
    address: str,
    scopes: frozenset[str],
) -> int:
    """``address`` is a signer key of the caller's org active now (receipt time); its id."""
    principal.require_any(scopes)
    windows = {
        a.lower(): w for a, w in signer_keys(session=session, org_id=org_of(principal)).items()
    }
    window = windows.get(address.lower())
    if window is None:
        raise Forbidden(f"{address} is not a signer key of this organisation")
    window.require_active(address, int(time.time()))
    return window.key_id


def submit(
    *,
    session: Session,
    chain: ChainClient,
    to: str,
    data: str,
    purpose: str,
    org_id: int,
    simulate: bool = True,
) -> RelayRequest:
    """Simulate the call (a revert raises ``ContractRevert`` → 409), then enqueue it.

    Callers pass ``simulate=False`` when an earlier write the call depends on
    (same shipment or passport) is still queued or in flight: simulated against
    the chain as it is, the call would revert for want of it. The contract
    checks everything again when the relayer sends it; a revert then shows in
    ``GET /v1/relay/{id}``.
    """
    if simulate:
        chain.estimate_gas({"to": to, "data": data})
    return enqueue(session, purpose=purpose, to=to, data=data, org_id=org_id)


IN_FLIGHT = ("queued", "sent")


def commit(session: Session, *, what: str) -> None:
    """Commit the write; a concurrent request that stored the same thing first is 409."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"{what} was submitted concurrently") from exc


def own_request(*, session: Session, principal: Principal, relay_id: int) -> RelayRequest:
    """A relay request of the caller's organisation (404 for anyone else's)."""
    req = session.scalar(
        select(RelayRequest).where(
            RelayRequest.id == relay_id, RelayRequest.org_id == org_of(principal)
        )
    )
    if req is None:
        raise NotFound(f"relay request {relay_id} not found")
    return req


def requeue_orphaned(session: Session, relay_ids: Any, fork: int) -> None:
    """Queue again the relayed writes whose transaction sat in blocks a reorg removed.

    Called from the indexer rollback of the domain: the request is ``final`` by
    then when ``confirmations`` is small, so the relayer's own finality check
    no longer looks at it.
    """
    session.execute(
        update(RelayRequest)
        .where(
            RelayRequest.id.in_(relay_ids),
            RelayRequest.block_number >= fork,
            RelayRequest.status.in_(("mined", "final")),
        )
        .values(
            status="queued",
            nonce=None,
            tx_hash=None,
            block_number=None,
            block_hash=None,
            next_attempt_at=None,
        )
        .execution_options(synchronize_session=False)
    )


class EffectHandler:
    """A ``RelayHandler`` whose effect is found in the indexed read model.

    ``find`` returns the ``(tx_hash, block_number)`` of the effect once the
    indexer has seen it; reverts named in ``done_errors`` mean "already there".
    An orphaned request is queued again: the signed message's nonce is free
    again on the surviving fork, so it can be re-sent as is.
    """

    def __init__(
        self,
        chain: ChainClient,
        find: Callable[[Session, RelayRequest], tuple[str, int] | None],
        done_errors: frozenset[str] = frozenset(),
    ) -> None:
        self.chain = chain
        self.find = find
        self.done_errors = done_errors

    def already_done(self, session: Session, request: RelayRequest) -> Mined | None:
        found = self.find(session, request)
        if found is None:
            return None
        rcpt = self.chain.receipt(found[0])
        if rcpt is None:
            return None
        return Mined(rcpt.tx_hash, rcpt.block_number, rcpt.block_hash, rcpt.gas_used)

    def is_done_revert(self, exc: Any) -> bool:
        return getattr(exc, "error_name", None) in self.done_errors

    def on_mined(self, session: Session, request: RelayRequest, mined: Mined) -> None:
        return None

    def on_final(self, session: Session, request: RelayRequest) -> None:
        return None

    def on_orphaned(self, session: Session, request: RelayRequest) -> None:
        request.status = "queued"
        request.nonce = None
        request.tx_hash = None
        request.block_number = None
        request.block_hash = None

    def on_failed(self, session: Session, request: RelayRequest, error: str) -> None:
        return None
