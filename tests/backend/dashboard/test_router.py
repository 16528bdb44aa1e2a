"""Dashboard access: sign-in form, session cookie, header auth, sign-out, refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.backend.conftest import OPERATOR_TOKEN
from tests.backend.factories import make_org

JSON = {"Accept": "application/json"}


def _key(headers: dict[str, str]) -> str:
    return headers.get("X-API-Key") or headers["Authorization"].removeprefix("Bearer ")


def test_dashboard_without_credentials_redirects_to_sign_in(api: TestClient) -> None:
    resp = api.get("/dashboard", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/dashboard/login"
    form = api.get("/dashboard/login")
    assert form.status_code == 200
    assert 'name="api_key"' in form.text
    assert 'type="password"' in form.text


def test_sign_in_sets_a_strict_httponly_cookie_without_the_key(api: TestClient) -> None:
    org = make_org(api, "hearth", scopes=("seller",))
    key = _key(org.writer)
    resp = api.post(
        "/dashboard/login",
        content=f"api_key={key}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == "/dashboard"
    cookie = resp.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Path=/dashboard" in cookie
    assert key not in cookie
    assert key.split("_", 2)[2] not in cookie  # the secret part never leaves the server
    page = api.get("/dashboard")
    assert page.status_code == 200
    assert "hearth" in page.text
    assert "No shipments yet" in page.text
    assert 'action="/dashboard/logout"' in page.text
    assert page.headers["cache-control"] == "no-store"


def test_sign_out_ends_the_session(api: TestClient) -> None:
    org = make_org(api, "hearth", scopes=("seller",))
    api.post(
        "/dashboard/login",
        content=f"api_key={_key(org.writer)}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert api.get("/dashboard", follow_redirects=False).status_code == 200
    out = api.post("/dashboard/logout", follow_redirects=False)
    assert out.status_code == 303
    assert (
        'waymark_session=""' in out.headers["set-cookie"]
        or "Max-Age=0" in out.headers["set-cookie"]
    )
    api.cookies.clear()
    assert api.get("/dashboard", follow_redirects=False).status_code == 303


def test_revoking_the_key_ends_its_sessions(api: TestClient) -> None:
    org = make_org(api, "hearth", scopes=("seller",))
    api.post(
        "/dashboard/login",
        content=f"api_key={_key(org.writer)}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    keys = api.get("/v1/orgs/hearth/api-keys", headers=org.admin).json()["items"]
    writer = next(k for k in keys if "seller" in k["scopes"])
    revoked = api.delete(f"/v1/orgs/hearth/api-keys/{writer['id']}", headers=org.admin)
    assert revoked.status_code == 200, revoked.text
    assert api.get("/dashboard", follow_redirects=False).status_code == 303


def test_forged_or_tampered_session_is_refused(api: TestClient) -> None:
    org = make_org(api, "hearth", scopes=("seller",))
    api.post(
        "/dashboard/login",
        content=f"api_key={_key(org.writer)}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    payload, issued, mac = api.cookies["waymark_session"].split("~")
    prefix, fingerprint = payload.split(".")
    api.cookies.clear()
    for forged in (
        f"{payload}~{issued[:-1]}{'A' if issued[-1] != 'A' else 'B'}~{mac}",
        f"{payload}~{issued}~{'0' * len(mac)}",
        f"{prefix}.{'0' * len(fingerprint)}~{issued}~{mac}",
        "x",
    ):
        api.cookies.set("waymark_session", forged, path="/dashboard")
        assert api.get("/dashboard", follow_redirects=False).status_code == 303
        api.cookies.clear()


def test_sign_in_refuses_wrong_keys_and_other_scopes(api: TestClient) -> None:
    carrier = make_org(api, "carrier", scopes=("carrier",))
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    wrong = api.post("/dashboard/login", content="api_key=wm_000000000000_nope", headers=form)
    assert wrong.status_code == 401
    assert "Sign-in failed" in wrong.text
    assert "set-cookie" not in wrong.headers
    scoped = api.post("/dashboard/login", content=f"api_key={_key(carrier.writer)}", headers=form)
    assert scoped.status_code == 403
    operator = api.post("/dashboard/login", content=f"api_key={OPERATOR_TOKEN}", headers=form)
    assert operator.status_code == 401


def test_cross_site_sign_in_is_refused(api: TestClient) -> None:
    org = make_org(api, "hearth", scopes=("seller",))
    resp = api.post(
        "/dashboard/login",
        content=f"api_key={_key(org.writer)}",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://evil.example",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 403
    assert "set-cookie" not in resp.headers


def test_header_auth_returns_json_for_programs(api: TestClient) -> None:
    org = make_org(api, "hearth", scopes=("seller",))
    resp = api.get("/dashboard", headers={**org.writer, **JSON})
    assert resp.status_code == 200
    body = resp.json()
    assert body["org"] == "hearth"
    assert body["counts"] == {"red": 0, "yellow": 0, "green": 0, "closed": 0}
    assert body["shipments"] == []
    assert body["alliance"] == {"transfers": [], "settlements": [], "reallocations": []}
    other = api.get("/dashboard", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}", **JSON})
    assert other.status_code == 403
    bad = api.get("/dashboard", headers={"Authorization": "Bearer wm_000000000000_x", **JSON})
    assert bad.status_code == 401
