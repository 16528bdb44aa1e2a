"""A stock-transfer alliance wired to the real ShipmentRegistry, on any chain backend.

The lender ships as the registry's seller of record with its own carriers; the
requester is the consignee who signs the proof of delivery. Attack tests build
extra drivers whose every party key belongs to the attacker.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from backend.chain import ChainClient
from backend.chain.alliance import StockRequest, Terms, TokenClient
from backend.chain.shipments import ShipmentRegistryClient
from tests.conftest import deployment_for
from tests.contracts.alliance_drivers import StockDriver
from tests.contracts.alliance_support import DAY, USD, Party, deploy_token, mint, party
from tests.contracts.shipment_factory import Parties, ShipmentDriver, account

GTIN = 9_506_000_134_352
GRACE = 2 * DAY


@dataclass
class StockWorld:
    chain: ChainClient
    registry: ShipmentRegistryClient
    est: StockDriver
    token: TokenClient
    lender: Party
    requester: Party

    def as_(self, who: Party) -> StockDriver:
        return self.est.using(who.chain)

    def outbound(self, consignee: LocalAccount | None = None) -> ShipmentDriver:
        """Shipments from the lender, consigned to the requester unless told otherwise."""
        return ShipmentDriver(
            self.registry,
            Parties(seller=self.lender.account),
            consignee=consignee or self.requester.account,
        )

    def inbound(self, consignee: LocalAccount | None = None) -> ShipmentDriver:
        """Return shipments from the requester, consigned to the lender unless told otherwise."""
        return ShipmentDriver(
            self.registry,
            Parties(seller=self.requester.account),
            consignee=consignee or self.lender.account,
        )

    def self_dealt(
        self, seller: Party, label: str, consignee: LocalAccount | None
    ) -> ShipmentDriver:
        """A route where ``seller`` holds every key: its own carriers, warehouse and broker."""
        keys = Parties(
            seller=seller.account,
            carrier_a=account(f"{label}-carrier-a"),
            carrier_b=account(f"{label}-carrier-b"),
            warehouse=account(f"{label}-warehouse"),
            broker=account(f"{label}-broker"),
            outsider=account(f"{label}-outsider"),
        )
        return ShipmentDriver(self.registry, keys, consignee=consignee)

    def accepted(self, terms: Terms, *, quantity: int = 10) -> int:
        """A request by the requester, offered by the lender and accepted (cash: 4 USD a unit)."""
        now = self.chain.block()["timestamp"]
        if terms is Terms.CASH:
            req = StockRequest(GTIN, quantity, "NLRTM", now + 3 * DAY, terms, 5 * USD)
            price = 4 * USD
        else:
            req = StockRequest(GTIN, quantity, "NLRTM", now + 3 * DAY, terms, 0, now + 30 * DAY)
            price = 0
        rid, _ = self.as_(self.requester).request(req)
        offer_id, _ = self.as_(self.lender).offer(rid, price)
        self.as_(self.requester).accept(rid, offer_id)
        return rid

    def conserved(self) -> bool:
        return self.token.balance_of(self.est.address) == self.est.total_liabilities()


def stock_world(chain: ChainClient) -> StockWorld:
    registry = ShipmentRegistryClient(chain, deployment_for(chain).address("ShipmentRegistry"))
    token = deploy_token(chain)
    deployed = chain.deploy(
        "EmergencyStockTransfer", chain.address, token.address, registry.address, GRACE
    )
    est = StockDriver(chain, deployed.address)
    lender = party(chain)
    requester = party(chain)
    for p in (lender, requester):
        est.grant_member(p.address)
        mint(token, p.address, 1_000 * USD)
    return StockWorld(chain, registry, est, token, lender, requester)
