"""/docs and /redoc load every asset from this app: nothing from a CDN."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from backend.config import Settings
from backend.main import create_app

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def test_swagger_ui_and_redoc_reference_only_local_assets_that_answer() -> None:
    with TestClient(create_app(Settings(chain_backend="tester"))) as client:
        for page in ("/docs", "/redoc"):
            html = client.get(page).text
            assets = ASSET.findall(html)
            assert assets, page
            for url in assets:
                assert url.startswith("/"), (page, url)  # no http(s)://, no protocol-relative //
                assert not url.startswith("//"), (page, url)
                assert client.get(url).status_code == 200, (page, url)
            assert "cdn." not in html
            assert "googleapis" not in html
        js = client.get("/docs/assets/swagger-ui-bundle.js")
        assert js.headers["content-type"].startswith("text/javascript")
        assert len(js.content) > 500_000  # the real bundle, not a placeholder


def test_an_unknown_docs_asset_is_a_404_naming_it() -> None:
    with TestClient(create_app(Settings(chain_backend="tester"))) as client:
        resp = client.get("/docs/assets/..%2f..%2fpyproject.toml")
        assert resp.status_code == 404
        assert resp.json()["error"] == "not_found"
