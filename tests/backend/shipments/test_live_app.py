"""The app indexes shipments and passports out of the box: worker and indexer threads running."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from backend.chain import ChainClient
from backend.chain.passports import PassportRegistryClient
from backend.main import create_app
from tests.backend.conftest import api_settings
from tests.backend.factories import SAMPLE_PREFIX, make_org
from tests.backend.passports.api_factories import issue_body, sample_document
from tests.backend.shipments.factories import Service, create_body, post
from tests.conftest import deployment_for
from tests.context import context


def _eventually(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_running_app_relays_and_indexes_shipments_and_passports(
    db_url: str, db_engine: Engine, tester: ChainClient
) -> None:
    settings = api_settings(
        db_url,
        anchor_worker_enabled=True,
        indexer_enabled=True,
        anchor_interval_seconds=0.05,
        indexer_interval_seconds=0.05,
    )
    app = create_app(settings, tester, deployment=deployment_for(tester))
    with TestClient(app) as api:
        svc = Service(api, tester)
        seller = make_org(api, "seller", ("seller",), prefixes=(SAMPLE_PREFIX,))
        body = create_body(svc, seller.signer, ["0x" + "42" * 20])
        sid = body["terms"]["shipmentId"]
        post(svc, "/v1/shipments", body, seller)
        reg = PassportRegistryClient(
            tester, context(app).loaded().deployment.address("ProductPassportRegistry")
        )
        issue = issue_body(reg, seller.signer, sample_document(), deadline=svc.now() + 3600)
        post(svc, "/v1/passports", issue, seller)

        def indexed() -> bool:
            shipment = api.get(f"/v1/shipments/{sid}", headers=seller.writer)
            passport = api.get(f"/v1/passports/{issue['passportId']}")
            return shipment.status_code == 200 and passport.status_code == 200

        _eventually(indexed)
        assert api.get(f"/v1/shipments/{sid}", headers=seller.writer).json()["status"] == "created"
        view = api.get(f"/v1/passports/{issue['passportId']}").json()
        assert view["versions"][0]["document_hash"] == issue["content"]["documentHash"]
        assert view["id"] == issue["passportId"]
