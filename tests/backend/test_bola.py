"""Every write endpoint, called with another organisation's keys, is refused."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.chain import ChainClient
from backend.chain.passports import CONTRACT, PassportRegistryClient, claim_type
from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.common.types import to_hex
from backend.relayer.models import RelayRequest
from tests.backend.factories import Org, gtin_under, make_org
from tests.backend.passports.api_factories import (
    amend_body,
    attest_body,
    issue_body,
    revoke_attestation_body,
    sample_document,
    status_body,
)
from tests.backend.shipments.factories import Service, create_body, milestone_body, post
from tests.context import context

# (method, path template, body); {slug} is the victim org, {key}/{signer} its ids.
WRITES = [
    ("POST", "/v1/orgs/{slug}/api-keys", {"scopes": ["admin"]}),
    ("DELETE", "/v1/orgs/{slug}/api-keys/{key}", None),
    ("POST", "/v1/orgs/{slug}/signers", {"address": "0x" + "22" * 20}),
    ("POST", "/v1/orgs/{slug}/signers/{signer}/revoke", {}),
    ("POST", "/v1/orgs/{slug}/signers/{signer}/rotate", {"address": "0x" + "33" * 20}),
    ("GET", "/v1/orgs/{slug}/api-keys", None),
    ("GET", "/v1/orgs/{slug}/signers", None),
]


@pytest.fixture
def orgs(api: TestClient) -> dict[str, Org]:
    return {s: make_org(api, s) for s in ("acme", "beta", "gamma")}


def test_bola_matrix_refuses_every_cross_org_call(api: TestClient, orgs: dict[str, Org]) -> None:
    refused = 0
    for victim_slug, victim in orgs.items():
        keys = api.get(f"/v1/orgs/{victim_slug}/api-keys", headers=victim.admin).json()["items"]
        ids = {"slug": victim_slug, "key": keys[0]["id"], "signer": victim.signer_id}
        for attacker_slug, attacker in orgs.items():
            if attacker_slug == victim_slug:
                continue
            for headers in (attacker.admin, attacker.writer):
                for method, template, body in WRITES:
                    path = template.format(**ids)
                    resp = api.request(method, path, json=body, headers=headers)
                    assert resp.status_code in (403, 404), (method, path, resp.text)
                    assert "error" in resp.json()
                    refused += 1
        # The victim's own state is untouched.
        after = api.get(f"/v1/orgs/{victim_slug}/api-keys", headers=victim.admin).json()
        assert len(after["items"]) == 2
        assert all(k["revoked_at"] is None for k in after["items"])
        signers = api.get(f"/v1/orgs/{victim_slug}/signers", headers=victim.admin).json()
        assert [s["revoked_at"] for s in signers["items"]] == [None]
    assert refused == 3 * 2 * 2 * len(WRITES)


def test_events_signed_by_another_orgs_signer_are_refused(
    api: TestClient, orgs: dict[str, Org]
) -> None:
    from tests.backend.factories import domain_of, signed_event

    body = signed_event(domain_of(api), orgs["beta"].signer)
    resp = api.post("/v1/events", json=body, headers=orgs["acme"].writer)
    assert resp.status_code == 403


# -- shipments and passports -------------------------------------------------


def test_bola_matrix_covers_every_shipment_and_passport_write(
    api: TestClient, tester: ChainClient
) -> None:
    """Every new write, replayed with the victim's signatures or aimed at the victim's
    resources with the attacker's own signer, is refused for every other org's keys."""
    scopes = ("seller", "carrier", "certifier")
    prefixes = {"acme": "8936045", "beta": "8936046", "gamma": "8936047"}
    orgs = {s: make_org(api, s, scopes, prefixes=(p,)) for s, p in prefixes.items()}
    svc = Service(api, tester)
    reg = PassportRegistryClient(tester, context(api).loaded().deployment.address(CONTRACT))
    refused = 0
    for victim_slug, victim in orgs.items():
        v = victim.signer
        lot = f"LOT-{victim_slug}"
        # The victim's resources: a shipment, a passport and an attestation.
        # The carrier is outside the matrix: no attacker is a party of the shipment.
        create = create_body(svc, v, [Account.create().address])
        created = post(svc, "/v1/shipments", create, victim)
        sid = create["terms"]["shipmentId"]
        gtin = gtin_under(prefixes[victim_slug])
        issue = issue_body(reg, v, sample_document(lot, gtin=gtin), deadline=svc.now() + 3600)
        post(svc, "/v1/passports", issue, victim)
        svc.settle()
        pid = bytes.fromhex(issue["passportId"][2:])
        now = svc.now()
        doc_hash = bytes.fromhex(issue["content"]["documentHash"][2:])
        attest = attest_body(
            reg, v, pid, doc_hash, claim_type("bola"), valid_until=now + 10**6, deadline=now + 3600
        )
        aid = post(svc, f"/v1/passports/{to_hex(pid)}/attestations", attest, victim)["subject"]
        svc.settle()

        def replays(
            signer: LocalAccount, sid: str, pid: bytes, aid: str, lot: str, gtin: str
        ) -> list[tuple[str, dict[str, Any] | None]]:
            """Bodies for every write, signed by ``signer`` against the victim's resources."""
            deadline = svc.now() + 3600
            exception = milestone_body(
                svc, sid, M.EXCEPTION, signer, reason_code=int(td.ExceptionReason.DELAYED)
            )
            correction = td.correction(
                shipment_id=bytes.fromhex(sid[2:]),
                corrected_index=0,
                corrected_record_hash=bytes(32),
                reason=td.CorrectionReason.OTHER,
                signer=signer.address,
                nonce=0,
                deadline=deadline,
            )
            csig = td.sign_correction(signer.key, svc.registry.domain(), correction)
            return [
                (f"/v1/shipments/{sid}/milestones", exception),
                ("/v1/shipments/milestones/batch", {"items": [exception]}),
                (
                    f"/v1/shipments/{sid}/corrections",
                    {
                        "correction": {
                            "shipmentId": sid,
                            "correctedIndex": 0,
                            "correctedRecordHash": "0x" + "00" * 32,
                            "reasonCode": int(td.CorrectionReason.OTHER),
                            "signer": signer.address,
                            "nonce": 0,
                            "deadline": deadline,
                        },
                        "signature": to_hex(csig),
                    },
                ),
                (f"/v1/shipments/{sid}/overdue/1", None),
                (
                    f"/v1/passports/{to_hex(pid)}/versions",
                    amend_body(
                        reg, signer, sample_document(lot, gtin=gtin, name="x"), 1, deadline=deadline
                    ),
                ),
                (
                    f"/v1/passports/{to_hex(pid)}/recall",
                    status_body(reg, signer, pid, revoke=False, deadline=deadline),
                ),
                (
                    f"/v1/passports/{to_hex(pid)}/revoke",
                    status_body(reg, signer, pid, revoke=True, deadline=deadline),
                ),
                (
                    f"/v1/passports/attestations/{aid}/revoke",
                    revoke_attestation_body(reg, signer, bytes.fromhex(aid[2:]), deadline=deadline),
                ),
            ]

        victim_signed = [
            ("/v1/shipments", create_body(svc, v, [v.address])),
            (
                "/v1/passports",
                issue_body(reg, v, sample_document(lot + "b", gtin=gtin), deadline=now + 3600),
            ),
            (f"/v1/passports/{to_hex(pid)}/attestations", attest),
            *replays(v, sid, pid, aid, lot, gtin),
        ]
        for attacker_slug, attacker in orgs.items():
            if attacker_slug == victim_slug:
                continue
            own_signed = replays(attacker.signer, sid, pid, aid, lot, gtin)
            for headers in (attacker.admin, attacker.writer):
                for path, body in [*victim_signed, *own_signed]:
                    resp = api.post(path, json=body, headers=headers)
                    assert resp.status_code in (403, 404), (
                        attacker_slug,
                        path,
                        body,
                        headers,
                        resp.text,
                    )
                    refused += 1
                for path in (f"/v1/relay/{created['relay_id']}", f"/v1/shipments/{sid}"):
                    assert api.get(path, headers=headers).status_code == 404
        # Nothing was queued by any refused call.
        with context(api).sessions() as session:
            queued = session.scalars(
                select(RelayRequest.id).where(RelayRequest.status == "queued")
            ).all()
            assert queued == []
    assert refused == 3 * 2 * 2 * (3 + 8 + 8)
