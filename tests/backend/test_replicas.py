"""Two app instances on one database behave as one service: sessions and rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from backend.chain import ChainClient
from backend.main import create_app
from backend.orgs.ratelimit import RateLimiter
from tests.backend.conftest import OPERATOR_TOKEN, api_settings
from tests.backend.factories import make_org
from tests.conftest import deployment_for

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@contextmanager
def replica(db_url: str, chain: ChainClient, **overrides: object) -> Iterator[TestClient]:
    """One more app instance (its own engine, limiters and signer) on the same database."""
    app = create_app(api_settings(db_url, **overrides), chain, deployment=deployment_for(chain))
    with TestClient(app) as client:
        yield client


def _key(headers: dict[str, str]) -> str:
    return headers.get("X-API-Key") or headers["Authorization"].removeprefix("Bearer ")


def _sign_in(client: TestClient, key: str) -> str:
    resp = client.post(
        "/dashboard/login", content=f"api_key={key}", headers=FORM, follow_redirects=False
    )
    assert resp.status_code == 303, resp.text
    return str(resp.cookies["waymark_session"])


def _dashboard(client: TestClient, cookie: str) -> int:
    client.cookies.clear()
    client.cookies.set("waymark_session", cookie, path="/dashboard")
    resp = client.get("/dashboard", follow_redirects=False)
    client.cookies.clear()
    return resp.status_code


def test_a_session_made_by_one_replica_is_accepted_by_another(
    api: TestClient, db_url: str, tester: ChainClient
) -> None:
    org = make_org(api, "hearth", scopes=("seller",))
    cookie = _sign_in(api, _key(org.writer))
    with replica(db_url, tester) as other:
        assert _dashboard(other, cookie) == 200
        assert _dashboard(api, cookie) == 200


def test_configured_session_keys_rotate(api: TestClient, db_url: str, tester: ChainClient) -> None:
    org = make_org(api, "hearth", scopes=("seller",))
    old = "o" * 32
    new = "n" * 32
    with replica(db_url, tester, session_secrets=old) as before:
        cookie = _sign_in(before, _key(org.writer))
        assert _dashboard(before, cookie) == 200
    # Rotation: the new key signs, the old one is still accepted.
    with replica(db_url, tester, session_secrets=f"{new},{old}") as during:
        assert _dashboard(during, cookie) == 200
        fresh = _sign_in(during, _key(org.writer))
    # The old key dropped: its sessions end, the new key's live on.
    with replica(db_url, tester, session_secrets=new) as after:
        assert _dashboard(after, cookie) == 303
        assert _dashboard(after, fresh) == 200
    # A replica with a key of its own accepts neither.
    with replica(db_url, tester, session_secrets="x" * 32) as stranger:
        assert _dashboard(stranger, fresh) == 303


def test_a_key_rate_limit_is_shared_by_replicas(
    api: TestClient, db_url: str, tester: ChainClient
) -> None:
    acme = make_org(api, "acme")
    limits = {"rate_limit_per_second": 0.01, "rate_limit_burst": 4}
    with replica(db_url, tester, **limits) as one, replica(db_url, tester, **limits) as two:
        codes = [
            (one if n % 2 else two).get("/v1/orgs/me", headers=acme.writer).status_code
            for n in range(6)
        ]
        assert codes == [200, 200, 200, 200, 429, 429]
        last = one.get("/v1/orgs/me", headers=acme.writer)
    assert last.status_code == 429
    assert int(last.headers["Retry-After"]) >= 1
    assert last.json()["error"] == "rate_limited"


def test_wrong_token_guesses_are_limited_by_address_before_the_check(
    api: TestClient, db_url: str, tester: ChainClient
) -> None:
    acme = make_org(api, "acme")
    limits = {"auth_failure_limit_per_second": 0.01, "auth_failure_burst": 5}
    guesses = [{"Authorization": f"Bearer guess-{n}"} for n in range(12)]
    with replica(db_url, tester, **limits) as one, replica(db_url, tester, **limits) as two:
        codes = [
            (one if n % 2 else two).post("/v1/orgs", json={}, headers=h).status_code
            for n, h in enumerate(guesses)
        ]
        assert codes[:5] == [401] * 5
        assert codes[5:] == [429] * 7
        # Even the right token is not checked from that address any more.
        blocked = one.get("/v1/orgs/me", headers=acme.writer)
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) >= 1
        operator = two.post(
            "/v1/orgs",
            json={"slug": "late", "name": "Late"},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        )
        assert operator.status_code == 429


def test_wrong_sign_in_keys_are_limited_by_address(
    api: TestClient, db_url: str, tester: ChainClient
) -> None:
    limits = {"auth_failure_limit_per_second": 0.01, "auth_failure_burst": 3}
    with replica(db_url, tester, **limits) as one, replica(db_url, tester, **limits) as two:
        codes = [
            (one if n % 2 else two)
            .post("/dashboard/login", content=f"api_key=wm_guess_{n}", headers=FORM)
            .status_code
            for n in range(5)
        ]
        assert codes == [401, 401, 401, 429, 429]
        last = one.post("/dashboard/login", content="api_key=wm_guess_x", headers=FORM)
    assert last.headers["Retry-After"]
    assert "too many failed" in last.text


def test_the_bucket_refills_at_its_rate(db_engine: Engine) -> None:
    limiter = RateLimiter(db_engine, rate=2.0, burst=3)
    t = 1_000_000.0
    assert [limiter.take("k", now=t) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("k", now=t) == 0.5  # one token comes back in half a second
    assert limiter.wait("k", now=t) == 0.5
    assert limiter.take("k", now=t + 0.5) == 0.0
    assert limiter.take("other", now=t) == 0.0
    assert limiter.take("k", now=t + 10) == 0.0  # refilled to the burst, no further
    assert [limiter.take("k", now=t + 10) for _ in range(3)] == [0.0, 0.0, 0.5]
