"""EmergencyStockTransfer: escrow, confirmation, refund, in-kind obligations, netting.

The DELIVERED-milestone release path needs the real ShipmentRegistry and lives
in ``test_emergency_transfer_delivery.py``. The deployments here point at an
account with no code: none of the paths below consults the registry, and the
ones that must (``release``) are shown to refuse before reaching it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_account import Account

from backend.chain import ChainClient
from backend.chain.alliance import StockRequest, Terms, TokenClient, TransferStatus
from tests.contracts.alliance_drivers import StockDriver
from tests.contracts.alliance_support import DAY, USD, Party, advance_to, deploy_token, mint, party
from tests.helpers import reverts

GTIN = 9_506_000_134_352
GRACE = 2 * DAY


@dataclass
class Alliance:
    chain: ChainClient
    est: StockDriver
    token: TokenClient
    a: Party
    b: Party
    c: Party

    def as_(self, who: Party) -> StockDriver:
        return self.est.using(who.chain)

    def conserved(self) -> bool:
        return self.token.balance_of(self.est.address) == self.est.total_liabilities()

    def cash_request(self, who: Party, quantity: int = 10, max_price: int = 5 * USD) -> int:
        now = self.chain.block()["timestamp"]
        req = StockRequest(GTIN, quantity, "NLRTM", now + 3 * DAY, Terms.CASH, max_price)
        request_id, _ = self.as_(who).request(req)
        return request_id

    def in_kind_request(self, who: Party, quantity: int = 10, gtin: int = GTIN) -> int:
        now = self.chain.block()["timestamp"]
        req = StockRequest(gtin, quantity, "DEHAM", now + 3 * DAY, Terms.IN_KIND, 0, now + 30 * DAY)
        request_id, _ = self.as_(who).request(req)
        return request_id


def deploy_alliance(chain: ChainClient, coin: str = "TestStablecoin") -> Alliance:
    token = deploy_token(chain, coin)
    no_registry = Account.create().address
    deployed = chain.deploy(
        "EmergencyStockTransfer", chain.address, token.address, no_registry, GRACE
    )
    est = StockDriver(chain, deployed.address)
    a, b, c = (party(chain) for _ in range(3))
    for p in (a, b, c):
        est.grant_member(p.address)
        mint(token, p.address, 1_000 * USD)
    return Alliance(chain, est, token, a, b, c)


@pytest.fixture
def alliance(tester: ChainClient) -> Alliance:
    return deploy_alliance(tester)


def test_cash_transfer_escrows_on_accept_and_pays_lender_on_confirmed_receipt(
    alliance: Alliance,
) -> None:
    al = alliance
    rid = al.cash_request(al.a)
    with reverts("StockPriceTooHigh", requestId=rid, offered=6 * USD, maximum=5 * USD):
        al.as_(al.b).offer(rid, 6 * USD)
    with reverts("StockSelfOffer", requestId=rid, account=al.a.address):
        al.as_(al.a).offer(rid, 1 * USD)
    offer_b, _ = al.as_(al.b).offer(rid, 4 * USD)
    offer_c, _ = al.as_(al.c).offer(rid, 3 * USD)
    with reverts("StockNotRequester", requestId=rid, account=al.b.address):
        al.as_(al.b).accept(rid, offer_c)
    al.as_(al.a).accept(rid, offer_c)
    t = al.est.transfer(rid)
    assert (t.status, t.lender, t.escrow) == (TransferStatus.ACCEPTED, al.c.address, 30 * USD)
    assert al.token.balance_of(al.a.address) == 970 * USD
    assert al.est.amount_owed(al.a.address, al.c.address) == 30 * USD
    assert al.conserved()
    with reverts("StockStatusInvalid", requestId=rid, expected=int(TransferStatus.OPEN)):
        al.as_(al.a).accept(rid, offer_b)
    with reverts("StockShipmentNotLinked", requestId=rid):
        al.est.release(rid)
    with reverts("StockNotRequester", requestId=rid, account=al.c.address):
        al.as_(al.c).confirm_receipt(rid)
    result = al.as_(al.a).confirm_receipt(rid)
    assert result.event("TransferReleased").args["byConfirmation"] is True
    assert al.est.transfer(rid).status is TransferStatus.SETTLED
    assert al.est.withdrawable(al.c.address) == 30 * USD
    assert al.est.amount_owed(al.a.address, al.c.address) == 0
    al.as_(al.c).withdraw()
    assert al.token.balance_of(al.c.address) == 1_030 * USD
    assert al.conserved()
    with reverts("StockNothingToWithdraw", account=al.c.address):
        al.as_(al.c).withdraw()


def test_refund_returns_escrow_after_needed_by_plus_grace(alliance: Alliance) -> None:
    al = alliance
    rid = al.cash_request(al.a, quantity=4)
    offer_id, _ = al.as_(al.b).offer(rid, 5 * USD)
    al.as_(al.a).accept(rid, offer_id)
    deadline = al.est.transfer(rid).request.needed_by + GRACE
    advance_to(al.chain, deadline - 10)
    with reverts("StockRefundTooEarly", requestId=rid, refundableAt=deadline + 1):
        al.est.refund(rid)
    advance_to(al.chain, deadline + 1)
    al.est.refund(rid)  # anyone may trigger it; the money goes to the requester
    assert al.est.transfer(rid).status is TransferStatus.REFUNDED
    assert al.est.withdrawable(al.a.address) == 20 * USD
    assert al.est.withdrawable(al.b.address) == 0
    assert al.conserved()
    al.as_(al.a).withdraw()
    assert al.token.balance_of(al.a.address) == 1_000 * USD
    assert al.conserved()
    with reverts("StockStatusInvalid", requestId=rid, actual=int(TransferStatus.REFUNDED)):
        al.as_(al.a).confirm_receipt(rid)


def test_in_kind_loan_opens_obligation_closed_by_lender_confirmation(alliance: Alliance) -> None:
    al = alliance
    rid = al.in_kind_request(al.a, quantity=12)
    with reverts("StockPriceNotZero", requestId=rid, offered=1):
        al.as_(al.b).offer(rid, 1)
    offer_id, _ = al.as_(al.b).offer(rid)
    al.as_(al.a).accept(rid, offer_id)
    assert al.token.balance_of(al.est.address) == 0
    result = al.as_(al.a).confirm_receipt(rid)
    opened = result.event("ObligationOpened").args
    assert (opened["debtor"], opened["creditor"], opened["quantity"]) == (
        al.a.address,
        al.b.address,
        12,
    )
    assert al.est.transfer(rid).status is TransferStatus.OUTSTANDING
    assert al.est.units_owed(al.a.address, al.b.address, GTIN) == 12
    assert al.est.net_position(al.a.address, al.b.address, GTIN).units == 12
    assert al.est.net_position(al.b.address, al.a.address, GTIN).units == -12
    with reverts("StockShipmentNotLinked", requestId=rid):
        al.est.close_return(rid)
    with reverts("StockNotLender", requestId=rid, account=al.a.address):
        al.as_(al.a).confirm_return(rid)
    closed = al.as_(al.b).confirm_return(rid)
    assert closed.event("ObligationClosed").args["byConfirmation"] is True
    assert al.est.transfer(rid).status is TransferStatus.RETURNED
    assert al.est.units_owed(al.a.address, al.b.address, GTIN) == 0


def test_mutual_help_in_both_directions_nets_out(alliance: Alliance) -> None:
    al = alliance
    # a borrows 12 units from b in kind; later b borrows 12 of the same GTIN from a.
    r1 = al.in_kind_request(al.a, quantity=12)
    o1, _ = al.as_(al.b).offer(r1)
    al.as_(al.a).accept(r1, o1)
    al.as_(al.a).confirm_receipt(r1)
    r2 = al.in_kind_request(al.b, quantity=7)
    o2, _ = al.as_(al.a).offer(r2)
    al.as_(al.b).accept(r2, o2)
    al.as_(al.b).confirm_receipt(r2)
    pos = al.est.net_position(al.a.address, al.b.address, GTIN)
    assert pos.units == 5
    # Cash both ways nets too: each has 8 USD in escrow to the other.
    r3 = al.cash_request(al.a, quantity=2)
    o3, _ = al.as_(al.b).offer(r3, 4 * USD)
    al.as_(al.a).accept(r3, o3)
    r4 = al.cash_request(al.b, quantity=4)
    o4, _ = al.as_(al.a).offer(r4, 2 * USD)
    al.as_(al.b).accept(r4, o4)
    pos = al.est.net_position(al.a.address, al.b.address, GTIN)
    assert (pos.units, pos.amount) == (5, 0)
    assert al.est.amount_owed(al.a.address, al.b.address) == 8 * USD
    r5 = al.in_kind_request(al.b, quantity=5)
    o5, _ = al.as_(al.a).offer(r5)
    al.as_(al.b).accept(r5, o5)
    al.as_(al.b).confirm_receipt(r5)
    assert al.est.net_position(al.a.address, al.b.address, GTIN).units == 0
    assert al.conserved()


def test_requests_are_members_only_and_validated(alliance: Alliance) -> None:
    al = alliance
    outsider = party(al.chain)
    now = al.chain.block()["timestamp"]
    req = StockRequest(GTIN, 1, "NLRTM", now + DAY, Terms.CASH, 1)
    with reverts("StockNotMember", account=outsider.address):
        al.est.using(outsider.chain).request(req)
    # Each invalid request names its rule: tests/contracts/test_emergency_transfer_attacks.py.
    rid = al.cash_request(al.a)
    with reverts("StockNotMember", account=outsider.address):
        al.est.using(outsider.chain).offer(rid, 1)
    al.as_(al.a).cancel_request(rid)
    with reverts("StockStatusInvalid", requestId=rid, actual=int(TransferStatus.CANCELLED)):
        al.as_(al.b).offer(rid, 1)
    with reverts("StockRequestUnknown", requestId=99):
        al.est.release(99)


def test_fee_on_transfer_token_is_rejected_at_acceptance(tester: ChainClient) -> None:
    al = deploy_alliance(tester, "FeeOnTransferToken")
    rid = al.cash_request(al.a, quantity=10)
    offer_id, _ = al.as_(al.b).offer(rid, 5 * USD)
    with reverts(
        "StockTokenTransferMismatch",
        token=al.token.address,
        expected=50 * USD,
        received=int(49.5 * USD),
    ):
        al.as_(al.a).accept(rid, offer_id)
    assert al.est.transfer(rid).status is TransferStatus.OPEN
    assert al.conserved()


def test_no_bool_token_escrows_and_pays_out(tester: ChainClient) -> None:
    al = deploy_alliance(tester, "NoReturnToken")
    rid = al.cash_request(al.a, quantity=3)
    offer_id, _ = al.as_(al.b).offer(rid, 2 * USD)
    al.as_(al.a).accept(rid, offer_id)
    al.as_(al.a).confirm_receipt(rid)
    al.as_(al.b).withdraw()
    assert al.token.balance_of(al.b.address) == 1_006 * USD
    assert al.conserved()


def test_cash_transfer_on_each_chain_backend(chain: ChainClient) -> None:
    al = deploy_alliance(chain)
    rid = al.cash_request(al.a, quantity=2)
    offer_id, _ = al.as_(al.b).offer(rid, 5 * USD)
    al.as_(al.a).accept(rid, offer_id)
    al.as_(al.a).confirm_receipt(rid)
    al.as_(al.b).withdraw()
    assert al.token.balance_of(al.b.address) == 1_010 * USD
    assert al.conserved()


def test_reentrant_token_cannot_reenter_withdraw(tester: ChainClient) -> None:
    al = deploy_alliance(tester, "ReentrantToken")
    rid = al.cash_request(al.a, quantity=2)
    offer_id, _ = al.as_(al.b).offer(rid, 5 * USD)
    with reverts("StockOfferUnknown", requestId=rid, offerId=offer_id + 1):
        al.as_(al.a).accept(rid, offer_id + 1)
    al.as_(al.a).accept(rid, offer_id)
    al.as_(al.a).confirm_receipt(rid)
    evil = tester.contract("ReentrantToken", al.token.address)
    tester.transact(evil, "arm", al.est.address, al.est.contract.encode_abi("withdraw", args=[]))
    with reverts("ReentrancyGuardReentrantCall"):
        al.as_(al.b).withdraw()
    assert al.est.withdrawable(al.b.address) == 10 * USD
    assert al.conserved()
