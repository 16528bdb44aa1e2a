"""Signed supply event ingestion: verification, idempotency, batch results."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.chain import eip712
from backend.chain.eip712 import Domain
from backend.chain.typed_data.events import (
    SUPPLY_EVENT,
    hash_supply_event,
    location_bytes,
)
from backend.events.models import Outbox, SupplyEvent
from backend.events.schemas import BatchResult
from tests.backend.factories import domain_of, make_org, signed_event
from tests.context import context


def _count(api: TestClient, model: type) -> int:
    with context(api).sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_fast_struct_hash_equals_generic_eip712_encoding() -> None:
    msg = {
        "eventId": secrets.token_bytes(32),
        "subject": secrets.token_bytes(32),
        "kind": 4,
        "occurredAt": 2**64 - 1,
        "location": location_bytes("CNSHA"),
        "payloadHash": secrets.token_bytes(32),
    }
    fast = hash_supply_event(
        msg["eventId"], msg["subject"], 4, 2**64 - 1, msg["location"], msg["payloadHash"]
    )
    assert fast == SUPPLY_EVENT.hash_struct(msg)
    assert SUPPLY_EVENT.type_string == (
        "SupplyEvent(bytes32 eventId,bytes32 subject,uint8 kind,uint64 occurredAt,"
        "bytes8 location,bytes32 payloadHash)"
    )


def test_event_is_accepted_with_its_outbox_row_and_repeat_gives_same_body(
    api: TestClient,
) -> None:
    acme = make_org(api, "acme")
    body = signed_event(domain_of(api), acme.signer)
    first = api.post("/v1/events", json=body, headers=acme.writer)
    again = api.post("/v1/events", json=body, headers=acme.writer)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert first.json()["signer"] == acme.signer.address
    assert _count(api, SupplyEvent) == 1
    assert _count(api, Outbox) == 1


def test_concurrent_duplicate_posts_store_one_row(api: TestClient) -> None:
    acme = make_org(api, "acme")
    body = signed_event(domain_of(api), acme.signer)
    with ThreadPoolExecutor(8) as pool:
        responses = list(
            pool.map(lambda _: api.post("/v1/events", json=body, headers=acme.writer), range(16))
        )
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["digest"] for r in responses}) == 1
    assert _count(api, SupplyEvent) == 1
    assert _count(api, Outbox) == 1


def test_signature_over_another_domain_is_refused(api: TestClient) -> None:
    acme = make_org(api, "acme")
    real = domain_of(api)
    wrong = Domain(real.name, real.version, real.chain_id + 1, real.verifying_contract)
    resp = api.post("/v1/events", json=signed_event(wrong, acme.signer), headers=acme.writer)
    # The digest differs, so the signature recovers to an unrelated address.
    assert resp.status_code == 403
    assert "not a signer key" in resp.json()["detail"]


def test_unregistered_signer_is_refused(api: TestClient) -> None:
    acme = make_org(api, "acme")
    stranger = Account.create()
    resp = api.post("/v1/events", json=signed_event(domain_of(api), stranger), headers=acme.writer)
    assert resp.status_code == 403


def test_high_s_signature_is_refused_with_reason(api: TestClient) -> None:
    acme = make_org(api, "acme")
    body = signed_event(domain_of(api), acme.signer)
    sig = bytes.fromhex(body["signature"][2:])
    s = int.from_bytes(sig[32:64], "big")
    flipped = sig[:32] + (eip712.SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    body["signature"] = "0x" + flipped.hex()
    resp = api.post("/v1/events", json=body, headers=acme.writer)
    assert resp.status_code == 422
    assert "malleable" in resp.json()["detail"]


def test_reused_event_id_with_other_content_is_a_conflict(api: TestClient) -> None:
    acme = make_org(api, "acme")
    dom = domain_of(api)
    eid = secrets.token_bytes(32)
    assert (
        api.post(
            "/v1/events", json=signed_event(dom, acme.signer, event_id=eid), headers=acme.writer
        ).status_code
        == 202
    )
    other = signed_event(dom, acme.signer, event_id=eid, kind=2)
    resp = api.post("/v1/events", json=other, headers=acme.writer)
    assert resp.status_code == 409


def test_future_events_are_refused(api: TestClient) -> None:
    acme = make_org(api, "acme")
    body = signed_event(domain_of(api), acme.signer, occurred_at=2**40)
    resp = api.post("/v1/events", json=body, headers=acme.writer)
    assert resp.status_code == 422
    assert "future" in resp.json()["detail"]


def test_batch_reports_each_item_and_stores_duplicates_once(api: TestClient) -> None:
    acme = make_org(api, "acme")
    dom = domain_of(api)
    good = [signed_event(dom, acme.signer) for _ in range(5)]
    bad = signed_event(dom, Account.create())
    items = [*good, good[0], bad]
    resp = api.post("/v1/events/batch", json={"events": items}, headers=acme.writer)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    BatchResult.model_validate(out)  # the documented response schema
    assert (out["accepted"], out["rejected"]) == (6, 1)
    single = api.post("/v1/events", json=good[1], headers=acme.writer).json()
    assert single == out["results"][1]["event"]
    assert out["results"][5]["event"] == out["results"][0]["event"]
    assert out["results"][6]["status"] == "rejected"
    assert out["results"][6]["error"] == "forbidden"
    assert _count(api, SupplyEvent) == 5
    again = api.post("/v1/events/batch", json={"events": items}, headers=acme.writer).json()
    assert again["results"][:6] == out["results"][:6]
    assert _count(api, SupplyEvent) == 5


def test_batch_above_the_limit_is_413(api: TestClient) -> None:
    acme = make_org(api, "acme")
    body = signed_event(domain_of(api), acme.signer)
    limit = context(api).settings.max_batch_events
    resp = api.post("/v1/events/batch", json={"events": [body] * (limit + 1)}, headers=acme.writer)
    assert resp.status_code == 413


def test_events_list_shows_only_own_events(api: TestClient) -> None:
    acme = make_org(api, "acme")
    beta = make_org(api, "beta")
    dom = domain_of(api)
    api.post("/v1/events", json=signed_event(dom, acme.signer), headers=acme.writer)
    api.post("/v1/events", json=signed_event(dom, beta.signer), headers=beta.writer)
    mine = api.get("/v1/events", headers=acme.writer).json()
    assert [e["signer"] for e in mine] == [acme.signer.address]
