"""The member-day scenario: a home-goods brand, its suppliers, carriers and alliance.

Hearth & Grove sells bamboo tableware into the US. Its supplier matrix is 70-20-10:
Lang Tre Homeware (Thanh Hoa, Vietnam) makes 70 % of the volume, a Zhejiang
factory shipping from Ningbo is the 20 % backup, and a Los Angeles workshop is the
10 % emergency source. Goods move Vietnam → Shenzhen → US West Coast
(VNSGN/VNHPH → CNSZX → USLAX/USLGB/USOAK). Ahead of member day:

* six shipments are on the way or done: one delivered on time, one held by US
  customs and released, one with a 12.5 % weight discrepancy, one that left
  Ningbo late, one normal sailing and one emergency truck run due within a day;
* the bamboo tableware lot has a passport issued by the factory, with the sea
  legs of its shipment in the transport carbon, and an FSC attestation by the
  certifier;
* three sellers (home goods, lamps, textiles) share the factory's capacity pool:
  lamps hands 10 units of its booking to home goods before the cut-off, and the
  period is settled on co-signed usage;
* a lockdown closes Shenzhen port; Lumen Row (lamps) lends Hearth & Grove 200
  sets from its Ho Chi Minh City stock, flown around the port, for cash, escrowed until the delivery is on chain;
* Hearth & Grove buys a container of tableware from Lang Tre under a purchase
  agreement: the price is escrowed, Pacific Bridge bonds the delay clause, Control
  Union arbitrates; the shipment reaches the door two started days after the
  promised time, and the service's keeper settles it by itself: compensation to
  the buyer from the bond, the price to the factory.

Organisations, signer keys, shipments, milestones, passports, attestations and
signed supply events go through the HTTP API: every party signs with its own key
and the service relays (gasless for the signers). Alliance members send their
pool and stock-transfer transactions from their own accounts, as the ``waymark
pool`` / ``waymark transfer`` commands do; the indexer reads everything back.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import rfc8785
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

from backend.alliance.members import member_proof_text
from backend.chain import ChainClient, eip712
from backend.chain.agreements import AgreementTerms, DeliveryAgreementClient
from backend.chain.alliance import (
    CapacityPoolClient,
    EmergencyStockTransferClient,
    PoolConfig,
    StockRequest,
    Terms,
    TokenClient,
)
from backend.chain.deployments import DEV_SETTLEMENT_TOKEN, Deployment
from backend.chain.passports import PassportContent, PassportRegistryClient, claim_type
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.events import (
    SUBJECT_DELEGATION,
    SUPPLY_EVENT,
    EventKind,
    events_domain,
)
from backend.chain.typed_data.passports import ATTEST, ISSUE_PASSPORT, PASSPORT_CONTENT
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.cli.client import Api
from backend.cli.common import to_json
from backend.common.types import to_hex
from backend.passports.canonical import document_hash
from backend.passports.carbon import footprint
from backend.passports.schemas import parse_document
from backend.passports.summary import key_figures

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "passports" / "samples"
HOUR = 3_600
DAY = 86_400
USD = 10**6  # TestStablecoin has 6 decimals
GTIN = "08936045870013"
GS1_PREFIX = "8936045"  # Lang Tre's GS1 company prefix (GS1 Vietnam, 893)
LOT = "TH2611-07"
GTIN_INT = int(GTIN)
# Item-level links printed by the demo (serials of the lot; they resolve to the lot passport).
DEMO_SERIALS = ("TH07-0001", "TH07-0002", "TH07-0003")
# The serial of the lot that has a passport of its own (item level).
ITEM_SERIAL = "TH07-0420"
STEPS = (
    "organisations",
    "webhook subscription",
    "shipments",
    "passport",
    "supply events",
    "stablecoin",
    "emergency stock transfer",
    "capacity pool",
    "purchase agreement",
)
SUPPLIER_MATRIX = {"Lang Tre Homeware (Vietnam)": 70, "Ningbo backup (Zhejiang)": 20,
                   "LA emergency workshop": 10}  # fmt: skip


T = TypeVar("T")


@dataclass
class Org:
    slug: str
    name: str
    api_key: str
    signer: LocalAccount
    admin_key: str = ""


@dataclass
class DemoResult:
    """What the demo prints and the scenario test asserts on."""

    orgs: dict[str, Org]
    shipments: dict[str, str]
    expected_colours: dict[str, str]
    passport_path: str
    passport_id: str
    event_digests: list[str]
    pool_id: int
    period_id: int
    transfer_request_id: int
    token: str
    agreement_id: int = 0
    agreement: dict[str, Any] = field(default_factory=dict)
    settlement: dict[str, dict[str, int]] = field(default_factory=dict)
    lender_withdrawable: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    # The labelled shipment (SSCC on its logistic label) and the seller's webhook.
    label_sscc: str = ""
    webhook_subscription: int = 0
    webhook_secret: str = ""

    @property
    def seller_key(self) -> str:
        return self.orgs["hearth-grove"].api_key


STOCK = "EmergencyStockTransfer"
AGREEMENTS = "DeliveryAgreement"
# The purchase agreement: 780 kg of tableware for 9,600 tUSD; 150 tUSD per started day late.
AGREEMENT_PRICE = 9_600 * USD
AGREEMENT_PER_DAY = 150 * USD
# SSCC of HG-2611-002's logistic unit (GS1 Company Prefix 9521234, check digit 8).
LABEL_SSCC = "095212345000000018"


class Scenario:
    """Runs the story once against one API and one chain (the service's own)."""

    def __init__(
        self,
        *,
        http: httpx.Client,
        chain: ChainClient,
        deployment: Deployment,
        admin_token: str,
        log: Callable[[str], None] = lambda _msg: None,
        webhook_url: str | None = None,
    ) -> None:
        self.http = http
        self.webhook_url = webhook_url
        self.api = Api(str(http.base_url), http=http)
        self.chain = chain
        self.deployment = deployment
        self.admin_token = admin_token
        self.log = log
        self.registry = ShipmentRegistryClient(chain, deployment.address("ShipmentRegistry"))
        self.passports = PassportRegistryClient(
            chain, deployment.address("ProductPassportRegistry")
        )
        self.pool = CapacityPoolClient(chain, deployment.address("CapacityPool"))
        self.orgs: dict[str, Org] = {}
        self.parties: dict[str, LocalAccount] = {}
        self.owner: dict[str, Org] = {}  # signer address -> its organisation
        self.timings: dict[str, float] = {}
        self.pending: list[tuple[int, str]] = []
        self.nonces: dict[tuple[str, str], int] = {}

    # -- plumbing -------------------------------------------------------------------

    def _post(self, path: str, body: Any, key: str) -> Any:
        return self.api.post(path, body, api_key=key)

    def _get(self, path: str, key: str) -> Any:
        return self.api.get(path, api_key=key)

    def _relay(self, path: str, body: Any, org: Org) -> None:
        """Submit a signed write; it is relayed in submission order (waited for later)."""
        accepted = self._post(path, body, org.api_key)
        self.pending.append((int(accepted["relay_id"]), org.api_key))

    def settle_relays(self, timeout: float = 60.0) -> None:
        """Wait until every submitted write is mined; a failed one stops the story."""
        deadline = time.monotonic() + timeout
        while self.pending:
            relay_id, key = self.pending[0]
            left = max(0.0, deadline - time.monotonic())
            self.api.wait_relay(relay_id, timeout=left, interval=0.05, api_key=key)
            self.pending.pop(0)

    def _nonce(self, registry: str, address: str) -> int:
        """Next nonce of ``address`` counting writes submitted but not mined yet."""
        key = (registry, address)
        if key not in self.nonces:
            client = self.registry if registry == "shipments" else self.passports
            self.nonces[key] = client.nonce(address)
        self.nonces[key] += 1
        return self.nonces[key] - 1

    def now(self) -> int:
        """Chain time (the wall clock until the pool period is fast-forwarded)."""
        return max(int(time.time()), int(self.chain.block()["timestamp"]))

    def _account(self, label: str) -> LocalAccount:
        acct: LocalAccount = Account.create()
        self.chain.send_value(acct.address, 10**17)
        self.parties[label] = acct
        return acct

    def _as(self, acct: LocalAccount) -> ChainClient:
        return self.chain.with_account(acct)

    def _step(self, name: str, fn: Callable[[], T]) -> T:
        """Run one step of :data:`STEPS` and log ``[i/n] name … seconds`` when it is done."""
        started = time.perf_counter()
        result = fn()
        self.timings[name] = round(time.perf_counter() - started, 2)
        self.log(f"[{STEPS.index(name) + 1}/{len(STEPS)}] {name:<25} {self.timings[name]:5.1f} s")
        return result

    # -- organisations (HTTP API) --------------------------------------------------

    def create_org(
        self,
        slug: str,
        name: str,
        scopes: list[str],
        signers: int = 1,
        *,
        country: str,
        domain: str,
        prefixes: tuple[str, ...] = (),
        roles: list[str] | None = None,
    ) -> Org:
        """Create the organisation through the operator API; the service registers it on
        chain (verified name, country, domain, roles, GS1 prefixes) and adds its keys."""
        body: dict[str, Any] = {
            "slug": slug,
            "name": name,
            "country": country,
            "web_domain": domain,
            "gs1_prefixes": list(prefixes),
        }
        if roles is not None:
            body["roles"] = roles
        created = self._post("/v1/orgs", body, self.admin_token)
        admin_key = created["admin_key"]["key"]
        accounts = [self._account(f"{slug}#{i}") for i in range(signers)]
        for i, acct in enumerate(accounts):
            body = {"address": acct.address, "label": f"{name} key {i + 1}"}
            self._post(f"/v1/orgs/{slug}/signers", body, admin_key)
        issued = self._post(
            f"/v1/orgs/{slug}/api-keys", {"scopes": scopes, "label": "demo"}, admin_key
        )
        org = Org(slug, name, issued["key"], accounts[0], admin_key)
        self.orgs[slug] = org
        for acct in accounts:
            self.owner[acct.address] = org
        return org

    def organisations(self) -> None:
        self.create_org(
            "hearth-grove",
            "Hearth & Grove Home",
            ["seller"],
            country="US",
            domain="hearthgrove.example",
            prefixes=("0614141",),
        )
        self.create_org(
            "lumen-row",
            "Lumen Row Lighting",
            ["seller"],
            country="US",
            domain="lumenrow.example",
            prefixes=("0614142",),
        )
        self.create_org(
            "loom-street",
            "Loom Street Textiles",
            ["seller"],
            country="US",
            domain="loomstreet.example",
            prefixes=("0614143",),
        )
        # The factory owns the GTIN's GS1 company prefix and issues the product passports
        # (issuers hold the seller scope).
        self.create_org(
            "lang-tre",
            "Lang Tre Homeware JSC",
            ["supplier", "seller"],
            country="VN",
            domain="langtre.example",
            prefixes=(GS1_PREFIX,),
        )
        carriers = self.create_org(
            "pacific-bridge",
            "Pacific Bridge Logistics",
            ["carrier"],
            signers=3,
            country="SG",
            domain="pacificbridge.example",
        )
        self.parties["ocean"], self.parties["air"], self.parties["lastmile"] = (
            self.parties["pacific-bridge#0"],
            self.parties["pacific-bridge#1"],
            self.parties["pacific-bridge#2"],
        )
        self.parties["broker"] = self.create_org(
            "harbor-customs",
            "Harbor Customs Brokerage",
            ["carrier"],
            country="US",
            domain="harborcustoms.example",
        ).signer
        self.parties["warehouse"] = self.create_org(
            "west-dock",
            "West Dock Fulfilment (US West)",
            ["carrier"],
            country="US",
            domain="westdock.example",
        ).signer
        # An accredited certification and inspection body: the operator grants the
        # certifier role and the arbiter role (it rules on disputed deliveries).
        self.create_org(
            "control-union",
            "Control Union Certifications",
            ["certifier"],
            country="NL",
            domain="controlunion.example",
            roles=["certifier", "arbiter"],
        )
        del carriers
        # Hearth & Grove sells Lang Tre's tableware: the factory lets it ship the
        # passports and speak for them (the subject rule refuses it otherwise).
        self.delegate("lang-tre", "hearth-grove")

    def delegate(self, issuer: str, delegate: str) -> None:
        """``issuer`` signs a delegation letting ``delegate`` speak for all its passports."""
        org = self.orgs[issuer]
        domain = events_domain(self.chain.chain_id, self.deployment.address("AnchorRegistry"))
        message = {
            "issuer": org.signer.address,
            "subject": bytes(32),
            "delegate": delegate,
            "salt": keccak(f"{issuer} delegates {delegate}".encode()),
        }
        sig = eip712.sign(org.signer.key, domain, SUBJECT_DELEGATION, message)
        body = to_json(SUBJECT_DELEGATION, message) | {"signature": to_hex(sig)}
        self._post(f"/v1/orgs/{issuer}/delegations", body, org.admin_key)

    # -- shipments (signed by each party, relayed) -----------------------------------

    def _create(
        self,
        label: str,
        seller: LocalAccount,
        origin: str,
        destination: str,
        *,
        weight_kg: int,
        mode: str,
        sla: dict[str, int],
        carriers: list[LocalAccount],
        tolerance_bps: int = 200,
        consignee: LocalAccount | None = None,
        sscc: str | None = None,
    ) -> bytes:
        """Submit a seller-signed shipment with its manifest (bamboo tableware lot)."""
        sid = td.shipment_id(seller.address, f"waymark-demo/{label}/{secrets.token_hex(8)}")
        # Only HG-2611-002 carries the passport's lot; the others carry other lots.
        lot = LOT if label == "HG-2611-002" else f"{label[-3:]}-{LOT[:6]}"
        manifest: dict[str, Any] = {
            "transportMode": mode,
            "lines": [{"gtin": GTIN, "lot": lot, "quantity": weight_kg * 1000 // 1950}],
        }
        if sscc is not None:
            manifest["sscc"] = sscc
        terms = td.shipment_terms(
            shipment_id=sid,
            seller=seller.address,
            origin=origin,
            destination=destination,
            declared_weight_grams=weight_kg * 1000,
            piece_count=weight_kg // 20,
            weight_tolerance_bps=tolerance_bps,
            manifest_hash=keccak(rfc8785.dumps(manifest)),
            carriers=[c.address for c in carriers],
            warehouse=self.parties["warehouse"].address,
            customs_broker=self.parties["broker"].address,
            consignee=consignee.address if consignee is not None else td.ZERO_ADDRESS,
            sla=td.service_level(**sla),
        )
        nonce = self._nonce("shipments", seller.address)
        deadline = self.now() + DAY
        sig = td.sign_create_shipment(
            seller.key, self.registry.domain(), terms, nonce=nonce, deadline=deadline
        )
        body = {
            "terms": to_json(td.SHIPMENT_TERMS, terms)
            | {"origin": origin, "destination": destination},
            "nonce": nonce,
            "deadline": deadline,
            "signature": to_hex(sig),
            "manifest": manifest,
            "reference": label,
        }
        self._relay("/v1/shipments", body, self.owner[seller.address])
        # The API checks a write against the chain unless an earlier write to the same
        # shipment is in flight; signer nonces span shipments, so wait between them.
        self.settle_relays()
        return sid

    def _milestone(
        self, sid: bytes, kind: M, signer: LocalAccount, at: int, **extra: Any
    ) -> dict[str, Any]:
        return td.milestone(
            shipment_id=sid,
            kind=kind,
            signer=signer.address,
            nonce=self._nonce("shipments", signer.address),
            deadline=self.now() + DAY,
            occurred_at=at,
            **extra,
        )

    def _submit(self, message: dict[str, Any], signature: bytes, acceptance: Any = None) -> None:
        body = {
            "milestone": to_json(td.MILESTONE, message)
            | {"location": td.locode_text(message["location"])},
            "signature": to_hex(signature),
            "acceptance": acceptance,
        }
        sid = to_hex(message["shipmentId"])
        self._relay(f"/v1/shipments/{sid}/milestones", body, self.owner[message["signer"]])

    def _pickup(
        self, sid: bytes, seller: LocalAccount, carrier: LocalAccount, at: int, where: str, kg: int
    ) -> None:
        """PICKED_UP: the seller releases, the carrier countersigns its acceptance."""
        msg = self._milestone(
            sid, M.PICKED_UP, seller, at, location=where,
            measured_weight_grams=kg * 1000, counterparty=carrier.address,
        )  # fmt: skip
        domain = self.registry.domain()
        sig = td.sign_milestone(seller.key, domain, msg)
        nonce = self._nonce("shipments", carrier.address)
        deadline = self.now() + DAY
        acc = td.sign_acceptance(carrier.key, domain, msg, nonce=nonce, deadline=deadline)
        self._submit(msg, sig, {"nonce": nonce, "deadline": deadline, "signature": to_hex(acc)})

    def _record(self, sid: bytes, steps: list[tuple[M, LocalAccount, int, dict[str, Any]]]) -> None:
        """Single-signature milestones, each submitted with its signer's organisation key."""
        domain = self.registry.domain()
        for kind, signer, at, extra in steps:
            msg = self._milestone(sid, kind, signer, at, **extra)
            self._submit(msg, td.sign_milestone(signer.key, domain, msg))

    def _deliver(
        self, sid: bytes, carrier: LocalAccount, consignee: LocalAccount, at: int, where: str
    ) -> None:
        """DELIVERED with the consignee's proof of delivery (accepted), relayed by the API.

        The carrier's organisation submits its signed milestone with the consignee's
        signed receipt (``POST /v1/shipments/{id}/delivery``); waited for until mined.
        """
        msg = self._milestone(
            sid, M.DELIVERED, carrier, at, location=where, counterparty=consignee.address
        )
        nonce, deadline = self._nonce("shipments", consignee.address), self.now() + DAY
        domain = self.registry.domain()
        receipt = td.sign_proof_of_delivery(
            consignee.key,
            domain,
            msg,
            condition=td.DeliveryCondition.ACCEPTED,
            nonce=nonce,
            deadline=deadline,
        )
        body = {
            "milestone": to_json(td.MILESTONE, msg) | {"location": td.locode_text(msg["location"])},
            "signature": to_hex(td.sign_milestone(carrier.key, domain, msg)),
            "receipt": {
                "condition": "accepted",
                "nonce": nonce,
                "deadline": deadline,
                "signature": to_hex(receipt),
            },
        }
        self._relay(f"/v1/shipments/0x{sid.hex()}/delivery", body, self.owner[carrier.address])
        self.settle_relays()

    def shipments(self, now: int) -> tuple[dict[str, bytes], dict[str, str]]:
        hg = self.orgs["hearth-grove"].signer
        p = self.parties
        ocean, broker, warehouse, lastmile = p["ocean"], p["broker"], p["warehouse"], p["lastmile"]
        d = now - 12 * DAY  # the first pickups

        def loc(code: str) -> dict[str, Any]:
            return {"location": code}

        # Creations first: a party can sign for a shipment once it exists on chain.
        ids = {
            "delivered": self._create("HG-2611-001", hg, "VNSGN", "USLAX", weight_kg=480,
                mode="sea", carriers=[ocean], sla={"delivered_by": now - DAY}),
            "customs_released": self._create("HG-2611-002", hg, "VNHPH", "USLGB",
                weight_kg=1950, mode="sea", carriers=[ocean, lastmile],
                sla={"delivered_by": now + 4 * DAY}, sscc=LABEL_SSCC),
            "weight_discrepancy": self._create("HG-2611-003", hg, "VNSGN", "USOAK",
                weight_kg=520, mode="sea", carriers=[ocean], sla={"arrived_by": now + 10 * DAY}),
            "late": self._create("HG-2611-004", hg, "CNNGB", "USLAX", weight_kg=300,
                mode="sea", carriers=[ocean],
                sla={"departed_by": now - 5 * DAY, "arrived_by": now + 6 * DAY}),
            "on_time": self._create("HG-2611-005", hg, "VNSGN", "USLAX", weight_kg=700,
                mode="sea", carriers=[ocean],
                sla={"departed_by": now - DAY, "arrived_by": now + 8 * DAY}),
            # Due within a day once the purchase agreement has moved the chain's clock on.
            "emergency_truck": self._create("HG-2611-006", hg, "USLAX", "USOAK", weight_kg=90,
                mode="road", carriers=[lastmile], sla={"delivered_by": now + 44 * HOUR}),
        }  # fmt: skip
        self.settle_relays()

        # 1. Delivered on time: VNSGN → CNSZX → USLAX → door.
        s = ids["delivered"]
        self._pickup(s, hg, ocean, d, "VNSGN", 480)
        self._record(s, [
            (M.EXPORT_CLEARED, broker, d + 8 * HOUR, loc("VNSGN")),
            (M.DEPARTED, ocean, d + DAY, loc("VNSGN")),
            (M.ARRIVED, ocean, d + 3 * DAY, loc("CNSZX")),
            (M.DEPARTED, ocean, d + 4 * DAY, loc("CNSZX")),
            (M.ARRIVED, ocean, d + 9 * DAY, {"location": "USLAX", "measured_weight_grams": 481_000}),
            (M.IMPORT_CLEARED, broker, d + 9 * DAY + 6 * HOUR, loc("USLAX")),
            (M.OUT_FOR_DELIVERY, ocean, d + 10 * DAY, loc("USLAX")),
            (M.DELIVERED, ocean, d + 10 * DAY + 5 * HOUR, loc("USLAX")),
        ])  # fmt: skip

        self.settle_relays()

        # 2. Held by US customs at Long Beach, released, now in the warehouse.
        s = ids["customs_released"]
        self._pickup(s, hg, ocean, d + DAY, "VNHPH", 1950)
        self._record(s, [
            (M.EXPORT_CLEARED, broker, d + DAY + 6 * HOUR, loc("VNHPH")),
            (M.DEPARTED, ocean, d + 2 * DAY, loc("VNHPH")),
            (M.ARRIVED, ocean, d + 4 * DAY, loc("CNSZX")),
            (M.DEPARTED, ocean, d + 5 * DAY, loc("CNSZX")),
            (M.ARRIVED, ocean, now - 4 * DAY, loc("USLGB")),
            (M.CUSTOMS_HOLD, broker, now - 4 * DAY + 5 * HOUR, {"location": "USLGB", "reason_code": 7}),
            (M.CUSTOMS_RELEASED, broker, now - 2 * DAY, loc("USLGB")),
            (M.WAREHOUSE_INBOUND, warehouse, now - DAY, {"location": "USLGB", "measured_weight_grams": 1_952_000}),
        ])  # fmt: skip

        self.settle_relays()

        # 3. Weight discrepancy: 585 kg weighed at Shenzhen against 520 kg declared (+12.5 %).
        s = ids["weight_discrepancy"]
        self._pickup(s, hg, ocean, now - 5 * DAY, "VNSGN", 520)
        self._record(s, [
            (M.EXPORT_CLEARED, broker, now - 5 * DAY + 5 * HOUR, loc("VNSGN")),
            (M.DEPARTED, ocean, now - 4 * DAY, loc("VNSGN")),
            (M.ARRIVED, ocean, now - 2 * DAY, {"location": "CNSZX", "measured_weight_grams": 585_000}),
        ])  # fmt: skip

        self.settle_relays()

        # 4. Backup factory: left Ningbo a day after its planned departure.
        s = ids["late"]
        self._pickup(s, hg, ocean, now - 7 * DAY, "CNNGB", 300)
        self._record(s, [
            (M.EXPORT_CLEARED, broker, now - 6 * DAY, loc("CNNGB")),
            (M.DEPARTED, ocean, now - 4 * DAY, loc("CNNGB")),
        ])  # fmt: skip

        self.settle_relays()

        # 5. A normal sailing, on time.
        s = ids["on_time"]
        self._pickup(s, hg, ocean, now - 3 * DAY, "VNSGN", 700)
        self._record(s, [
            (M.EXPORT_CLEARED, broker, now - 3 * DAY + 4 * HOUR, loc("VNSGN")),
            (M.DEPARTED, ocean, now - 2 * DAY, loc("VNSGN")),
        ])  # fmt: skip

        self.settle_relays()

        # 6. Emergency source: a truck from the LA workshop to Oakland, due within a day.
        self._pickup(ids["emergency_truck"], hg, lastmile, now - 2 * HOUR, "USLAX", 90)
        self.settle_relays()
        colours = {
            "delivered": "closed",
            "customs_released": "green",
            "weight_discrepancy": "red",
            "late": "yellow",
            "on_time": "green",
            "emergency_truck": "yellow",
        }
        return ids, colours

    # -- passport -------------------------------------------------------------------

    def _issue(self, raw: dict[str, Any]) -> tuple[bytes, PassportContent]:
        """The factory signs one passport document; the service relays it."""
        factory = self.orgs["lang-tre"].signer
        raw["issuer"]["account"] = factory.address
        doc = parse_document(raw)
        figures = key_figures(doc, footprint(doc))
        pid = doc.passport_id
        content = PassportContent(
            document_hash=document_hash(doc),
            uri=f"https://langtre.example/passports{doc.identity.key.path}.json",
            origin_country=figures.origin_country,
            recycled_content_bps=figures.recycled_content_bps,
            carbon_grams_co2e=figures.carbon_grams_co2e,
            water_litres=figures.water_litres,
        )
        message: dict[str, Any] = {
            "issuer": factory.address,
            "passportId": pid,
            "content": content.message(),
            "nonce": self._nonce("passports", factory.address),
            "deadline": self.now() + DAY,
        }
        sig = eip712.sign(factory.key, self.passports.domain(), ISSUE_PASSPORT, message)
        content_json = to_json(PASSPORT_CONTENT, message["content"])
        content_json["originCountry"] = figures.origin_country
        self._relay(
            "/v1/passports",
            {
                "passportId": to_hex(pid),
                "content": content_json,
                "issuer": factory.address,
                "nonce": message["nonce"],
                "deadline": message["deadline"],
                "signature": to_hex(sig),
                "document": doc.to_json_dict(),
            },
            self.orgs["lang-tre"],
        )
        # The API simulates a write against the chain: the next nonce must be mined first.
        self.settle_relays()
        return pid, content

    def passport(self) -> tuple[bytes, str]:
        """The lot passport (FSC-attested) and one serial-level passport within the lot."""
        certifier = self.orgs["control-union"].signer
        raw = json.loads((SAMPLES_DIR / "bamboo_tableware.json").read_text())
        # Transport carbon is not in the document: the product page adds it from the
        # attested DEPARTED → ARRIVED legs of the shipments carrying the lot
        # (HG-2611-002 here), with the measured weight per unit.
        pid, content = self._issue(json.loads(json.dumps(raw)))
        # One numbered set of the lot has a passport of its own (item level): its
        # serial resolves to it, the lot's other serials to the lot passport.
        item = json.loads(json.dumps(raw))
        item["identity"]["serial"] = ITEM_SERIAL
        item["product"]["name"] += f" (numbered set {ITEM_SERIAL})"
        self._issue(item)
        attest = {
            "certifier": certifier.address,
            "passportId": pid,
            "version": 1,
            "documentHash": content.document_hash,
            # The claim names the document's certification it backs (``fsc-coc``).
            "claim": claim_type("fsc-coc"),
            "validUntil": int(datetime(2030, 2, 28, tzinfo=UTC).timestamp()),
            "nonce": self._nonce("passports", certifier.address),
            "deadline": self.now() + DAY,
        }
        sig = eip712.sign(certifier.key, self.passports.domain(), ATTEST, attest)
        body = to_json(ATTEST, attest) | {"signature": to_hex(sig)}
        del body["passportId"]
        self._relay(f"/v1/passports/0x{pid.hex()}/attestations", body, self.orgs["control-union"])
        self.settle_relays()
        return pid, parse_document(raw).identity.key.path

    # -- signed supply events (HTTP API) ------------------------------------------------

    def supply_events(self, passport_id: bytes, now: int) -> list[str]:
        carrier = self.orgs["pacific-bridge"]
        domain = events_domain(self.chain.chain_id, self.deployment.address("AnchorRegistry"))
        scans = [
            (EventKind.SCAN, now - 11 * DAY, "VNHPH"),
            (EventKind.HANDOVER, now - 8 * DAY, "CNSZX"),
            (EventKind.CUSTOMS_CLEARANCE, now - 2 * DAY, "USLGB"),
            (EventKind.WAREHOUSE_MOVE, now - DAY, "USLGB"),
        ]
        items = []
        for kind, at, where in scans:
            event_id = secrets.token_bytes(32)
            payload = keccak(f"{kind.name} {where} {at}".encode())
            msg: dict[str, Any] = {
                "eventId": event_id,
                "subject": passport_id,
                "kind": int(kind),
                "occurredAt": at,
                "location": where.encode().ljust(8, b"\0"),
                "payloadHash": payload,
            }
            sig = eip712.sign(carrier.signer.key, domain, SUPPLY_EVENT, msg)
            items.append(
                {
                    "eventId": to_hex(event_id),
                    "subject": to_hex(passport_id),
                    "kind": int(kind),
                    "occurredAt": at,
                    "location": where,
                    "payloadHash": to_hex(payload),
                    "signature": to_hex(sig),
                }
            )
        result = self._post("/v1/events/batch", {"events": items}, carrier.api_key)
        digests = []
        for item in result["results"]:
            if item.get("status") != "accepted":
                raise RuntimeError(f"supply event rejected: {item}")
            digests.append(item["event"]["digest"])
        return digests

    # -- alliance ------------------------------------------------------------------------

    def _token(self) -> TokenClient:
        # The development deployment settles in the 6-decimal test stablecoin.
        address = self.deployment.settlement_token
        if address is None or DEV_SETTLEMENT_TOKEN not in self.deployment.contracts:
            raise RuntimeError("the demo needs a development deployment with the test stablecoin")
        token = TokenClient(self.chain, address)
        minter = self.chain.contract(DEV_SETTLEMENT_TOKEN, address)
        for slug in ("hearth-grove", "lumen-row", "loom-street"):
            self.chain.transact(minter, "mint", self.orgs[slug].signer.address, 50_000 * USD)
        # The carrier bonds the delivery clause of the purchase agreement.
        self.chain.transact(minter, "mint", self.parties["ocean"].address, 5_000 * USD)
        return token

    def _member(self, slug: str) -> None:
        """Register the organisation's signer as its alliance member address (proof signed)."""
        org = self.orgs[slug]
        text = member_proof_text(org.signer.address, slug)
        sig = org.signer.sign_message(encode_defunct(text=text)).signature
        body = {"address": org.signer.address, "signature": to_hex(sig)}
        self._post("/v1/alliance/members", body, org.admin_key)

    def purchase_agreement(self, token: TokenClient) -> int:
        """Hearth & Grove buys from Lang Tre; the container arrives two started days late.

        The buyer escrows the price and the carrier bonds the delay clause with their own
        keys (``waymark agreement propose`` / ``bond``); the factory accepts off line and the
        service relays its signature. The chain's clock is moved past the promised time,
        the consignee signs the late delivery, and nobody calls ``settle``: the service's
        keeper does, paying the compensation from the bond (:meth:`agreement_settled`).
        """
        hg, factory = self.orgs["hearth-grove"].signer, self.orgs["lang-tre"].signer
        ocean, broker = self.parties["ocean"], self.parties["broker"]
        arbiter = self.orgs["control-union"].signer
        for slug in ("hearth-grove", "lang-tre"):
            self._member(slug)
        agreements = DeliveryAgreementClient(self.chain, self.deployment.address(AGREEMENTS))
        now = self.now()
        terms = AgreementTerms(
            buyer=hg.address,
            seller=factory.address,
            token=token.address,
            price=AGREEMENT_PRICE,
            promised_by=now + HOUR,
            final_deadline=now + 14 * DAY,
            compensation_per_day=AGREEMENT_PER_DAY,
            compensation_cap=4 * AGREEMENT_PER_DAY,
            compensation_from_price=True,
            weight_tolerance_bps=200,
            bonder=ocean.address,
            bond_amount=4 * AGREEMENT_PER_DAY,
            arbiter=arbiter.address,
            dispute_window=2 * DAY,
        )
        agreement_id, _ = agreements.using(self._as(hg)).propose(terms)
        agreements.using(self._as(ocean)).post_bond(agreement_id, terms.bond_amount)
        sid = self._create("LT-PO-2611", factory, "VNHPH", "USLAX", weight_kg=780,
                           mode="sea", carriers=[ocean], consignee=hg, sla={})  # fmt: skip
        deadline = self.now() + HOUR
        msg = agreements.acceptance_message(agreement_id, terms, sid, deadline=deadline)
        body = {
            "shipment_id": to_hex(sid),
            "deadline": deadline,
            "signature": to_hex(agreements.sign_acceptance(factory.key, msg)),
        }
        lang_tre = self.orgs["lang-tre"].api_key
        action = self._post(f"/v1/agreements/{agreement_id}/accept", body, lang_tre)
        self.api.wait(
            f"/v1/alliance/actions/{action['id']}",
            done=("mined", "final"),
            what="agreement acceptance",
            api_key=lang_tre,
        )
        t0 = int(self.chain.block()["timestamp"])
        self._pickup(sid, factory, ocean, t0, "VNHPH", 780)
        self._record(sid, [
            (M.EXPORT_CLEARED, broker, t0, {"location": "VNHPH"}),
            (M.DEPARTED, ocean, t0, {"location": "VNHPH"}),
        ])  # fmt: skip
        self.settle_relays()
        # The sailing takes longer than promised: it reaches the door a day and two hours
        # after the promised time, which is two started days late.
        self.chain.advance_time(
            terms.promised_by + DAY + 2 * HOUR - int(self.chain.block()["timestamp"])
        )
        t1 = int(self.chain.block()["timestamp"])
        self._record(sid, [
            (M.ARRIVED, ocean, t1 - 6 * HOUR, {"location": "USLAX"}),
            (M.IMPORT_CLEARED, broker, t1 - 3 * HOUR, {"location": "USLAX"}),
            (M.OUT_FOR_DELIVERY, ocean, t1 - HOUR, {"location": "USLAX"}),
        ])  # fmt: skip
        self.settle_relays()
        self._deliver(sid, ocean, hg, t1, "USLAX")
        return agreement_id

    def agreement_settled(self, agreement_id: int, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the keeper has settled ``agreement_id``; its public view."""
        path = f"/v1/agreements/{agreement_id}"
        key = self.orgs["hearth-grove"].api_key
        deadline = time.monotonic() + timeout
        while True:
            view = dict(self._get(path, key))
            if view["status"] == "settled" and view["payout"] is not None:
                return view
            if time.monotonic() > deadline:
                raise RuntimeError(f"agreement {agreement_id} not settled by the keeper: {view}")
            time.sleep(0.25)

    def emergency_transfer(self, token: TokenClient) -> tuple[int, bytes, int]:
        """Shenzhen is locked down: Lumen Row lends 200 sets for cash, escrowed until delivery."""
        est = EmergencyStockTransferClient(self.chain, self.deployment.address(STOCK))
        hg, lamps = self.orgs["hearth-grove"].signer, self.orgs["lumen-row"].signer
        for member in (hg, lamps):
            est.grant_member(member.address)
        now = self.now()
        request = StockRequest(GTIN_INT, 200, "USLAX", now + 3 * DAY, Terms.CASH, 12 * USD)
        rid, _ = est.using(self._as(hg)).request(request)
        offer_id, _ = est.using(self._as(lamps)).offer(rid, 11 * USD)
        accepted = est.using(self._as(hg)).accept(rid, offer_id)
        # Lumen Row flies the sets from its Ho Chi Minh City stock straight to Los Angeles,
        # around the closed port, as seller of record, consigned to Hearth & Grove; Hearth &
        # Grove's proof of delivery on chain releases the escrow. Only a shipment created and
        # delivered after the acceptance settles it, so this leg's times start there.
        t0 = int(self.chain.block(accepted.block_number)["timestamp"])
        air, broker = self.parties["air"], self.parties["broker"]
        sid = self._create("LR-TRANSFER-1", lamps, "VNSGN", "USLAX", weight_kg=400,
                           mode="air", carriers=[air], consignee=hg,
                           sla={"delivered_by": now + 2 * DAY})  # fmt: skip
        self.settle_relays()
        est.using(self._as(lamps)).link_shipment(rid, sid)
        self._pickup(sid, lamps, air, t0, "VNSGN", 400)
        self._record(sid, [
            (M.EXPORT_CLEARED, broker, t0, {"location": "VNSGN"}),
            (M.DEPARTED, air, t0, {"location": "VNSGN"}),
            (M.ARRIVED, air, t0, {"location": "USLAX"}),
            (M.IMPORT_CLEARED, broker, t0, {"location": "USLAX"}),
            (M.OUT_FOR_DELIVERY, air, t0, {"location": "USLAX"}),
        ])  # fmt: skip
        self.settle_relays()
        self._deliver(sid, air, hg, int(self.chain.block()["timestamp"]), "USLAX")
        est.release(rid)
        return rid, sid, est.withdrawable(lamps.address)

    def capacity_pool(self, token: TokenClient) -> tuple[int, int, dict[str, dict[str, int]]]:
        """Shared factory capacity: a pre-member-day reallocation, then a settled period."""
        factory = self.orgs["lang-tre"].signer
        members = {s: self.orgs[s].signer for s in ("hearth-grove", "lumen-row", "loom-street")}
        config = PoolConfig(
            token=token.address,
            operator=factory.address,
            lease_per_period=500 * USD,
            rate_per_unit=40 * USD,
            dispute_window=2 * DAY,
            report_window=3 * DAY,
            cancel_penalty_bps=1_000,
        )
        pool_id, _ = self.pool.create_pool(config, [m.address for m in members.values()])
        now = self.now()
        start, end = now + HOUR, now + 3 * HOUR
        period_id, _ = self.pool.using(self._as(factory)).open_period(
            pool_id, start=start, end=end, cutoff=start - 10 * 60, capacity=100
        )
        booked = {"hearth-grove": 50, "lumen-row": 30, "loom-street": 20}
        for slug, acct in members.items():
            member_pool = self.pool.using(self._as(acct))
            member_pool.deposit(pool_id, 10_000 * USD)
            member_pool.book(pool_id, period_id, booked[slug])
        # Before the cut-off, Lumen Row hands 10 units to Hearth & Grove for 450 tUSD.
        hg, lamps = members["hearth-grove"], members["lumen-row"]
        msg = self.pool.booking_transfer_message(
            pool_id, period_id, from_=lamps.address, to=hg.address, units=10,
            price=450 * USD, deadline=now + HOUR,
        )  # fmt: skip
        sig = self.pool.sign_booking_transfer(hg.key, msg)
        self.pool.using(self._as(lamps)).transfer_booking(msg, sig)
        # The member-day run happens; the factory reports usage and every member co-signs.
        # Past the period's end by the chain's clock (the wall clock may be ahead of it).
        self.chain.advance_time(end - int(self.chain.block()["timestamp"]) + 1)
        used = {"hearth-grove": 58, "lumen-row": 17, "loom-street": 20}
        self.pool.using(self._as(factory)).report_usage(
            pool_id, period_id, {members[s].address: u for s, u in used.items()}
        )
        for slug, acct in members.items():
            usage = self.pool.usage_message(
                pool_id, period_id, member=acct.address, used_units=used[slug],
                deadline=self.now() + DAY,
            )  # fmt: skip
            self.pool.cosign_usage(usage, self.pool.sign_usage(acct.key, usage))
        result = self.pool.settle(pool_id, period_id)
        settled = {}
        by_address = {a.address: s for s, a in members.items()}
        for ev in result.events:
            if ev.name == "MemberSettled":
                settled[by_address[ev.args["member"]]] = {
                    k: int(v) for k, v in ev.args.items() if isinstance(v, int)
                }
        return pool_id, period_id, settled

    # -- the whole story -----------------------------------------------------------------

    def webhook(self) -> tuple[int, str]:
        """Subscribe the seller to every event type at ``webhook_url`` (when given)."""
        if self.webhook_url is None:
            return 0, ""
        types = self._get("/v1/webhooks/event-types", self.orgs["hearth-grove"].api_key)
        sub = self._post(
            "/v1/webhooks/subscriptions",
            {
                "url": self.webhook_url,
                "event_types": types["event_types"],
                "description": "seller war room",
            },
            self.orgs["hearth-grove"].api_key,
        )
        return int(sub["id"]), str(sub["secret"])

    def run(self) -> DemoResult:
        self._step("organisations", self.organisations)
        sub_id, secret = self._step("webhook subscription", self.webhook)
        now = self.now()
        shipments, colours = self._step("shipments", lambda: self.shipments(now))
        pid, path = self._step("passport", self.passport)
        digests = self._step("supply events", lambda: self.supply_events(pid, now))
        token = self._step("stablecoin", self._token)
        rid, _sid, withdrawable = self._step(
            "emergency stock transfer", lambda: self.emergency_transfer(token)
        )
        pool_id, period_id, settled = self._step("capacity pool", lambda: self.capacity_pool(token))
        # Last: it moves the chain's clock (which the dashboard reads) on by a day.
        agreement_id = self._step("purchase agreement", lambda: self.purchase_agreement(token))
        agreement = self.agreement_settled(agreement_id)
        return DemoResult(
            orgs=self.orgs,
            shipments={k: to_hex(v) for k, v in shipments.items()},
            expected_colours=colours,
            passport_path=path,
            passport_id=to_hex(pid),
            event_digests=digests,
            pool_id=pool_id,
            period_id=period_id,
            transfer_request_id=rid,
            token=token.address,
            agreement_id=agreement_id,
            agreement=agreement,
            settlement=settled,
            lender_withdrawable=withdrawable,
            timings=self.timings,
            label_sscc=LABEL_SSCC,
            webhook_subscription=sub_id,
            webhook_secret=secret,
        )
