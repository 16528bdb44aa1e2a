"""Data for resolver tests, created through the API: passport, shipment, milestones, events."""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from backend.chain import ChainClient
from backend.chain.passports import PassportContent, PassportRegistryClient
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.gs1.digital_link import DigitalLink
from backend.gs1.keys import passport_id
from backend.pages import store
from backend.pages.models import PassportPage
from backend.passports.canonical import document_hash
from backend.paths import PROJECT_ROOT
from tests.backend.factories import SAMPLE_PREFIX, Org, domain_of, make_org, signed_event
from tests.backend.shipments.factories import Service, create_body, milestone_body, post
from tests.context import context, workers

SAMPLE = PROJECT_ROOT / "backend" / "passports" / "samples" / "bamboo_tableware.json"
HOUR = 3600


@dataclass
class Flow:
    svc: Service
    seller: Org
    carrier: Org
    broker: Org

    @property
    def api(self) -> TestClient:
        return self.svc.api

    @property
    def chain(self) -> ChainClient:
        return self.svc.chain

    def passports(self) -> PassportRegistryClient:
        return PassportRegistryClient(
            self.chain, context(self.api).loaded().deployment.address("ProductPassportRegistry")
        )

    def issue(
        self, *, lot: str | None = None, serial: str | None = None, name: str | None = None
    ) -> tuple[DigitalLink, dict[str, Any]]:
        """Issue the sample passport (re-keyed to ``lot``/``serial``) through the API."""
        doc = sample_document(lot=lot, serial=serial, name=name)
        ident = doc["identity"]
        pid = passport_id(ident["gtin"], ident.get("lot"), ident.get("serial"))
        registry = self.passports()
        content = PassportContent(
            document_hash(doc), "https://brand.example/p.json", "VN", 1250, 5213, 555
        )
        signer = self.seller.signer
        deadline = self.svc.now() + HOUR
        nonce = registry.nonce(signer.address)
        sig = registry.sign_issue(signer.key, pid, content, signer.address, deadline)
        body = {
            "passportId": "0x" + pid.hex(),
            "content": {
                "documentHash": "0x" + content.document_hash.hex(),
                "uri": content.uri,
                "originCountry": content.origin_country,
                "recycledContentBps": content.recycled_content_bps,
                "carbonGramsCO2e": content.carbon_grams_co2e,
                "waterLitres": content.water_litres,
            },
            "issuer": signer.address,
            "nonce": nonce,
            "deadline": deadline,
            "signature": "0x" + sig.hex(),
            "document": doc,
        }
        post(self.svc, "/v1/passports", body, self.seller)
        self.svc.settle()
        link = DigitalLink(ident["gtin"].zfill(14), ident.get("lot"), ident.get("serial"))
        return link, doc

    def recall(self, pid: bytes, reason: str) -> None:
        registry = self.passports()
        signer = self.seller.signer
        deadline = self.svc.now() + HOUR
        nonce = registry.nonce(signer.address)
        sig = registry.sign_recall(signer.key, pid, 2, reason, signer.address, deadline)
        body = {
            "reasonCode": 2,
            "reason": reason,
            "issuer": signer.address,
            "nonce": nonce,
            "deadline": deadline,
            "signature": "0x" + sig.hex(),
        }
        post(self.svc, f"/v1/passports/0x{pid.hex()}/recall", body, self.seller)
        self.svc.settle()

    def ship(self, pid: bytes, *, hold: bool = False) -> str:
        """A sea shipment VNSGN → USLAX carrying ``pid``, with its milestones recorded."""
        s, p = self.svc, self
        body = create_body(
            s,
            p.seller.signer,
            [p.carrier.signer.address],
            passports=[pid],
            customs_broker=p.broker.signer.address,
        )
        post(s, "/v1/shipments", body, p.seller)
        s.settle()
        sid = str(body["terms"]["shipmentId"])
        steps: list[tuple[M, Org, dict[str, Any]]] = [
            (M.PICKED_UP, p.seller, {"receiver": p.carrier.signer}),
            (M.EXPORT_CLEARED, p.broker, {}),
            (M.DEPARTED, p.carrier, {"measured_weight_grams": 120_000}),
            (M.ARRIVED, p.carrier, {"location": "USLAX"}),
        ]
        if hold:
            steps.append((M.CUSTOMS_HOLD, p.broker, {"location": "USLAX", "reason_code": 7}))
            steps.append((M.CUSTOMS_RELEASED, p.broker, {"location": "USLAX"}))
        else:
            steps.append((M.IMPORT_CLEARED, p.broker, {"location": "USLAX"}))
        for kind, org, extra in steps:
            milestone = milestone_body(s, sid, kind, org.signer, **extra)
            post(s, f"/v1/shipments/{sid}/milestones", milestone, org)
            s.settle()
        return sid

    def sign_events(
        self, pid: bytes, count: int = 2, by: Org | None = None
    ) -> list[dict[str, Any]]:
        """Supply events about the passport, posted and left pending (not anchored).

        Signed by the issuer unless ``by`` names another organisation (which must
        speak for the passport: a party to a shipment carrying it, or a delegate).
        """
        org = by or self.seller
        bodies = []
        for kind in range(count):
            body = signed_event(
                domain_of(self.api), org.signer, kind=kind, location="USLAX", subject=pid
            )
            resp = self.api.post("/v1/events", json=body, headers=org.writer)
            assert resp.status_code == 202, resp.text
            bodies.append(body)
        return bodies

    def anchor(self) -> None:
        workers(self.api).anchor.run_until_idle()
        workers(self.api).indexer.step()


def sample_document(
    *, lot: str | None = None, serial: str | None = None, name: str | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(json.loads(SAMPLE.read_text()))
    ident = doc["identity"]
    ident.pop("lot", None)
    ident.pop("serial", None)
    if lot is not None:
        ident["lot"] = lot
    if serial is not None:
        ident["serial"] = serial
    if name is not None:
        doc["product"]["name"] = name
    return doc


def make_flow(api: TestClient, chain: ChainClient) -> Flow:
    tag = secrets.token_hex(3)
    return Flow(
        Service(api, chain),
        seller=make_org(api, f"seller-{tag}", ("seller",), prefixes=(SAMPLE_PREFIX,)),
        carrier=make_org(api, f"carrier-{tag}", ("carrier",)),
        broker=make_org(api, f"broker-{tag}", ("supplier",)),
    )


def page_id(link: DigitalLink) -> str:
    """The key of a link's stored page: its passport id."""
    return "0x" + passport_id(link.gtin, link.lot, link.serial).hex()


def stored_row(flow: Flow, link: DigitalLink) -> PassportPage:
    with context(flow.api).sessions() as session:
        row = session.get(PassportPage, page_id(link))
        assert row is not None
        session.expunge(row)
        return row


def plant(flow: Flow, link: DigitalLink, html: str, **values: object) -> None:
    """Store ``html`` as the link's page, then set ``values`` on its row: a copy that
    must not be sent."""
    pid = page_id(link)
    with context(flow.api).sessions() as session:
        store.save(
            session,
            passport_id=pid,
            generation=store.generation(session, pid),
            path=link.path,
            page=store.pack(html.encode(), passport_id=pid),
            expires_at=None,
        )
        session.execute(
            update(PassportPage).where(PassportPage.passport_id == pid).values(**values)
        )
        session.commit()


def stored_page(flow: Flow, link: DigitalLink) -> str:
    """The page as stored (not as a scan computes it): what the next scan sends."""
    with context(flow.api).sessions() as session:
        page = store.stored(session, page_id(link))
    assert page is not None
    return page.html().decode()
