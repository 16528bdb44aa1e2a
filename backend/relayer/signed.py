"""Relayed signed writes: simulate, queue, record, commit.

Every domain write that a relayer submits on behalf of an organisation is
first checked (a signed one by :func:`backend.orgs.signers.verify_signed_call`:
strict EIP-712 recovery, the signer is an active signer key of the calling
organisation, the API key has a fitting scope), then described as a
:class:`ContractWrite` and handed to :func:`relay` (or :func:`queue` and
:func:`commit` when the domain keeps its own record beside it, as the alliance
action log does): the call is simulated (a revert is reported now as 409 with
the decoded error), stored as a ``relay_requests`` row with a ``relay_writes``
row holding its typed :class:`~backend.relayer.effects.Effect` in the caller's
transaction, and committed (a concurrent duplicate is 409). The relayer sends
it after the commit.

Every write is simulated, the first of an organisation and one queued behind
an earlier write as much as any other: behind a write still in flight a revert
that write may cure is accepted, but one no queued write can cure (a signature
whose deadline has passed, :data:`NEVER_CURED`) is refused before any gas is
spent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.chain import ChainClient, ContractRevert
from backend.errors import Conflict, Forbidden, NotFound
from backend.orgs.service import Principal
from backend.orgs.signers import org_of
from backend.relayer.effects import Effect, load
from backend.relayer.models import RelayRequest, RelayStatus, RelayWrite
from backend.relayer.schemas import RelayAccepted
from backend.relayer.service import NEVER_CURED, Mined, calldata_hash, enqueue


def submit(
    *,
    session: Session,
    chain: ChainClient,
    to: str,
    data: str,
    purpose: str,
    org_id: int | None,
    behind: bool = False,
    signer_nonces: Mapping[str, int] | None = None,
) -> RelayRequest:
    """Simulate the call (a revert raises ``ContractRevert`` → 409), then enqueue it.

    Callers pass ``behind=True`` when an earlier write the call depends on (same
    shipment or passport, or the organisation's registration or signer key) is
    still queued or in flight: simulated against the chain as it is, the call
    may revert for want of it, so such a revert is accepted, unless it is one
    no earlier write can cure (:data:`NEVER_CURED`). The contract checks
    everything again when the relayer sends it; a revert then shows in
    ``GET /v1/relay/{id}``.

    ``signer_nonces`` (signer address → lowest message nonce it signed in this
    call) lets one signer queue writes to different subjects: a simulation that
    reverts only with ``InvalidAccountNonce`` because the signer's earlier
    writes are still queued is accepted (see :func:`queued_behind`).
    """
    try:
        chain.simulate({"to": to, "data": data})
    except ContractRevert as exc:
        if behind and exc.error_name not in NEVER_CURED:
            pass
        elif not queued_behind(session, exc=exc, org_id=org_id, to=to, signer_nonces=signer_nonces):
            raise
    return enqueue(session, purpose=purpose, to=to, data=data, org_id=org_id)


def queued_behind(
    session: Session,
    *,
    exc: ContractRevert,
    org_id: int | None,
    to: str,
    signer_nonces: Mapping[str, int] | None,
) -> bool:
    """Whether a simulation's ``InvalidAccountNonce`` only means "earlier writes are queued".

    The contracts check deadline, clock and signature before the nonce, so by
    the time the nonce is refused those passed. The message nonce must lie
    ahead of the signer's on-chain nonce by no more than the organisation's
    writes to the same contract (whose nonces they are) still in flight (a
    nonce already used, or one behind a gap that no queued write fills, is
    refused as before).
    """
    if exc.error_name != "InvalidAccountNonce" or not signer_nonces:
        return False
    account = str(exc.arguments.get("account", "")).lower()
    nonce = {a.lower(): n for a, n in signer_nonces.items()}.get(account)
    if nonce is None:
        return False
    ahead = nonce - int(exc.arguments.get("currentNonce", 0))
    if ahead <= 0:
        return False
    in_flight = session.scalar(
        select(func.count())
        .select_from(RelayRequest)
        .where(
            RelayRequest.org_id == org_id,
            func.lower(RelayRequest.to_address) == to.lower(),
            RelayRequest.status.in_(IN_FLIGHT),
            RelayRequest.purpose.notin_(REGISTRAR_PURPOSES),
        )
    )
    return int(in_flight or 0) >= ahead


@dataclass(frozen=True, slots=True)
class ContractWrite:
    """A verified write to relay: the call, what the answer names, and its effect.

    ``effect`` is stored with the relay request as its ``relay_writes`` row;
    relay handlers look it up before sending again. Writes with no effect to
    look up (the alliance's calls, whose own action log follows the request)
    leave it None.
    """

    to: str
    data: str
    purpose: str
    subject: str
    effect: Effect | None = None


def queue(
    *,
    session: Session,
    chain: ChainClient,
    org_id: int | None,
    write: ContractWrite,
    behind: bool = False,
    signer_nonces: Mapping[str, int] | None = None,
) -> RelayRequest:
    """Simulate, queue and record ``write`` in the caller's transaction.

    ``behind`` and ``signer_nonces`` are passed to :func:`submit`. The caller
    commits with :func:`commit`.
    """
    if write.effect is not None and org_id is None:
        raise Forbidden("writes belong to an organisation; use its API key")
    req = submit(
        session=session,
        chain=chain,
        to=write.to,
        data=write.data,
        purpose=write.purpose,
        org_id=org_id,
        behind=behind,
        signer_nonces=signer_nonces,
    )
    if write.effect is not None:
        session.add(
            RelayWrite(
                relay_id=req.id,
                org_id=org_id,
                kind=write.effect.kind,
                subject=write.effect.subject,
                effect=write.effect.model_dump(mode="json"),
            )
        )
    return req


def relay(
    *,
    session: Session,
    chain: ChainClient,
    org_id: int,
    write: ContractWrite,
    behind: bool = False,
    signer_nonces: Mapping[str, int] | None = None,
    what: str,
) -> RelayAccepted:
    """Simulate, queue, record and commit ``write``; the 202 answer.

    ``behind`` and ``signer_nonces`` are passed to :func:`submit`; ``what`` names
    the write in the 409 a concurrent duplicate gets. The same signed call sent
    again (a phone resending what it kept while offline) is answered with the
    request already holding it, not queued twice (:func:`replayed`).
    """
    prior = replayed(session=session, org_id=org_id, write=write)
    if prior is not None:
        return prior
    req = queue(
        session=session,
        chain=chain,
        org_id=org_id,
        write=write,
        behind=behind,
        signer_nonces=signer_nonces,
    )
    commit(session, what=what)
    return RelayAccepted(
        relay_id=req.id, status=RelayStatus.QUEUED, purpose=write.purpose, subject=write.subject
    )


def in_flight(session: Session, *, subjects: Sequence[str], kinds: Iterable[str]) -> bool:
    """Whether an earlier write of one of ``kinds`` about one of ``subjects`` is not mined yet."""
    found = session.scalar(
        select(RelayWrite.id)
        .join(RelayRequest, RelayRequest.id == RelayWrite.relay_id)
        .where(
            RelayWrite.subject.in_(subjects),
            RelayWrite.kind.in_(list(kinds)),
            RelayRequest.status.in_(IN_FLIGHT),
        )
        .limit(1)
    )
    return found is not None


def written_effect(session: Session, request: RelayRequest) -> tuple[str, int] | None:
    """``(tx_hash, block_number)`` of the indexed effect of a relayed write, once there."""
    row = session.scalar(select(RelayWrite).where(RelayWrite.relay_id == request.id))
    return None if row is None else load(row.kind, row.effect).find(session)


def relay_ids(kinds: Iterable[str]) -> Select[int]:
    """The relay requests of the writes of ``kinds`` (for :func:`requeue_orphaned`)."""
    return select(RelayWrite.relay_id).where(RelayWrite.kind.in_(list(kinds)))


IN_FLIGHT = (RelayStatus.QUEUED, RelayStatus.SENT)

#: Organisation registry writes the relayer makes on its own authority as registrar
#: (``backend.relayer.organisations``): they carry no signer's nonce.
PURPOSE_ORG_REGISTER = "org_register"
PURPOSE_ORG_KEY_ADD = "org_key_add"
PURPOSE_ORG_KEY_REVOKE = "org_key_revoke"
REGISTRAR_PURPOSES = (PURPOSE_ORG_REGISTER, PURPOSE_ORG_KEY_ADD, PURPOSE_ORG_KEY_REVOKE)


def replayed(*, session: Session, org_id: int, write: ContractWrite) -> RelayAccepted | None:
    """The organisation's request already carrying exactly this call, unless it failed.

    A signed call's bytes fix its signer's nonce, so an identical call is the same
    write sent again: it gets the first request's answer (its id and status now).
    """
    req = session.scalar(
        select(RelayRequest)
        .where(
            RelayRequest.org_id == org_id,
            RelayRequest.data_hash == calldata_hash(write.data),
            RelayRequest.to_address == write.to,
            RelayRequest.purpose == write.purpose,
            RelayRequest.data == write.data,
            RelayRequest.status != RelayStatus.FAILED,
        )
        .order_by(RelayRequest.id.desc())
        .limit(1)
    )
    if req is None:
        return None
    return RelayAccepted(
        relay_id=req.id,
        status=RelayStatus(req.status),
        purpose=write.purpose,
        subject=write.subject,
    )


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
            RelayRequest.status.in_((RelayStatus.MINED, RelayStatus.FINAL)),
        )
        .values(
            status=RelayStatus.QUEUED,
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
    indexer has seen it (by default the write's recorded :class:`Effect`);
    reverts named in ``done_errors`` mean "already there".
    An orphaned request is queued again: the signed message's nonce is free
    again on the surviving fork, so it can be re-sent as is.
    """

    def __init__(
        self,
        chain: ChainClient,
        find: Callable[[Session, RelayRequest], tuple[str, int] | None] = written_effect,
        done_errors: frozenset[str] = frozenset(),
    ) -> None:
        self.chain = chain
        self.find = find
        self.done_errors = done_errors

    only_own_sends = False  # anyone may relay a signed message

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
        request.status = RelayStatus.QUEUED
        request.nonce = None
        request.tx_hash = None
        request.block_number = None
        request.block_hash = None

    def on_failed(self, session: Session, request: RelayRequest, error: str) -> None:
        return None
