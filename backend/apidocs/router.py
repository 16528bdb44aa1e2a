"""``/docs`` (Swagger UI) and ``/redoc`` from the npm packages in ``package.json``.

FastAPI's default pages load their JavaScript, CSS, favicon and fonts from
public CDNs, so they are blank on a machine without internet. These pages use
the same FastAPI helpers with every asset served by this app from
``node_modules/swagger-ui-dist`` and ``node_modules/redoc/bundles``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from backend.errors import NotFound
from backend.paths import NODE_MODULES

SWAGGER_UI_DIR = NODE_MODULES / "swagger-ui-dist"
REDOC_BUNDLE = NODE_MODULES / "redoc" / "bundles" / "redoc.standalone.js"
ASSETS_PREFIX = "/docs/assets"

# The only files the pages load; anything else under the prefix is a 404.
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (SWAGGER_UI_DIR / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (SWAGGER_UI_DIR / "swagger-ui.css", "text/css"),
    "favicon-32x32.png": (SWAGGER_UI_DIR / "favicon-32x32.png", "image/png"),
    "redoc.standalone.js": (REDOC_BUNDLE, "text/javascript"),
}

# Both pages run an inline bootstrap script; everything else comes from this origin.
# ReDoc's sidebar has a hard-coded CDN logo: the policy keeps the browser from fetching it.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


def _page(html: HTMLResponse) -> HTMLResponse:
    html.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return html


def _asset_url(name: str) -> str:
    return f"{ASSETS_PREFIX}/{name}"


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    app = request.app
    return _page(
        get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} API",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=_asset_url("swagger-ui-bundle.js"),
            swagger_css_url=_asset_url("swagger-ui.css"),
            swagger_favicon_url=_asset_url("favicon-32x32.png"),
        )
    )


@router.get("/docs/oauth2-redirect")
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    app = request.app
    return _page(
        get_redoc_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} API reference",
            redoc_js_url=_asset_url("redoc.standalone.js"),
            redoc_favicon_url=_asset_url("favicon-32x32.png"),
            with_google_fonts=False,
        )
    )


@router.get(ASSETS_PREFIX + "/{name}")
def asset(name: str) -> FileResponse:
    found = ASSETS.get(name)
    if found is None or not found[0].is_file():
        # Missing files mean `npm install` has not run; say so rather than serve a blank page.
        raise NotFound(
            f"no documentation asset {name!r}"
            if found is None
            else f"{found[0].name} is missing: run `make install` (npm packages)"
        )
    path, media_type = found
    return FileResponse(
        path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
    )
