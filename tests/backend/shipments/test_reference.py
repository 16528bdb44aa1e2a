"""The seller's own reference (PO / booking number): set at creation, shown, searchable."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.chain.typed_data.shipments import MilestoneType as M
from tests.backend.factories import make_org
from tests.backend.shipments.factories import (
    Parties,
    Service,
    create_body,
    milestone_body,
    post,
)


@pytest.fixture
def parties(api: TestClient) -> Parties:
    return Parties(
        seller=make_org(api, "seller", ("seller",)),
        carrier=make_org(api, "carrier", ("carrier",)),
        broker=make_org(api, "broker", ("supplier",)),
        other=make_org(api, "other", ("seller", "carrier")),
    )


def _create(svc: Service, p: Parties, reference: str | None) -> str:
    body = create_body(svc, p.seller.signer, [p.carrier.signer.address])
    if reference is not None:
        body["reference"] = reference
    post(svc, "/v1/shipments", body, p.seller)
    svc.settle()
    return str(body["terms"]["shipmentId"])


def _ids(svc: Service, p: Parties, query: str, who: str = "seller") -> list[str]:
    org = getattr(p, who)
    resp = svc.api.get(f"/v1/shipments{query}", headers=org.writer)
    assert resp.status_code == 200, resp.text
    return [s["id"] for s in resp.json()["items"]]


def test_reference_set_at_creation_is_shown_in_list_and_detail(
    svc: Service, parties: Parties
) -> None:
    p = parties
    sid = _create(svc, p, "  PO 4711 / booking MSK-88  ")
    plain = _create(svc, p, None)
    detail = svc.api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert detail["reference"] == "PO 4711 / booking MSK-88"  # trimmed, otherwise as typed
    listed = {s["id"]: s["reference"] for s in svc.api.get(
        "/v1/shipments", headers=p.seller.writer
    ).json()["items"]}  # fmt: skip
    assert listed == {sid: "PO 4711 / booking MSK-88", plain: None}
    # A party to the shipment (the carrier) sees it next to the id too.
    body = milestone_body(svc, sid, M.PICKED_UP, p.seller.signer, receiver=p.carrier.signer)
    post(svc, f"/v1/shipments/{sid}/milestones", body, p.seller)
    svc.settle()
    assert (
        svc.api.get(f"/v1/shipments/{sid}", headers=p.carrier.writer).json()["reference"]
        == "PO 4711 / booking MSK-88"
    )


def test_search_by_reference_is_a_case_insensitive_substring_with_literal_wildcards(
    svc: Service, parties: Parties
) -> None:
    p = parties
    a = _create(svc, p, "HG-2611-001")
    b = _create(svc, p, "HG-2611-002")
    c = _create(svc, p, "100%_cotton")
    assert _ids(svc, p, "?reference=hg-2611") == sorted([a, b])
    assert _ids(svc, p, "?reference=2611-002") == [b]
    assert _ids(svc, p, "?reference=%25") == [c]  # "%" is a character, not "anything"
    assert _ids(svc, p, "?reference=_") == [c]
    assert _ids(svc, p, "?reference=HG-2612") == []
    assert _ids(svc, p, "?reference=HG&limit=1") == [min(a, b)]


def test_another_organisation_cannot_find_a_shipment_by_its_reference(
    svc: Service, parties: Parties
) -> None:
    p = parties
    _create(svc, p, "SECRET-PO-9")
    assert _ids(svc, p, "?reference=SECRET", who="other") == []


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("PO\u202e1234", "bidirectional control character U+202E"),
        ("PO\x001234", "control character U+0000"),
        ("x" * 65, "at most 64 characters"),
        ("   ", "at least 1 character"),
    ],
)
def test_hostile_reference_is_422_naming_the_reason(
    svc: Service, parties: Parties, reference: str, reason: str
) -> None:
    p = parties
    body = create_body(svc, p.seller.signer, [p.carrier.signer.address])
    body["reference"] = reference
    resp = svc.api.post("/v1/shipments", json=body, headers=p.seller.writer)
    assert resp.status_code == 422, resp.text
    assert reason in resp.text
    too_long = svc.api.get("/v1/shipments?reference=" + "x" * 65, headers=p.seller.writer)
    assert too_long.status_code == 422


def test_search_text_with_a_nul_or_bidi_control_is_422_not_a_database_error(
    svc: Service, parties: Parties
) -> None:
    for bad in ("%00", "%E2%80%AE"):
        resp = svc.api.get(f"/v1/shipments?reference=PO{bad}1", headers=parties.seller.writer)
        assert resp.status_code == 422, resp.text
        assert "character" in resp.json()["detail"] or "character" in resp.text
