"""DeliveryAgreement: every clause outcome, settled from real proofs of delivery.

Amounts follow ``agreement_world``: price 1 000, compensation 50 a started day
late capped at 300 (the price pays what the 100 bond cannot), weight tolerance
5 %, final deadline 20 days out, two-day dispute window.
"""

from __future__ import annotations

import pytest

from backend.chain import ChainClient
from backend.chain.agreements import AgreementStatus, Outcome, Payout, settled_payout
from backend.chain.organisations import OrganisationRegistryClient, Role
from backend.chain.typed_data.agreements import TYPEHASH_CONSTANTS
from backend.chain.typed_data.shipments import DeliveryCondition, Status
from tests.conftest import deployment_for
from tests.contracts.agreement_world import (
    BOND,
    CAP,
    PER_DAY,
    PRICE,
    AgreementWorld,
    agreement_world,
    enrol,
)
from tests.contracts.alliance_support import DAY, USD, advance_to, mint, party
from tests.helpers import reverts


@pytest.fixture
def w(tester: ChainClient) -> AgreementWorld:
    return agreement_world(tester)


def _credited(w: AgreementWorld) -> tuple[int, int, int]:
    token = w.token.address
    return (
        w.agreements.withdrawable(w.buyer.address, token),
        w.agreements.withdrawable(w.seller.address, token),
        w.agreements.withdrawable(w.carrier.address, token),
    )


def _deliver_at(w: AgreementWorld, sid: bytes, when: int, **kw: object) -> None:
    w.to_door(sid)
    advance_to(w.chain, when)
    w.deliver(sid, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("constant", sorted(TYPEHASH_CONSTANTS))
def test_typehash_matches_contract(w: AgreementWorld, constant: str) -> None:
    on_chain = w.chain.call(w.agreements.contract, constant)
    assert TYPEHASH_CONSTANTS[constant].typehash == on_chain


def test_terms_hash_matches_contract(w: AgreementWorld) -> None:
    terms = w.terms()
    assert w.agreements.hash_terms(terms) == terms.hash()


def test_on_time_delivery_pays_the_seller_and_returns_the_bond(w: AgreementWorld) -> None:
    aid, sid = w.active()
    promised = w.agreements.agreement(aid).terms.promised_by
    _deliver_at(w, sid, promised - DAY)
    preview = w.agreements.preview(aid)
    result = w.agreements.settle(aid)  # anyone may settle
    assert settled_payout(result) == preview == Payout(Outcome.ON_TIME, 0, PRICE, BOND, 0)
    assert _credited(w) == (0, PRICE, BOND)
    info = w.agreements.agreement(aid)
    assert (info.status, info.outcome) == (AgreementStatus.SETTLED, Outcome.ON_TIME)
    w.as_(w.seller).withdraw(w.token.address)
    assert w.token.balance_of(w.seller.address) == PRICE
    assert w.conserved()


def test_two_days_late_pays_compensation_from_the_bond(w: AgreementWorld) -> None:
    aid, sid = w.active()
    promised = w.agreements.agreement(aid).terms.promised_by
    _deliver_at(w, sid, promised + DAY + 1)  # two started days
    payout = settled_payout(w.agreements.settle(aid))
    assert payout == Payout(Outcome.LATE, 2 * PER_DAY, PRICE, BOND - 2 * PER_DAY, 2)
    assert w.conserved()


def test_very_late_compensation_is_capped_and_the_price_pays_beyond_the_bond(
    w: AgreementWorld,
) -> None:
    aid, sid = w.active()
    promised = w.agreements.agreement(aid).terms.promised_by
    _deliver_at(w, sid, promised + 9 * DAY)  # 9 days: 450 > cap 300
    payout = settled_payout(w.agreements.settle(aid))
    assert payout == Payout(Outcome.LATE, CAP, PRICE - (CAP - BOND), 0, 9)
    assert w.conserved()


def test_compensation_not_from_price_is_limited_to_the_bond(w: AgreementWorld) -> None:
    aid, sid = w.active(w.terms(compensation_from_price=False))
    promised = w.agreements.agreement(aid).terms.promised_by
    _deliver_at(w, sid, promised + 4 * DAY)
    payout = settled_payout(w.agreements.settle(aid))
    assert payout == Payout(Outcome.LATE, BOND, PRICE, 0, 4)


def test_unbonded_agreement_pays_late_compensation_from_the_price(w: AgreementWorld) -> None:
    aid, sid = w.active(w.terms(bonder="0x" + "00" * 20, bond_amount=0))
    promised = w.agreements.agreement(aid).terms.promised_by
    _deliver_at(w, sid, promised + 2 * DAY)
    payout = settled_payout(w.agreements.settle(aid))
    assert payout == Payout(Outcome.LATE, 2 * PER_DAY, PRICE - 2 * PER_DAY, 0, 2)


def test_damage_exception_opens_a_dispute_the_arbiter_splits(w: AgreementWorld) -> None:
    aid, sid = w.active()
    w.to_door(sid)
    w.deliver(sid, DeliveryCondition.DAMAGED)
    assert w.agreements.preview(aid).outcome is Outcome.NONE
    result = w.agreements.settle(aid)
    event = result.event("AgreementDisputed").args
    assert event["condition"] == DeliveryCondition.DAMAGED
    assert w.agreements.agreement(aid).status is AgreementStatus.DISPUTED
    with reverts("AgreementCallerInvalid", agreementId=aid, expected=w.arbiter.address):
        w.as_(w.buyer).resolve(aid, 10_000)
    with reverts("AgreementShareInvalid", agreementId=aid, buyerShareBps=10_001):
        w.as_(w.arbiter).resolve(aid, 10_001)
    payout = settled_payout(w.as_(w.arbiter).resolve(aid, 3_000))
    assert payout == Payout(Outcome.RULED, 300 * USD, 700 * USD, BOND, 0)
    assert w.conserved()


def test_weight_outside_tolerance_opens_a_dispute_that_falls_back_to_the_clause(
    w: AgreementWorld,
) -> None:
    aid, sid = w.active()
    promised = w.agreements.agreement(aid).terms.promised_by
    _deliver_at(w, sid, promised + 1, measured_weight_grams=100_000)  # declared 120 kg
    result = w.agreements.settle(aid)
    assert result.event("AgreementDisputed").args["weightOutOfTolerance"] is True
    ends = w.agreements.agreement(aid).dispute_ends_at
    with reverts("AgreementNotDue", agreementId=aid, dueAt=ends + 1):
        w.agreements.settle(aid)
    advance_to(w.chain, ends + 1)
    with reverts("AgreementDisputeWindowClosed", agreementId=aid, endedAt=ends):
        w.as_(w.arbiter).resolve(aid, 5_000)
    payout = settled_payout(w.agreements.settle(aid))
    assert payout == Payout(Outcome.LATE, PER_DAY, PRICE, BOND - PER_DAY, 1)


def test_weight_within_tolerance_settles_directly(w: AgreementWorld) -> None:
    aid, sid = w.active()
    w.to_door(sid)
    w.deliver(sid, measured_weight_grams=115_000)  # -4.2 % of 120 kg, tolerance 5 %
    assert settled_payout(w.agreements.settle(aid)).outcome is Outcome.ON_TIME


def test_refusal_unruled_refunds_the_buyer(w: AgreementWorld) -> None:
    aid, sid = w.active()
    w.to_door(sid)
    w.deliver(sid, DeliveryCondition.REFUSED)
    w.agreements.settle(aid)
    advance_to(w.chain, w.agreements.agreement(aid).dispute_ends_at + 1)
    payout = settled_payout(w.agreements.settle(aid))
    assert payout == Payout(Outcome.REFUSED, PRICE, 0, BOND, 0)
    assert w.conserved()


def test_lost_shipment_refunds_the_buyer_and_the_bond_pays(w: AgreementWorld) -> None:
    aid, sid = w.active()
    w.to_door(sid)
    w.lose(sid)
    assert w.registry.status(sid) is Status.LOST
    payout = settled_payout(w.agreements.settle(aid))
    assert payout == Payout(Outcome.FAILED, PRICE + BOND, 0, 0, 0)


def test_no_delivery_by_the_final_deadline_fails_and_not_before(w: AgreementWorld) -> None:
    aid, sid = w.active(w.terms(bond_amount=BOND * 5, compensation_cap=CAP))
    final = w.agreements.agreement(aid).terms.final_deadline
    w.to_door(sid)
    with reverts("AgreementNotDue", agreementId=aid, dueAt=final + 1):
        w.agreements.settle(aid)
    advance_to(w.chain, final + 1)
    payout = settled_payout(w.agreements.settle(aid))
    # The bond pays at most the cap; the rest goes back to the bonder.
    assert payout == Payout(Outcome.FAILED, PRICE + CAP, 0, BOND * 5 - CAP, 0)
    # A delivery after the final deadline changes nothing any more.
    with reverts("AgreementStatusInvalid", agreementId=aid):
        w.agreements.settle(aid)


def test_delivery_after_the_final_deadline_counts_as_none(w: AgreementWorld) -> None:
    aid, sid = w.active()
    final = w.agreements.agreement(aid).terms.final_deadline
    _deliver_at(w, sid, final + 1)
    assert settled_payout(w.agreements.settle(aid)).outcome is Outcome.FAILED


def test_cancel_returns_price_and_bond_before_acceptance(w: AgreementWorld) -> None:
    aid = w.propose()
    w.as_(w.carrier).post_bond(aid, BOND)
    with reverts("AgreementCallerInvalid", agreementId=aid, expected=w.buyer.address):
        w.as_(w.seller).cancel(aid)
    w.as_(w.buyer).cancel(aid)
    assert _credited(w) == (PRICE, 0, BOND)
    assert w.agreements.agreement(aid).status is AgreementStatus.CANCELLED
    assert w.conserved()


# -- refusals -----------------------------------------------------------------


CONSIGNEE, CARRIER, INSURER, ARBITER = (
    int(Role.CONSIGNEE),
    int(Role.CARRIER),
    int(Role.INSURER),
    int(Role.ARBITER),
)


@pytest.mark.parametrize(
    ("named", "party_index", "role"),
    [
        ("arbiter", 2, ARBITER),
        ("bonder", 1, CARRIER | INSURER),
        ("buyer", 0, CONSIGNEE),
    ],
)
def test_propose_reverts_when_a_stranger_is_named_as_a_party(
    w: AgreementWorld, named: str, party_index: int, role: int
) -> None:
    stranger = party(w.chain)
    mint(w.token, stranger.address, PRICE)
    buyer = stranger if named == "buyer" else w.buyer
    terms = w.terms(**{named: stranger.address})
    with reverts("AgreementPartyNotInRole", party=party_index, account=stranger.address, role=role):
        w.agreements.using(buyer.chain).propose(terms)
    assert w.agreements.count() == 0
    assert w.conserved()


def test_propose_reverts_when_a_party_holds_another_role(w: AgreementWorld) -> None:
    # The carrier is a registered organisation, but not an accredited arbiter.
    with reverts("AgreementPartyNotInRole", party=2, account=w.carrier.address, role=ARBITER):
        w.as_(w.buyer).propose(w.terms(arbiter=w.carrier.address))


def test_an_insurer_may_bond_the_clause(w: AgreementWorld) -> None:
    insurer = party(w.chain)
    enrol(w.chain, deployment_for(w.chain), insurer.address, Role.INSURER)
    aid = w.propose(w.terms(bonder=insurer.address))
    assert w.agreements.agreement(aid).terms.bonder == insurer.address


def test_accept_reverts_when_the_arbiter_was_revoked_after_the_proposal(
    w: AgreementWorld,
) -> None:
    aid = w.propose()
    w.as_(w.carrier).post_bond(aid, BOND)
    sid = w.driver.create()
    orgs = OrganisationRegistryClient(
        w.chain, deployment_for(w.chain).address("OrganisationRegistry")
    )
    orgs.revoke_key(w.arbiter.address)
    with reverts("AgreementPartyNotInRole", party=2, account=w.arbiter.address, role=ARBITER):
        w.as_(w.seller).accept(aid, sid)
    assert w.agreements.agreement(aid).status is AgreementStatus.PROPOSED


def test_propose_reverts_when_caller_is_not_the_buyer(w: AgreementWorld) -> None:
    with reverts("AgreementCallerInvalid", agreementId=0, actual=w.seller.address):
        w.as_(w.seller).propose(w.terms(), approve=False)


def test_accept_reverts_until_the_bond_is_funded(w: AgreementWorld) -> None:
    aid = w.propose()
    sid = w.driver.create()
    with reverts("AgreementBondUnfunded", agreementId=aid, required=BOND, posted=0):
        w.as_(w.seller).accept(aid, sid)
    with reverts("AgreementCallerInvalid", agreementId=aid, expected=w.carrier.address):
        w.as_(w.buyer).post_bond(aid, BOND, approve=False)
    w.as_(w.carrier).post_bond(aid, BOND // 2)
    with reverts("AgreementBondExceeded", agreementId=aid, required=BOND, total=BOND + BOND // 2):
        w.as_(w.carrier).post_bond(aid, BOND)
    w.as_(w.carrier).post_bond(aid, BOND // 2)
    w.as_(w.seller).accept(aid, sid)
    assert w.agreements.agreement(aid).status is AgreementStatus.ACTIVE


def test_accept_reverts_on_a_shipment_not_consigned_to_the_buyer(w: AgreementWorld) -> None:
    aid = w.propose(w.terms(bonder="0x" + "00" * 20, bond_amount=0))
    sid = w.driver.create(consignee=w.arbiter.address)
    with reverts(
        "AgreementWrongConsignee",
        shipmentId=sid,
        expected=w.buyer.address,
        actual=w.arbiter.address,
    ):
        w.as_(w.seller).accept(aid, sid)


def test_accept_reverts_on_another_sellers_shipment(w: AgreementWorld) -> None:
    aid = w.propose(w.terms(bonder="0x" + "00" * 20, bond_amount=0))
    with reverts("AgreementWrongSeller", expected=w.seller.address, actual="0x" + "00" * 20):
        w.as_(w.seller).accept(aid, b"\x01" * 32)  # no such shipment


def test_accept_reverts_on_a_delivered_or_linked_shipment(w: AgreementWorld) -> None:
    unbonded = w.terms(bonder="0x" + "00" * 20, bond_amount=0)
    first, sid = w.active(unbonded)
    second = w.propose(unbonded)
    with reverts("AgreementShipmentAlreadyLinked", shipmentId=sid, agreementId=first):
        w.as_(w.seller).accept(second, sid)
    old = w.driver.create()
    w.to_door(old)
    w.deliver(old)
    with reverts("AgreementShipmentAlreadyDelivered", shipmentId=old, status=int(Status.DELIVERED)):
        w.as_(w.seller).accept(second, old)


def test_accept_with_sig_reverts_on_a_wrong_or_expired_signature(w: AgreementWorld) -> None:
    aid = w.propose(w.terms(bonder="0x" + "00" * 20, bond_amount=0))
    terms = w.agreements.agreement(aid).terms
    sid = w.driver.create()
    deadline = w.now() + 3_600
    msg = w.agreements.acceptance_message(aid, terms, sid, deadline=deadline)
    forged = w.agreements.sign_acceptance(w.buyer.key, msg)
    with reverts("AgreementSignatureInvalid", agreementId=aid, signer=w.seller.address):
        w.agreements.accept_with_sig(aid, sid, deadline=deadline, signature=forged)
    stale = w.now() - 1
    msg = w.agreements.acceptance_message(aid, terms, sid, deadline=stale)
    sig = w.agreements.sign_acceptance(w.seller.key, msg)
    with reverts("AgreementSignatureExpired", agreementId=aid, deadline=stale):
        w.agreements.accept_with_sig(aid, sid, deadline=stale, signature=sig)


def test_unknown_agreement_and_empty_withdrawal_revert(w: AgreementWorld) -> None:
    with reverts("AgreementUnknown", agreementId=99):
        w.agreements.settle(99)
    with reverts("AgreementNothingToWithdraw", account=w.buyer.address, token=w.token.address):
        w.as_(w.buyer).withdraw(w.token.address)


def test_fee_on_transfer_token_is_refused(tester: ChainClient) -> None:
    w = agreement_world(tester, coin="FeeOnTransferToken")
    with reverts("AgreementTokenTransferMismatch", expected=PRICE, received=PRICE - PRICE // 100):
        w.propose()
    assert w.conserved()


def test_reentrant_withdraw_is_refused(tester: ChainClient) -> None:
    w = agreement_world(tester, coin="ReentrantToken")
    aid = w.propose(w.terms(bonder="0x" + "00" * 20, bond_amount=0))
    w.as_(w.buyer).cancel(aid)
    payload = w.chain.encode(w.agreements.contract, "withdraw", w.token.address)
    evil = tester.contract("ReentrantToken", w.token.address)
    tester.transact(evil, "arm", w.agreements.address, payload)
    with reverts("ReentrancyGuardReentrantCall"):
        w.as_(w.buyer).withdraw(w.token.address)
    assert w.agreements.withdrawable(w.buyer.address, w.token.address) == PRICE
    mint(w.token, w.buyer.address, 0)
    assert w.conserved()
