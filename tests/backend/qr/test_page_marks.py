"""Stored pages follow what the indexer records about certifiers and keys, per passport:
an attestation and its revocation, an attestation running out, a signer key revoked in
``OrganisationRegistry``, a reorg that removes a carrying shipment. Each test keeps a second passport's stored page and checks it
was never touched."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.chain import ChainClient, OrganisationRegistryClient
from backend.chain.passports import claim_type
from backend.db.base import utcnow
from backend.gs1.digital_link import DigitalLink
from backend.pages.models import PassportPage
from backend.passports.canonical import document_hash
from tests.backend.factories import Org, make_org
from tests.backend.passports.api_factories import attest_body, revoke_attestation_body
from tests.backend.qr.flow import Flow, make_flow, page_id, plant, stored_page, stored_row
from tests.backend.shipments.factories import post
from tests.context import context, workers

VALID = '<span class="badge badge--valid">Valid</span>'
REVOKED = '<span class="badge badge--revoked">Revoked</span>'


@pytest.fixture
def flow(api: TestClient, tester: ChainClient) -> Flow:
    return make_flow(api, tester)


def _untouched(flow: Flow, link: DigitalLink, before: PassportPage) -> None:
    after = stored_row(flow, link)
    assert (after.generation, after.computed_at, after.etag) == (
        before.generation,
        before.computed_at,
        before.etag,
    )


def _attest(
    flow: Flow, certifier: Org, link: DigitalLink, doc: dict[str, Any], valid_until: int
) -> str:
    body = attest_body(
        flow.passports(),
        certifier.signer,
        bytes.fromhex(page_id(link)[2:]),
        document_hash(doc),
        claim_type("fsc-coc"),
        valid_until=valid_until,
        deadline=flow.svc.now() + 3600,
    )
    aid = str(
        post(flow.svc, f"/v1/passports/{page_id(link)}/attestations", body, certifier)["subject"]
    )
    flow.svc.settle()
    return aid


def test_attestation_and_its_revocation_change_only_that_passports_stored_page(
    flow: Flow,
) -> None:
    link, doc = flow.issue(lot="T1", serial="SN-T1")
    other, _ = flow.issue(lot="T2", serial="SN-T2")
    flow.api.get(link.path)
    flow.api.get(other.path)
    untouched = stored_row(flow, other)
    assert "Attested by" not in stored_page(flow, link)
    certifier = make_org(flow.api, "control-union", ("certifier",))
    aid = _attest(flow, certifier, link, doc, flow.svc.now() + 86_400 * 365)
    assert VALID in stored_page(flow, link)
    assert "Attested by <bdi>Control-Union" in flow.api.get(link.path).text
    _untouched(flow, other, untouched)

    revoke = revoke_attestation_body(
        flow.passports(),
        certifier.signer,
        bytes.fromhex(aid[2:]),
        deadline=flow.svc.now() + 3600,
    )
    post(flow.svc, f"/v1/passports/attestations/{aid}/revoke", revoke, certifier)
    flow.svc.settle()
    assert REVOKED in stored_page(flow, link)
    assert VALID not in stored_page(flow, link)
    assert REVOKED in flow.api.get(link.path).text
    _untouched(flow, other, untouched)


def test_a_stored_page_runs_out_the_day_after_its_attestation_and_is_computed_again(
    flow: Flow,
) -> None:
    link, doc = flow.issue(lot="X1", serial="SN-X1")
    certifier = make_org(flow.api, "control-union", ("certifier",))
    ends = flow.svc.now() + 3600
    _attest(flow, certifier, link, doc, ends)
    flow.api.get(link.path)
    row = stored_row(flow, link)
    day = datetime.fromtimestamp(ends, UTC).date()
    expected = datetime.combine(day + timedelta(days=1), time(), UTC)
    assert row.expires_at is not None
    assert row.expires_at.replace(tzinfo=UTC) == expected
    # The day passes: the stored copy is past its time and must not be sent.
    plant(flow, link, "<p>yesterday's page</p>", expires_at=utcnow())
    page = flow.api.get(link.path).text
    assert "yesterday's page" not in page
    assert "Attested by <bdi>Control-Union" in page
    again = stored_row(flow, link)
    assert again.expires_at is not None
    assert again.expires_at.replace(tzinfo=UTC) == expected  # computed afresh


def test_a_key_revoked_in_the_registry_marks_the_pages_it_signed_for_and_no_other(
    flow: Flow, tester: ChainClient
) -> None:
    carried, _ = flow.issue(lot="K1", serial="SN-K1")
    other, _ = flow.issue(lot="K2", serial="SN-K2")
    flow.ship(bytes.fromhex(page_id(carried)[2:]))  # the carrier's key signs its milestones
    flow.api.get(carried.path)
    flow.api.get(other.path)
    before = stored_row(flow, carried)
    untouched = stored_row(flow, other)
    deployment = context(flow.api).deployment
    assert deployment is not None
    registry = OrganisationRegistryClient(tester, deployment.address("OrganisationRegistry"))
    registry.revoke_key(flow.carrier.signer.address)
    workers(flow.api).indexer.step()
    after = stored_row(flow, carried)
    assert after.generation > before.generation
    assert not after.stale
    assert after.computed_at is not None
    assert before.computed_at is not None
    assert after.computed_at >= before.computed_at
    assert "Signed by" in stored_page(flow, carried)
    _untouched(flow, other, untouched)


def test_a_reorg_that_removes_a_carrying_shipment_changes_its_passports_page_back(
    flow: Flow, tester: ChainClient
) -> None:
    carried, _ = flow.issue(lot="KR1", serial="SN-KR1")
    other, _ = flow.issue(lot="KR2", serial="SN-KR2")
    flow.api.get(carried.path)
    flow.api.get(other.path)
    untouched = stored_row(flow, other)
    snap = tester.snapshot()
    flow.ship(bytes.fromhex(page_id(carried)[2:]))
    assert "Export customs cleared" in stored_page(flow, carried)
    # Another fork wins: the shipment's blocks disappear and the chain grows past them.
    tester.revert(snap)
    tester.mine(3)
    workers(flow.api).indexer.step()
    assert "Export customs cleared" not in stored_page(flow, carried)
    assert "Export customs cleared" not in flow.api.get(carried.path).text
    _untouched(flow, other, untouched)
