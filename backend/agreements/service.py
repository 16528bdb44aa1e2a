"""Purchase agreements: an indexed read model, seller acceptance and settlement relayed.

What an agreement is and what it paid come from the ``agreements`` read model
the indexer keeps from the contract's logs (``backend/agreements/indexer.py``),
so every replica shows the same state and a reorg is followed; only what an
open agreement would pay *now* is a chain view (``preview``).

The buyer proposes and funds, the bonder posts the bond and every party
withdraws with its own key (``waymark agreement …`` with ``--rpc``): those calls
move the caller's tokens. The seller's acceptance is an EIP-712 signature the
service relays (gasless for the seller), and ``settle`` is open to anyone on
chain: the service relays it on request and by itself for every agreement that
is due (:func:`settle_due`, run by the notification worker), so nobody has to
remember. Relayed calls go through the alliance action log
(``/v1/alliance/actions/{id}``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.agreements.models import AgreementView
from backend.agreements.schemas import (
    AgreementAccept,
    AgreementPublic,
    AgreementsPublic,
    ClausePublic,
    PayoutPublic,
)
from backend.alliance.members import own_addresses
from backend.alliance.models import AllianceAction
from backend.alliance.relay import Relayed, relay_call
from backend.alliance.schemas import ActionPublic
from backend.chain import ChainClient, ChainError, ContractRevert
from backend.chain.agreements import (
    AgreementInfo,
    AgreementStatus,
    AgreementTerms,
    DeliveryAgreementClient,
    Outcome,
    Payout,
)
from backend.chain.deployments import Deployment
from backend.common.types import hex_bytes, to_hex
from backend.errors import Forbidden, NotFound, ServiceUnavailable
from backend.orgs.service import WRITER_SCOPES, Principal

log = logging.getLogger(__name__)

CONTRACT = "DeliveryAgreement"
OPEN = (AgreementStatus.ACTIVE, AgreementStatus.DISPUTED)


def _require_contract(deployment: Deployment) -> None:
    if CONTRACT not in deployment.contracts:
        raise ServiceUnavailable("no DeliveryAgreement deployment is loaded")


def client(chain: ChainClient, deployment: Deployment) -> DeliveryAgreementClient:
    _require_contract(deployment)
    return DeliveryAgreementClient(chain, deployment.address(CONTRACT))


def why(payout: Payout, info: AgreementInfo) -> str:
    """The clause that produced ``payout``, in words."""
    t = info.terms
    if payout.outcome is Outcome.ON_TIME:
        return "delivered in good order by the promised time: the seller is paid the price"
    if payout.outcome is Outcome.LATE:
        return (
            f"delivered {payout.days_late} started day(s) late: "
            f"{t.compensation_per_day} per day, capped at {t.compensation_cap}, "
            "paid to the buyer from the bond first"
            + (", then from the price" if t.compensation_from_price else "")
        )
    if payout.outcome is Outcome.FAILED:
        return (
            "lost, or not delivered by the final deadline: the buyer is refunded "
            "and the bond pays up to the cap"
        )
    if payout.outcome is Outcome.RULED:
        return "disputed delivery: the arbiter split the price"
    if payout.outcome is Outcome.REFUSED:
        return "refused at delivery and not ruled on in time: the buyer is refunded"
    return "a damage exception, refusal or weight outside tolerance opens the arbiter's window"


def _payout_public(payout: Payout, info: AgreementInfo) -> PayoutPublic:
    return PayoutPublic(
        outcome=payout.outcome.name.lower(),  # type: ignore[arg-type]
        to_buyer=payout.to_buyer,
        to_seller=payout.to_seller,
        to_bonder=payout.to_bonder,
        days_late=payout.days_late,
        why=why(payout, info),
    )


def _info(row: AgreementView) -> AgreementInfo:
    """The indexed row as the chain client's dataclass (the clause formulas read it)."""
    return AgreementInfo(
        agreement_id=row.agreement_id,
        terms=AgreementTerms(**json.loads(row.terms)),
        status=AgreementStatus[row.status.upper()],
        outcome=Outcome[row.outcome.upper()],
        bond_posted=row.bond_posted,
        shipment_id=hex_bytes(row.shipment_id) if row.shipment_id else bytes(32),
        accepted_at=row.accepted_at or 0,
        dispute_ends_at=row.dispute_ends_at or 0,
    )


def _row(session: Session, agreement_id: int) -> AgreementView:
    row = session.get(AgreementView, agreement_id)
    if row is None:
        raise NotFound(f"agreement {agreement_id} not found")
    return row


def _public(row: AgreementView, *, chain: ChainClient, deployment: Deployment) -> AgreementPublic:
    """The indexed state; for an open agreement, what ``settle`` would pay now (a chain view)."""
    info = _info(row)
    t = info.terms
    payout: PayoutPublic | None = None
    due_at: int | None = None
    if info.status is AgreementStatus.SETTLED:
        paid = Payout(
            info.outcome,
            row.to_buyer or 0,
            row.to_seller or 0,
            row.to_bonder or 0,
            row.days_late or 0,
        )
        payout = _payout_public(paid, info)
    elif info.status in OPEN:
        try:
            preview = client(chain, deployment).preview(row.agreement_id)
        except ContractRevert as exc:
            due_at = int(exc.arguments.get("dueAt", 0)) or None
        else:
            payout = _payout_public(preview, info)
    return AgreementPublic(
        agreement_id=row.agreement_id,
        status=row.status,  # type: ignore[arg-type]
        clause=ClausePublic.model_validate(t),
        shipment_id=row.shipment_id,
        bond_posted=row.bond_posted,
        accepted_at=row.accepted_at,
        dispute_ends_at=row.dispute_ends_at,
        due_at=due_at,
        payout=payout,
        settled_tx=row.settled_tx,
    )


def agreement_public(
    *, session: Session, chain: ChainClient, deployment: Deployment, agreement_id: int
) -> AgreementPublic:
    _require_contract(deployment)
    return _public(_row(session, agreement_id), chain=chain, deployment=deployment)


def _naming(address: str) -> Any:
    return or_(
        AgreementView.buyer == address,
        AgreementView.seller == address,
        AgreementView.bonder == address,
        AgreementView.arbiter == address,
    )


def list_agreements(
    *, session: Session, chain: ChainClient, deployment: Deployment, party: str | None = None
) -> AgreementsPublic:
    """Every agreement (newest first), or those naming ``party`` in any role."""
    _require_contract(deployment)
    query = select(AgreementView).order_by(AgreementView.agreement_id.desc())
    if party:
        query = query.where(_naming(to_checksum_address(party)))
    rows = session.scalars(query).all()
    return AgreementsPublic(items=[_public(r, chain=chain, deployment=deployment) for r in rows])


def for_addresses(
    *,
    session: Session,
    chain: ChainClient,
    deployment: Deployment | None,
    addresses: set[str],
) -> list[dict[str, object]]:
    """Dashboard rows: agreements in which ``addresses`` buy, sell or bond, with what was paid."""
    if deployment is None or CONTRACT not in deployment.contracts or not addresses:
        return []
    rows = session.scalars(
        select(AgreementView)
        .where(
            AgreementView.buyer.in_(addresses)
            | AgreementView.seller.in_(addresses)
            | AgreementView.bonder.in_(addresses)
        )
        .order_by(AgreementView.agreement_id)
    ).all()
    out: list[dict[str, object]] = []
    for row in rows:
        t = _info(row).terms
        roles = [
            role
            for role, who in (("buyer", t.buyer), ("seller", t.seller), ("bonder", t.bonder))
            if who in addresses
        ]
        view = _public(row, chain=chain, deployment=deployment)
        paid = view.payout
        out.append(
            {
                "agreement_id": row.agreement_id,
                "role": "/".join(roles),
                "buyer": t.buyer,
                "seller": t.seller,
                "price": t.price,
                "promised_by": t.promised_by,
                "final_deadline": t.final_deadline,
                "clause": (
                    f"{t.compensation_per_day} per started day late, cap {t.compensation_cap}"
                    if t.compensation_cap
                    else "no delay compensation"
                ),
                "status": view.status,
                "outcome": paid.outcome if paid is not None else None,
                "settled": view.status == "settled",
                "to_buyer": paid.to_buyer if paid is not None else None,
                "to_seller": paid.to_seller if paid is not None else None,
                "to_bonder": paid.to_bonder if paid is not None else None,
                "why": paid.why if paid is not None else None,
                "due_at": view.due_at,
            }
        )
    return out


def _require_party(relayed: Relayed, agreement_id: int) -> None:
    """Agreement ``agreement_id`` exists on chain (404) and the caller is one of its parties
    or the operator (403)."""
    c = client(relayed.chain, relayed.deployment)
    if not 1 <= agreement_id <= c.count():
        raise NotFound(f"agreement {agreement_id} not found")
    principal = relayed.principal
    if principal.operator:
        return
    principal.require_any(WRITER_SCOPES)
    t = c.agreement(agreement_id).terms
    if not {t.buyer, t.seller, t.bonder, t.arbiter} & own_addresses(relayed.session, principal):
        raise Forbidden(f"your organisation is not a party to agreement {agreement_id}")


def accept(relayed: Relayed, *, agreement_id: int, body: AgreementAccept) -> ActionPublic:
    """Relay the seller's signed acceptance (a wrong signer or shipment answers 409)."""
    _require_party(relayed, agreement_id)
    return relay_call(
        relayed,
        action="accept_agreement",
        contract=CONTRACT,
        fn="acceptWithSig",
        args=[
            agreement_id,
            body.shipment_id,
            body.deadline,
            body.signature,
        ],
        params={"agreement_id": agreement_id, "shipment_id": to_hex(body.shipment_id)},
    )


def settle(relayed: Relayed, *, agreement_id: int) -> ActionPublic:
    """Relay ``settle`` for a party (not due yet answers 409 ``AgreementNotDue``)."""
    _require_party(relayed, agreement_id)
    return relay_call(
        relayed,
        action="settle_agreement",
        contract=CONTRACT,
        fn="settle",
        args=[agreement_id],
        params={"agreement_id": agreement_id},
    )


def _queued(session: Session, agreement_id: int) -> bool:
    """A settle for ``agreement_id`` is already queued or in flight."""
    rows = session.scalars(
        select(AllianceAction.params).where(
            AllianceAction.action == "settle_agreement",
            AllianceAction.status.in_(("queued", "mined")),
        )
    )
    return any(json.loads(p).get("agreement_id") == agreement_id for p in rows)


def settle_due(
    session: Session, *, chain: ChainClient, deployment: Deployment, operator: Principal
) -> int:
    """Queue ``settle`` for every open agreement (read model) the chain would settle now.

    The number queued; ``settle`` itself checks the chain, so an agreement the
    indexer has not caught up with is simply tried again next round.
    """
    open_ids = session.scalars(
        select(AgreementView.agreement_id)
        .where(AgreementView.status.in_(("active", "disputed")))
        .order_by(AgreementView.agreement_id)
    ).all()
    queued = 0
    for agreement_id in open_ids:
        if _queued(session, agreement_id):
            continue
        try:
            settle(Relayed(session, chain, deployment, operator), agreement_id=agreement_id)
        except ContractRevert:
            session.rollback()  # not due yet (AgreementNotDue); try next round
            continue
        except ChainError as exc:
            log.info("agreement %s not settleable yet: %s", agreement_id, exc)
            session.rollback()
            continue
        queued += 1
    return queued
