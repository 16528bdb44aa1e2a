"""Relay handler for the alliance calls the service sends from its relayer account.

Every such call is one ``alliance_actions`` row and one ``relay_requests`` row
(purpose ``alliance``) written in the request's transaction. The contract
refuses a repeat of each of them (a second co-signature, a second settlement of
a member, a second release), so a replay after a lost hash cannot move money
twice; it fails with the contract's error, which the action row keeps.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from backend.alliance.models import AllianceAction
from backend.chain import ContractRevert
from backend.relayer.models import RelayRequest, RelayStatus
from backend.relayer.service import Mined, enqueue

log = logging.getLogger(__name__)

PURPOSE = "alliance"


class AllianceRelayHandler:
    """Mirrors a relay request's progress onto its ``AllianceAction``."""

    def _action(self, session: Session, req: RelayRequest) -> AllianceAction | None:
        return session.get(AllianceAction, req.ref_id) if req.ref_id is not None else None

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
