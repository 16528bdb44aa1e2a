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
  sets from its Ho Chi Minh City stock, flown around the port, for cash, escrowed until the delivery is on chain.

Organisations, keys, signer keys and signed supply events go through the HTTP
API; milestones, passports and alliance transactions are signed by each party's
own key and relayed by the service's relayer account, as in production.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

from backend.chain import ChainClient, eip712
from backend.chain.alliance import (
    CapacityPoolClient,
    EmergencyStockTransferClient,
    PoolConfig,
    StockRequest,
    Terms,
    TokenClient,
)
from backend.chain.deployments import ContractRecord, Deployment
from backend.chain.passports import AttestationRequest, PassportContent, PassportRegistryClient
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.events import SUPPLY_EVENT, EventKind, events_domain
from backend.chain.typed_data.passports import ATTEST, ISSUE_PASSPORT
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.passports.canonical import document_hash
from backend.passports.carbon import TransportLeg, footprint, leg_step
from backend.passports.schemas import parse_document
from backend.passports.summary import key_figures

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "passports" / "samples"
HOUR = 3_600
DAY = 86_400
USD = 10**6  # TestStablecoin has 6 decimals
GTIN = "08936045870013"
LOT = "TH2611-07"
GTIN_INT = int(GTIN)
SUPPLIER_MATRIX = {"Lang Tre Homeware (Vietnam)": 70, "Ningbo backup (Zhejiang)": 20,
                   "LA emergency workshop": 10}  # fmt: skip


T = TypeVar("T")


class HttpClient(Protocol):
    """What the scenario needs from an HTTP client (httpx.Client or a TestClient)."""

    def post(self, url: str, **kwargs: Any) -> Any: ...


@dataclass
class Org:
    slug: str
    name: str
    api_key: str
    signer: LocalAccount


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
    settlement: dict[str, dict[str, int]] = field(default_factory=dict)
    lender_withdrawable: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seller_key(self) -> str:
        return self.orgs["hearth-grove"].api_key


class Scenario:
    """Runs the story once against one API and one chain (the service's own)."""

    def __init__(
        self,
        *,
        http: HttpClient,
        chain: ChainClient,
        deployment: Deployment,
        admin_token: str,
        log: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.http = http
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
        self.timings: dict[str, float] = {}

    # -- plumbing -------------------------------------------------------------------

    def _post(self, path: str, body: Any, key: str) -> Any:
        response = self.http.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
        if response.status_code >= 400:
            raise RuntimeError(f"POST {path} failed: {response.status_code} {response.text}")
        return response.json()

    def now(self) -> int:
        self.chain.mine()
        return int(self.chain.block()["timestamp"])

    def _account(self, label: str) -> LocalAccount:
        acct: LocalAccount = Account.create()
        self.chain.send_value(acct.address, 10**17)
        self.parties[label] = acct
        return acct

    def _as(self, acct: LocalAccount) -> ChainClient:
        return self.chain.with_account(acct)

    def _step(self, name: str, fn: Callable[[], T]) -> T:
        started = time.perf_counter()
        self.log(f"seeding: {name}")
        result = fn()
        self.timings[name] = round(time.perf_counter() - started, 2)
        return result

    # -- organisations (HTTP API) --------------------------------------------------

    def create_org(self, slug: str, name: str, scopes: list[str]) -> Org:
        created = self._post("/v1/orgs", {"slug": slug, "name": name}, self.admin_token)
        admin_key = created["admin_key"]["key"]
        signer = self._account(slug)
        valid_from = datetime.now(UTC) - timedelta(days=60)
        self._post(
            f"/v1/orgs/{slug}/signers",
            {
                "address": signer.address,
                "label": f"{name} signer",
                "valid_from": valid_from.isoformat(),
            },
            admin_key,
        )
        issued = self._post(
            f"/v1/orgs/{slug}/api-keys", {"scopes": scopes, "label": "demo"}, admin_key
        )
        org = Org(slug, name, issued["key"], signer)
        self.orgs[slug] = org
        return org

    def organisations(self) -> None:
        self.create_org("hearth-grove", "Hearth & Grove Home", ["seller"])
        self.create_org("lumen-row", "Lumen Row Lighting", ["seller"])
        self.create_org("loom-street", "Loom Street Textiles", ["seller"])
        self.create_org("lang-tre", "Lang Tre Homeware JSC", ["supplier"])
        self.create_org("pacific-bridge", "Pacific Bridge Logistics", ["carrier"])
        self.create_org("control-union", "Control Union Certifications", ["certifier"])
        for label in ("ningbo", "la-workshop", "lastmile", "broker", "warehouse"):
            self._account(label)

    # -- shipments (signed by each party, relayed) -----------------------------------

    def _create(
        self,
        label: str,
        seller: LocalAccount,
        origin: str,
        destination: str,
        *,
        weight_kg: int,
        supplier: str,
        sla: dict[str, int],
        carriers: list[LocalAccount],
        tolerance_bps: int = 200,
    ) -> bytes:
        sid = keccak(f"waymark-demo/{label}/{secrets.token_hex(8)}".encode())
        manifest = json.dumps(
            {"po": label, "supplier": supplier, "gtin": GTIN, "lot": LOT}, sort_keys=True
        ).encode()
        terms = td.shipment_terms(
            shipment_id=sid,
            seller=seller.address,
            origin=origin,
            destination=destination,
            declared_weight_grams=weight_kg * 1000,
            piece_count=weight_kg // 20,
            weight_tolerance_bps=tolerance_bps,
            manifest_hash=keccak(manifest),
            carriers=[c.address for c in carriers],
            warehouse=self.parties["warehouse"].address,
            customs_broker=self.parties["broker"].address,
            sla=td.service_level(**sla),
        )
        nonce = self.registry.nonce(seller.address)
        deadline = self.now() + HOUR
        sig = td.sign_create_shipment(
            seller.key, self.registry.domain(), terms, nonce=nonce, deadline=deadline
        )
        self.registry.create_shipment_by_sig(terms, nonce=nonce, deadline=deadline, signature=sig)
        return sid

    def _signed(
        self, sid: bytes, kind: M, signer: LocalAccount, at: int, nonce: int, **extra: Any
    ) -> tuple[dict[str, Any], bytes]:
        msg = td.milestone(
            shipment_id=sid,
            kind=kind,
            signer=signer.address,
            nonce=nonce,
            deadline=self.now() + DAY,
            occurred_at=at,
            **extra,
        )
        return msg, td.sign_milestone(signer.key, self.registry.domain(), msg)

    def _pickup(
        self, sid: bytes, seller: LocalAccount, carrier: LocalAccount, at: int, where: str, kg: int
    ) -> None:
        msg, sig = self._signed(
            sid,
            M.PICKED_UP,
            seller,
            at,
            self.registry.nonce(seller.address),
            location=where,
            measured_weight_grams=kg * 1000,
            counterparty=carrier.address,
        )
        nonce = self.registry.nonce(carrier.address)
        deadline = self.now() + DAY
        acc = td.sign_acceptance(
            carrier.key, self.registry.domain(), msg, nonce=nonce, deadline=deadline
        )
        self.registry.record_custody_transfer(
            msg, sig, acceptance_nonce=nonce, acceptance_deadline=deadline, acceptance_signature=acc
        )

    def _record(self, sid: bytes, steps: list[tuple[M, LocalAccount, int, dict[str, Any]]]) -> None:
        """Relay single-signature milestones in one transaction (nonces per signer)."""
        nonces: dict[str, int] = {}
        batch = []
        for kind, signer, at, extra in steps:
            n = nonces.get(signer.address, self.registry.nonce(signer.address))
            nonces[signer.address] = n + 1
            batch.append(self._signed(sid, kind, signer, at, n, **extra))
        self.registry.record_milestones(batch)

    def shipments(self, now: int) -> tuple[dict[str, bytes], dict[str, str]]:
        hg = self.orgs["hearth-grove"].signer
        ocean = self.orgs["pacific-bridge"].signer
        p = self.parties
        broker, warehouse, lastmile = p["broker"], p["warehouse"], p["lastmile"]
        d = now - 12 * DAY  # the first pickups
        out: dict[str, bytes] = {}
        colours: dict[str, str] = {}

        def loc(code: str) -> dict[str, Any]:
            return {"location": code}

        # 1. Delivered on time: VNSGN → CNSZX → USLAX → door.
        s = self._create("HG-2611-001", hg, "VNSGN", "USLAX", weight_kg=480,
                         supplier="Lang Tre Homeware", carriers=[ocean],
                         sla={"delivered_by": now - DAY})  # fmt: skip
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
        out["delivered"], colours["delivered"] = s, "closed"

        # 2. Customs hold at Long Beach, released, now in the warehouse: VNHPH → CNSZX → USLGB.
        s = self._create("HG-2611-002", hg, "VNHPH", "USLGB", weight_kg=1950,
                         supplier="Lang Tre Homeware", carriers=[ocean, lastmile],
                         sla={"delivered_by": now + 4 * DAY})  # fmt: skip
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
        out["customs_released"], colours["customs_released"] = s, "green"

        # 3. Weight discrepancy: 585 kg weighed at Shenzhen against 520 kg declared (+12.5 %).
        s = self._create("HG-2611-003", hg, "VNSGN", "USOAK", weight_kg=520,
                         supplier="Lang Tre Homeware", carriers=[ocean],
                         sla={"arrived_by": now + 10 * DAY})  # fmt: skip
        self._pickup(s, hg, ocean, now - 5 * DAY, "VNSGN", 520)
        self._record(s, [
            (M.EXPORT_CLEARED, broker, now - 5 * DAY + 5 * HOUR, loc("VNSGN")),
            (M.DEPARTED, ocean, now - 4 * DAY, loc("VNSGN")),
            (M.ARRIVED, ocean, now - 2 * DAY, {"location": "CNSZX", "measured_weight_grams": 585_000}),
        ])  # fmt: skip
        out["weight_discrepancy"], colours["weight_discrepancy"] = s, "red"

        # 4. Backup factory: left Ningbo a day after its planned departure.
        s = self._create("HG-2611-004", hg, "CNNGB", "USLAX", weight_kg=300,
                         supplier="Ningbo backup", carriers=[ocean],
                         sla={"departed_by": now - 5 * DAY, "arrived_by": now + 6 * DAY})  # fmt: skip
        self._pickup(s, hg, ocean, now - 7 * DAY, "CNNGB", 300)
        self._record(s, [
            (M.EXPORT_CLEARED, broker, now - 6 * DAY, loc("CNNGB")),
            (M.DEPARTED, ocean, now - 4 * DAY, loc("CNNGB")),
        ])  # fmt: skip
        out["late"], colours["late"] = s, "yellow"

        # 5. A normal sailing, on time.
        s = self._create("HG-2611-005", hg, "VNSGN", "USLAX", weight_kg=700,
                         supplier="Lang Tre Homeware", carriers=[ocean],
                         sla={"departed_by": now - DAY, "arrived_by": now + 8 * DAY})  # fmt: skip
        self._pickup(s, hg, ocean, now - 3 * DAY, "VNSGN", 700)
        self._record(s, [
            (M.EXPORT_CLEARED, broker, now - 3 * DAY + 4 * HOUR, loc("VNSGN")),
            (M.DEPARTED, ocean, now - 2 * DAY, loc("VNSGN")),
        ])  # fmt: skip
        out["on_time"], colours["on_time"] = s, "green"

        # 6. Emergency source: a truck from the LA workshop to Oakland, due within a day.
        s = self._create("HG-2611-006", hg, "USLAX", "USOAK", weight_kg=90,
                         supplier="LA emergency workshop", carriers=[lastmile],
                         sla={"delivered_by": now + 20 * HOUR})  # fmt: skip
        self._pickup(s, hg, lastmile, now - 2 * HOUR, "USLAX", 90)
        out["emergency_truck"], colours["emergency_truck"] = s, "yellow"
        return out, colours

    # -- passport -------------------------------------------------------------------

    def passport(self, shipment: bytes) -> tuple[bytes, str]:
        factory = self.orgs["lang-tre"].signer
        certifier = self.orgs["control-union"].signer
        self.passports.grant_issuer(factory.address)
        self.passports.grant_certifier(certifier.address)
        raw = json.loads((SAMPLES_DIR / "bamboo_tableware.json").read_text())
        raw["issuer"]["account"] = factory.address
        # Transport carbon from the legs the lot actually sailed (shipment HG-2611-002).
        for origin, destination in (("VNHPH", "CNSZX"), ("CNSZX", "USLGB")):
            step = leg_step(
                TransportLeg(
                    mode="sea",
                    mass=1.95,
                    origin=origin,
                    destination=destination,
                    source=f"shipment 0x{shipment.hex()} DEPARTED {origin} / ARRIVED {destination}",
                )
            )
            raw["carbon"]["distribution"].append(
                {
                    "description": f"Sea freight {origin}→{destination} (1.95 kg packed, "
                    f"{step.inputs[-1].amount:.0f} km great circle)",
                    "activity": {"amount": round(step.activity, 6), "unit": "tkm"},
                    "factor": {"value": step.factor, "unit": "gCO2e/tkm"},
                    "source": f"{step.source}; {step.evidence}",
                }
            )
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
        deadline = self.now() + DAY
        message = self.passports.issue_message(pid, content, factory.address, deadline)
        sig = eip712.sign(factory.key, self.passports.domain(), ISSUE_PASSPORT, message)
        self.passports.issue_signed(pid, content, factory.address, deadline, sig)
        request = AttestationRequest(
            passport_id=pid,
            version=1,
            document_hash=content.document_hash,
            claim=keccak(b"fsc-chain-of-custody"),
            valid_until=int(datetime(2030, 2, 28, tzinfo=UTC).timestamp()),
        )
        attest = self.passports.attest_message(request, certifier.address, deadline)
        sig = eip712.sign(certifier.key, self.passports.domain(), ATTEST, attest)
        self.passports.attest_signed(request, certifier.address, deadline, sig)
        return pid, doc.identity.key.path

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
                    "eventId": "0x" + event_id.hex(),
                    "subject": "0x" + passport_id.hex(),
                    "kind": int(kind),
                    "occurredAt": at,
                    "location": where,
                    "payloadHash": "0x" + payload.hex(),
                    "signature": "0x" + sig.hex(),
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
        deployed = self.chain.deploy("TestStablecoin")
        token = TokenClient(self.chain, deployed.address)
        minter = self.chain.contract("TestStablecoin", deployed.address)
        for slug in ("hearth-grove", "lumen-row", "loom-street"):
            self.chain.transact(minter, "mint", self.orgs[slug].signer.address, 50_000 * USD)
        return token

    def emergency_transfer(self, token: TokenClient) -> tuple[int, bytes, int]:
        """Shenzhen is locked down: Lumen Row lends 200 sets for cash, escrowed until delivery."""
        if "EmergencyStockTransfer" in self.deployment.contracts:
            address = self.deployment.address("EmergencyStockTransfer")
        else:
            # Not in this deployment's plan (it needs a settlement token): deploy it
            # against the demo stablecoin and add it to the manifest the service reads.
            deployed = self.chain.deploy(
                "EmergencyStockTransfer",
                self.chain.address,
                token.address,
                self.registry.address,
                2 * DAY,
            )
            address = deployed.address
            self.deployment.contracts["EmergencyStockTransfer"] = ContractRecord(
                address=address,
                abi_hash=deployed.artifact.abi_hash,
                version="1.0.0",
                deploy_block=int(deployed.block_number or 0),
                tx_hash=str(deployed.tx_hash),
            )
        est = EmergencyStockTransferClient(self.chain, address)
        hg, lamps = self.orgs["hearth-grove"].signer, self.orgs["lumen-row"].signer
        for member in (hg, lamps):
            est.grant_member(member.address)
        now = self.now()
        request = StockRequest(GTIN_INT, 200, "USLAX", now + 3 * DAY, Terms.CASH, 12 * USD)
        rid, _ = est.using(self._as(hg)).request(request)
        offer_id, _ = est.using(self._as(lamps)).offer(rid, 11 * USD)
        est.using(self._as(hg)).accept(rid, offer_id)
        # Lumen Row flies the sets from its Ho Chi Minh City stock straight to Los Angeles,
        # around the closed port, as seller of record; the delivery on chain releases
        # the escrow.
        air, broker = self.parties["lastmile"], self.parties["broker"]
        sid = self._create("LR-TRANSFER-1", lamps, "VNSGN", "USLAX", weight_kg=400,
                           supplier="Lumen Row bonded stock", carriers=[air],
                           sla={"delivered_by": now + 2 * DAY})  # fmt: skip
        est.using(self._as(lamps)).link_shipment(rid, sid)
        self._pickup(sid, lamps, air, now - 30 * HOUR, "VNSGN", 400)
        self._record(sid, [
            (M.EXPORT_CLEARED, broker, now - 28 * HOUR, {"location": "VNSGN"}),
            (M.DEPARTED, air, now - 24 * HOUR, {"location": "VNSGN"}),
            (M.ARRIVED, air, now - 10 * HOUR, {"location": "USLAX"}),
            (M.IMPORT_CLEARED, broker, now - 7 * HOUR, {"location": "USLAX"}),
            (M.OUT_FOR_DELIVERY, air, now - 5 * HOUR, {"location": "USLAX"}),
            (M.DELIVERED, air, now - HOUR, {"location": "USLAX"}),
        ])  # fmt: skip
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
        self.chain.advance_time(end - self.now() + 1)
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

    def run(self) -> DemoResult:
        self._step("organisations", self.organisations)
        now = self.now()
        shipments, colours = self._step("shipments", lambda: self.shipments(now))
        pid, path = self._step("passport", lambda: self.passport(shipments["customs_released"]))
        digests = self._step("supply events", lambda: self.supply_events(pid, now))
        token = self._step("stablecoin", self._token)
        rid, _sid, withdrawable = self._step(
            "emergency stock transfer", lambda: self.emergency_transfer(token)
        )
        pool_id, period_id, settled = self._step("capacity pool", lambda: self.capacity_pool(token))
        return DemoResult(
            orgs=self.orgs,
            shipments={k: "0x" + v.hex() for k, v in shipments.items()},
            expected_colours=colours,
            passport_path=path,
            passport_id="0x" + pid.hex(),
            event_digests=digests,
            pool_id=pool_id,
            period_id=period_id,
            transfer_request_id=rid,
            token=token.address,
            settlement=settled,
            lender_withdrawable=withdrawable,
            timings=self.timings,
        )
