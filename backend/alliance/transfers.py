"""Emergency stock transfer writes relayed by the service: admitting members, and the
release, refund and return closing the contract leaves open to either party.

The requests, offers, acceptances and receipts are the members' own calls,
sent with their keys (``waymark transfer --rpc``).
"""

from __future__ import annotations

from backend.alliance.indexer import STOCK
from backend.alliance.members import own_addresses
from backend.alliance.models import TransferView
from backend.alliance.relay import Relayed, relay_call
from backend.alliance.schemas import ActionPublic
from backend.errors import Forbidden, NotFound
from backend.orgs.service import WRITER_SCOPES


def grant_stock_member(relayed: Relayed, *, address: str) -> ActionPublic:
    """Grant ``MEMBER_ROLE`` of EmergencyStockTransfer (operator, the contract's admin)."""
    chain, deployment, principal = relayed.chain, relayed.deployment, relayed.principal
    if not principal.operator:
        raise Forbidden("only the operator admits stock-transfer members")
    contract = chain.contract(STOCK, deployment.address(STOCK))
    role = chain.call(contract, "MEMBER_ROLE")
    return relay_call(
        relayed,
        action="grant_stock_member",
        contract=STOCK,
        fn="grantRole",
        args=[role, address],
        params={"address": address},
    )


#: The route's action → the contract function.
STOCK_ACTIONS = {"release": "release", "refund": "refund", "close-return": "closeReturn"}


def stock_action(relayed: Relayed, *, request_id: int, action: str) -> ActionPublic:
    """``release`` / ``refund`` / ``closeReturn``: open on chain, relayed for the two parties."""
    session, principal = relayed.session, relayed.principal
    t = session.get(TransferView, request_id)
    if t is None:
        raise NotFound(f"transfer {request_id} not found (or not indexed yet)")
    if not principal.operator:
        principal.require_any(WRITER_SCOPES)
        parties = {t.requester, *([t.lender] if t.lender else [])}
        if not parties & own_addresses(session, principal):
            raise Forbidden(f"your organisation is not a party to transfer {request_id}")
    return relay_call(
        relayed,
        action=action.replace("-", "_"),
        contract=STOCK,
        fn=STOCK_ACTIONS[action],
        args=[request_id],
        params={"request_id": request_id},
    )
