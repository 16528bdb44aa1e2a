"""Every write endpoint, called with another organisation's keys, is refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.backend.factories import Org, make_org

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
