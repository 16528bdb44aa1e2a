"""Gas of DeliveryAgreement next to a plain ERC-20 transfer measured in the same run.

The agreements settle from real proofs of delivery recorded in a ShipmentRegistry
deployed alongside. Runs on eth-tester (py-evm, prague rules):
``.venv/bin/python bench/gas_agreements.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dataclasses import replace

from eth_account import Account

from backend.chain import make_chain
from backend.chain.agreements import AgreementTerms, DeliveryAgreementClient
from backend.chain.alliance import TokenClient
from backend.chain.compiler import compile_contracts
from backend.chain.organisations import (
    KeyGrant,
    OrganisationInput,
    OrganisationRegistryClient,
    Role,
)
from backend.config import Settings
from bench.common import Row, publish
from bench.gas_shipments import CARRIER_A, CONSIGNEE, SELLER, Bench

USD = 10**6
DAY = 86_400


def main() -> None:
    chain = make_chain(Settings(chain_backend="tester"), compile_contracts())
    bench = Bench(chain)
    token = TokenClient(chain, chain.deploy("TestStablecoin").address)
    relayer = chain.address
    orgs = OrganisationRegistryClient(
        chain, chain.deploy("OrganisationRegistry", relayer, relayer).address
    )
    agreements = DeliveryAgreementClient(
        chain, chain.deploy("DeliveryAgreement", bench.reg.address, orgs.address).address
    )
    other = Account.create()
    # The parties the contract asks the OrganisationRegistry about, one organisation each.
    for i, (who, role) in enumerate(
        ((CONSIGNEE.address, Role.CONSIGNEE), (CARRIER_A.address, Role.CARRIER),
         (other.address, Role.ARBITER))
    ):  # fmt: skip
        org_id = bytes([i + 1]) * 32
        orgs.register(org_id, OrganisationInput(f"bench party {i}", "SG", "", role))
        orgs.add_key(KeyGrant(org_id, who, role))
    mint = chain.contract("TestStablecoin", token.address)
    for acct in (CONSIGNEE, CARRIER_A):
        chain.send_value(acct.address, 10**18)
        chain.transact(mint, "mint", acct.address, 1_000_000 * USD)
    buyer = chain.with_account(CONSIGNEE)
    bonder = chain.with_account(CARRIER_A)

    # Baseline: a plain transfer between two holders of the same token.
    token.using(buyer).transfer(other.address, 1 * USD)
    baseline = token.using(buyer).transfer(other.address, 1 * USD).gas_used
    token.using(buyer).approve(agreements.address, 10**12 * USD)
    token.using(bonder).approve(agreements.address, 10**12 * USD)

    def terms() -> AgreementTerms:
        now = bench.now()
        return AgreementTerms(
            buyer=CONSIGNEE.address,
            seller=SELLER.address,
            token=token.address,
            price=1_000 * USD,
            promised_by=now + 2 * DAY,
            final_deadline=now + 20 * DAY,
            compensation_per_day=50 * USD,
            compensation_cap=300 * USD,
            compensation_from_price=True,
            weight_tolerance_bps=500,
            bonder=CARRIER_A.address,
            bond_amount=100 * USD,
            arbiter=other.address,
            dispute_window=2 * DAY,
        )

    def active(t: AgreementTerms) -> tuple[int, bytes, dict[str, int]]:
        gas: dict[str, int] = {}
        result = agreements.using(buyer).propose(t, approve=False)[1]
        aid = int(result.event("AgreementProposed").args["agreementId"])
        gas["propose"] = result.gas_used
        gas["bond"] = agreements.using(bonder).post_bond(aid, t.bond_amount, approve=False).gas_used
        sid = bench.out_for_delivery(CONSIGNEE.address)
        deadline = bench.now() + 3_600
        msg = agreements.acceptance_message(aid, t, sid, deadline=deadline)
        sig = agreements.sign_acceptance(SELLER.key, msg)
        gas["accept"] = agreements.accept_with_sig(
            aid, sid, deadline=deadline, signature=sig
        ).gas_used
        return aid, sid, gas

    # Warm-up agreement so every account's token and credit slots are non-zero.
    aid, sid, _ = active(terms())
    bench.deliver(sid, CONSIGNEE)
    agreements.settle(aid)

    aid, sid, on_time = active(terms())
    bench.deliver(sid, CONSIGNEE)
    settle_on_time = agreements.settle(aid).gas_used

    late_terms = terms()
    aid, sid, _ = active(late_terms)
    chain.advance_time(late_terms.promised_by - bench.now() + 2 * DAY - 60)  # two days late
    bench.deliver(sid, CONSIGNEE)
    late = agreements.settle(aid)
    assert late.event("AgreementSettled").args["daysLate"] == 2
    settle_late = late.gas_used

    unbonded = replace(terms(), bonder="0x" + "00" * 20, bond_amount=0)
    unbonded_propose = agreements.using(buyer).propose(unbonded, approve=False)[1].gas_used
    withdraw = agreements.using(buyer).withdraw(token.address).gas_used

    label = "ERC-20 transfer"
    rows = [
        Row("create + fund (propose, price pulled)", on_time["propose"], "gas", baseline, label),
        Row("create + fund, no bond clause", unbonded_propose, "gas", baseline, label),
        Row("post bond (carrier)", on_time["bond"], "gas", baseline, label),
        Row("accept by seller's signature (relayed)", on_time["accept"], "gas", baseline, label),
        Row("settle on time (seller paid, bond back)", settle_on_time, "gas", baseline, label),
        Row("settle two days late (compensation)", settle_late, "gas", baseline, label),
        Row("withdraw", withdraw, "gas", baseline, label),
    ]
    publish("gas_agreements", "DeliveryAgreement gas (eth-tester, prague)", rows)


if __name__ == "__main__":
    main()
