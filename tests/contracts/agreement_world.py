"""A purchase agreement's parties on a real ShipmentRegistry, for the DeliveryAgreement tests.

The seller ships as the registry's seller of record to the buyer as consignee;
a carrier posts the bond; an arbiter decides disputes. ``to_door`` drives a
shipment to OUT_FOR_DELIVERY in two transactions (one co-signed pickup, one
batch), so property tests can afford many deliveries.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any

from backend.chain import ChainClient
from backend.chain.agreements import AgreementTerms
from backend.chain.alliance import TokenClient
from backend.chain.deployments import Deployment
from backend.chain.organisations import (
    KeyGrant,
    OrganisationInput,
    OrganisationRegistryClient,
    Role,
)
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.shipments import DeliveryCondition, MilestoneType
from tests.conftest import deployment_for
from tests.contracts.alliance_drivers import AgreementDriver
from tests.contracts.alliance_support import DAY, USD, Party, deploy_token, mint, party
from tests.contracts.shipment_factory import Parties, ShipmentDriver

M = MilestoneType
PRICE = 1_000 * USD
PER_DAY = 50 * USD
CAP = 300 * USD
BOND = 100 * USD
WINDOW = 2 * DAY
PROMISE = 5 * DAY
FINAL = 20 * DAY


@dataclass
class AgreementWorld:
    chain: ChainClient
    registry: ShipmentRegistryClient
    agreements: AgreementDriver
    token: TokenClient
    buyer: Party
    seller: Party
    carrier: Party  # posts the bond
    arbiter: Party
    driver: ShipmentDriver

    def as_(self, who: Party) -> AgreementDriver:
        return self.agreements.using(who.chain)

    def now(self) -> int:
        return self.driver.now()

    def terms(self, **overrides: Any) -> AgreementTerms:
        now = self.now()
        base = AgreementTerms(
            buyer=self.buyer.address,
            seller=self.seller.address,
            token=self.token.address,
            price=PRICE,
            promised_by=now + PROMISE,
            final_deadline=now + FINAL,
            compensation_per_day=PER_DAY,
            compensation_cap=CAP,
            compensation_from_price=True,
            weight_tolerance_bps=500,
            bonder=self.carrier.address,
            bond_amount=BOND,
            arbiter=self.arbiter.address,
            dispute_window=WINDOW,
        )
        return replace(base, **overrides)

    def propose(self, terms: AgreementTerms | None = None) -> int:
        agreement_id, _ = self.as_(self.buyer).propose(terms or self.terms())
        return agreement_id

    def active(self, terms: AgreementTerms | None = None) -> tuple[int, bytes]:
        """Proposed, bonded and accepted by the seller's relayed signature; returns (id, shipment)."""
        agreement_id = self.propose(terms)
        info = self.agreements.agreement(agreement_id)
        if info.terms.bond_amount:
            self.as_(self.carrier).post_bond(agreement_id, info.terms.bond_amount)
        sid = self.driver.create()
        self.accept_with_sig(agreement_id, info.terms, sid)
        return agreement_id, sid

    def accept_with_sig(self, agreement_id: int, terms: AgreementTerms, sid: bytes) -> None:
        deadline = self.now() + 3_600
        msg = self.agreements.acceptance_message(agreement_id, terms, sid, deadline=deadline)
        sig = self.agreements.sign_acceptance(self.seller.key, msg)
        self.agreements.accept_with_sig(agreement_id, sid, deadline=deadline, signature=sig)

    def to_door(self, sid: bytes) -> None:
        """PICKED_UP (co-signed) then one batch up to OUT_FOR_DELIVERY with carrier A."""
        d, p = self.driver, self.driver.parties
        d.transfer(sid, M.PICKED_UP, p.seller, p.carrier_a)
        steps = [
            (M.EXPORT_CLEARED, p.broker),
            (M.DEPARTED, p.carrier_a),
            (M.ARRIVED, p.carrier_a),
            (M.IMPORT_CLEARED, p.broker),
            (M.OUT_FOR_DELIVERY, p.carrier_a),
        ]
        nonces = {p.broker.address: d.registry.nonce(p.broker.address)}
        nonces[p.carrier_a.address] = d.registry.nonce(p.carrier_a.address)
        batch = []
        for kind, who in steps:
            msg = d.message(sid, kind, who, nonce=nonces[who.address])
            nonces[who.address] += 1
            batch.append((msg, d.sign(who, msg)))
        d.registry.record_milestones(batch)

    def deliver(
        self,
        sid: bytes,
        condition: DeliveryCondition = DeliveryCondition.ACCEPTED,
        **fields: Any,
    ) -> None:
        self.driver.deliver(
            sid, self.buyer.account, condition, carrier=self.driver.parties.carrier_a, **fields
        )

    def lose(self, sid: bytes) -> None:
        self.driver.record(
            sid, M.EXCEPTION, self.driver.parties.carrier_a, reason_code=td.ExceptionReason.LOST
        )

    def conserved(self) -> bool:
        return self.token.balance_of(self.agreements.address) == self.agreements.liabilities(
            self.token.address
        )


def enrol(chain: ChainClient, deployment: Deployment, account: str, role: Role) -> bytes:
    """Register an organisation holding ``role`` with ``account`` as its key (relayer = registrar)."""
    orgs = OrganisationRegistryClient(chain, deployment.address("OrganisationRegistry"))
    org_id = secrets.token_bytes(32)
    orgs.register(org_id, OrganisationInput(f"Party {account[:10]}", "SG", "", role))
    orgs.add_key(KeyGrant(org_id, account, role))
    return org_id


def enrol_parties(
    chain: ChainClient, deployment: Deployment, *, buyer: str, bonder: str, arbiter: str
) -> None:
    """The roles the contract asks of an agreement's parties (consignee, carrier, arbiter)."""
    enrol(chain, deployment, buyer, Role.CONSIGNEE)
    enrol(chain, deployment, bonder, Role.CARRIER)
    enrol(chain, deployment, arbiter, Role.ARBITER)


def agreement_world(chain: ChainClient, coin: str = "TestStablecoin") -> AgreementWorld:
    deployment = deployment_for(chain)
    registry = ShipmentRegistryClient(chain, deployment.address("ShipmentRegistry"))
    agreements = AgreementDriver(chain, deployment.address("DeliveryAgreement"))
    token = deploy_token(chain, coin)
    buyer, seller, carrier, arbiter = (party(chain) for _ in range(4))
    for p in (buyer, carrier):
        mint(token, p.address, 100_000 * USD)
    enrol_parties(
        chain, deployment, buyer=buyer.address, bonder=carrier.address, arbiter=arbiter.address
    )
    driver = ShipmentDriver(
        registry,
        Parties(seller=seller.account, carrier_a=carrier.account),
        consignee=buyer.account,
    )
    return AgreementWorld(
        chain, registry, agreements, token, buyer, seller, carrier, arbiter, driver
    )
