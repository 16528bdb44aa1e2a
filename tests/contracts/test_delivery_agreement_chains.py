"""DeliveryAgreement escrow attacks and a settlement, on eth-tester and anvil.

The full clause suite (``test_delivery_agreement.py``) runs on the in-process
chain; these are the attacks on the escrow and the late-delivery settlement
repeated on a real node, where gas estimation, revert data and block times come
from anvil. Settlement through the API on anvil runs in
``tests/backend/cli/test_alliance_cli.py`` (server and keeper on anvil).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from backend.chain import ChainClient
from backend.chain.agreements import AgreementStatus, AgreementTerms, Outcome, settled_payout
from backend.chain.organisations import Role
from tests.contracts.agreement_world import BOND, PER_DAY, PRICE, AgreementWorld, agreement_world
from tests.contracts.alliance_support import DAY, advance_to, mint, party
from tests.helpers import reverts


@pytest.fixture
def w(chain: ChainClient) -> AgreementWorld:
    return agreement_world(chain)


ZERO = "0x" + "00" * 20


def _bad_terms(w: AgreementWorld, case: str) -> tuple[AgreementTerms, str, dict[str, Any]]:
    """Terms breaking one rule, the error that names it and the arguments it carries."""
    t = w.terms()
    bad: dict[str, tuple[dict[str, Any], str, dict[str, Any]]] = {
        "price": ({"price": 0}, "AgreementPriceZero", {}),
        "token": ({"token": ZERO}, "AgreementTokenZero", {}),
        "seller-is-buyer": (
            {"seller": t.buyer},
            "AgreementSellerInvalid",
            {"seller": t.buyer, "buyer": t.buyer},
        ),
        "seller-zero": ({"seller": ZERO}, "AgreementSellerInvalid", {"seller": ZERO}),
        "promise-past": ({"promised_by": 1}, "AgreementPromiseNotInFuture", {"promisedBy": 1}),
        "deadline": (
            {"final_deadline": t.promised_by},
            "AgreementDeadlineBeforePromise",
            {"promisedBy": t.promised_by, "finalDeadline": t.promised_by},
        ),
        "cap-without-rate": (
            {"compensation_per_day": 0},
            "AgreementCompensationUnpaired",
            {"compensationPerDay": 0, "compensationCap": t.compensation_cap},
        ),
        "tolerance": (
            {"weight_tolerance_bps": 10_001},
            "AgreementToleranceInvalid",
            {"toleranceBps": 10_001},
        ),
        "bonder-without-bond": (
            {"bond_amount": 0},
            "AgreementBondUnpaired",
            {"bonder": t.bonder, "bondAmount": 0},
        ),
        "arbiter-is-seller": (
            {"arbiter": t.seller},
            "AgreementArbiterInvalid",
            {"arbiter": t.seller},
        ),
        "dispute-window": ({"dispute_window": 0}, "AgreementDisputeWindowZero", {}),
    }
    overrides, error, args = bad[case]
    return replace(t, **overrides), error, args


@pytest.mark.parametrize(
    "case",
    [
        "price",
        "token",
        "seller-is-buyer",
        "seller-zero",
        "promise-past",
        "deadline",
        "cap-without-rate",
        "tolerance",
        "bonder-without-bond",
        "arbiter-is-seller",
        "dispute-window",
    ],
)
def test_propose_names_the_broken_rule(w: AgreementWorld, case: str) -> None:
    terms, error, args = _bad_terms(w, case)
    with reverts(error, **args) as info:
        w.as_(w.buyer).propose(terms, approve=False)
    assert set(info.value.arguments) >= set(args)
    if error == "AgreementPromiseNotInFuture":
        # The time the contract judged by: the chain's, after the promise. A node's clock
        # may tick between the call and the block mined to read it, so within a second.
        judged_at = info.value.arguments["now"]
        assert judged_at > terms.promised_by
        assert abs(judged_at - w.now()) <= 1
    assert w.conserved()


@pytest.mark.parametrize("named", ["arbiter", "bonder"])
def test_a_stranger_cannot_be_named_to_judge_or_bond(w: AgreementWorld, named: str) -> None:
    stranger = party(w.chain)
    role = int(Role.ARBITER) if named == "arbiter" else int(Role.CARRIER | Role.INSURER)
    with reverts(
        "AgreementPartyNotInRole",
        party=2 if named == "arbiter" else 1,
        account=stranger.address,
        role=role,
    ):
        w.as_(w.buyer).propose(w.terms(**{named: stranger.address}))
    assert w.conserved()


def test_a_forged_acceptance_or_a_foreign_shipment_moves_nothing(w: AgreementWorld) -> None:
    aid = w.propose()
    w.as_(w.carrier).post_bond(aid, BOND)
    terms = w.agreements.agreement(aid).terms
    sid = w.driver.create()
    deadline = w.now() + 3_600
    msg = w.agreements.acceptance_message(aid, terms, sid, deadline=deadline)
    forged = w.agreements.sign_acceptance(w.buyer.key, msg)
    with reverts("AgreementSignatureInvalid", agreementId=aid, signer=w.seller.address):
        w.agreements.accept_with_sig(aid, sid, deadline=deadline, signature=forged)
    # A shipment consigned to someone else cannot carry the buyer's purchase.
    elsewhere = w.driver.create(consignee=w.arbiter.address)
    with reverts("AgreementWrongConsignee", shipmentId=elsewhere, actual=w.arbiter.address):
        w.as_(w.seller).accept(aid, elsewhere)
    assert w.agreements.agreement(aid).status is AgreementStatus.PROPOSED
    assert w.conserved()


def test_one_delivery_backs_one_agreement_and_settles_once(w: AgreementWorld) -> None:
    first, sid = w.active()
    mint(w.token, w.buyer.address, PRICE)
    second = w.propose(w.terms(bonder="0x" + "00" * 20, bond_amount=0))
    with reverts("AgreementShipmentAlreadyLinked", shipmentId=sid, agreementId=first):
        w.as_(w.seller).accept(second, sid)
    terms = w.agreements.agreement(first).terms
    w.to_door(sid)
    advance_to(w.chain, terms.promised_by + DAY + 60)  # two started days late
    w.deliver(sid)
    paid = settled_payout(w.agreements.settle(first))
    assert (paid.outcome, paid.days_late) == (Outcome.LATE, 2)
    assert (paid.to_buyer, paid.to_seller, paid.to_bonder) == (
        2 * PER_DAY,
        PRICE,
        BOND - 2 * PER_DAY,
    )
    with reverts("AgreementStatusInvalid", agreementId=first):
        w.agreements.settle(first)
    assert w.conserved()
