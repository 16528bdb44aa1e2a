"""The alliance action log: calls the service sends from its relayer account.

Every such call is one ``alliance_actions`` row and one ``relay_requests`` row
(purpose ``alliance``) written in the request's transaction by
:func:`relay_call`; :class:`AllianceRelayHandler` mirrors the request's progress
onto the row. The contract
refuses a repeat of each of them (a second co-signature, a second settlement of
a member, a second release), so a replay after a lost hash cannot move money
twice; it fails with the contract's error, which the action row keeps.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from backend.alliance.models import AllianceAction
from backend.alliance.schemas import ActionPublic
from backend.chain import ChainClient, ContractRevert
from backend.chain.deployments import Deployment
from backend.orgs.service import Principal
from backend.relayer.models import RelayRequest, RelayStatus
from backend.relayer.service import Mined, enqueue
from backend.relayer.signed import ContractWrite, commit, queue

log = logging.getLogger(__name__)

PURPOSE = "alliance"


def action_public(a: AllianceAction, pool_id: int | None = None) -> ActionPublic:
    """The answer for an action row (``pool_id`` once a ``create_pool`` is indexed)."""
    return ActionPublic(
        id=a.id,
        action=a.action,
        contract=a.contract,
        status=a.status,
        tx_hash=a.tx_hash,
        block_number=a.block_number,
        error=a.error,
        params=json.loads(a.params),
        pool_id=pool_id,
    )


@dataclass(frozen=True)
class Relayed:
    """Who asks, and what a relayed contract call needs: built once per request."""

    session: Session
    chain: ChainClient
    deployment: Deployment
    principal: Principal


def relay_call(
    relayed: Relayed,
    *,
    action: str,
    contract: str,
    fn: str,
    args: list[Any],
    params: dict[str, Any],
) -> ActionPublic:
    """Relay one contract call with its action row (alliance and agreements share the log).

    The relay pipeline simulates it (a revert answers 409 now) and queues it;
    the action row follows the request (:mod:`backend.alliance.relay`).
    """
    session, chain, principal = relayed.session, relayed.chain, relayed.principal
    address = relayed.deployment.address(contract)
    write = ContractWrite(
        to=address,
        data=chain.encode(chain.contract(contract, address), fn, *args),
        purpose=PURPOSE,
        subject=action,
    )
    req = queue(session=session, chain=chain, org_id=principal.org_id, write=write)
    row = AllianceAction(
        org_id=principal.org_id,
        action=action,
        contract=contract,
        params=json.dumps(params, default=str),
        status=RelayStatus.QUEUED,
        relay_id=req.id,
    )
    session.add(row)
    session.flush()
    req.ref_id = row.id
    commit(session, what=f"the {action} call")
    return action_public(row)


class AllianceRelayHandler:
    """Mirrors a relay request's progress onto its ``AllianceAction``."""

    def _action(self, session: Session, req: RelayRequest) -> AllianceAction | None:
        return session.get(AllianceAction, req.ref_id) if req.ref_id is not None else None

    only_own_sends = False  # no look to save: the contracts refuse a repeat

    def already_done(self, session: Session, request: RelayRequest) -> Mined | None:
        return None

    def is_done_revert(self, exc: ContractRevert) -> bool:
        return False

    def on_mined(self, session: Session, request: RelayRequest, mined: Mined) -> None:
        action = self._action(session, request)
        if action is not None:
            action.status = RelayStatus.MINED
            action.tx_hash = mined.tx_hash
            action.block_number = mined.block_number

    def on_final(self, session: Session, request: RelayRequest) -> None:
        action = self._action(session, request)
        if action is not None and action.status == RelayStatus.MINED:
            action.status = RelayStatus.FINAL

    def on_orphaned(self, session: Session, request: RelayRequest) -> None:
        # The call fell out of the chain with its block: send it again.
        action = self._action(session, request)
        if action is None:
            return
        again = enqueue(
            session,
            purpose=PURPOSE,
            to=request.to_address,
            data=request.data,
            ref_id=action.id,
            org_id=request.org_id,
        )
        action.relay_id = again.id
        action.status = RelayStatus.QUEUED
        action.tx_hash = None
        action.block_number = None

    def on_failed(self, session: Session, request: RelayRequest, error: str) -> None:
        action = self._action(session, request)
        if action is not None:
            action.status = RelayStatus.FAILED
            action.error = error[:1000]
        log.warning("alliance action %s failed: %s", request.ref_id, error)


def relay_handlers() -> dict[str, AllianceRelayHandler]:
    return {PURPOSE: AllianceRelayHandler()}
