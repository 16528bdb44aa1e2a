"""The hottest reads answered before routing: only what is stored is sent that way, and
everything else (a miss, another representation, an error) reaches the routed endpoint."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from backend.chain import ChainClient
from backend.main import create_app
from backend.middleware import HotRead, HotReadsMiddleware
from tests.backend.qr.flow import Flow, make_flow, page_id, stored_page

ORIGIN = "https://verifier.example"


def routed(request: Request) -> Response:
    return PlainTextResponse("routed " + request.method)


def hot_app(read: HotRead) -> TestClient:
    app = Starlette(routes=[Route("/hot/{rest:path}", routed, methods=["GET", "POST", "HEAD"])])
    app.add_middleware(HotReadsMiddleware, routes=[("/hot/", read)])
    return TestClient(app)


def stored(request: Request) -> Response | None:
    return PlainTextResponse("stored") if request.url.path == "/hot/kept" else None


def failing(request: Request) -> Response | None:
    raise RuntimeError("the read failed")


@pytest.mark.parametrize(
    ("read", "method", "path", "answer"),
    [
        (stored, "GET", "/hot/kept", "stored"),
        (stored, "GET", "/hot/missing", "routed GET"),  # nothing stored: the endpoint answers
        (stored, "POST", "/hot/kept", "routed POST"),  # only GETs are read before routing
        (stored, "HEAD", "/hot/kept", ""),  # the endpoint's HEAD: no body either way
        (failing, "GET", "/hot/kept", "routed GET"),  # a failed read leaves it to the endpoint
    ],
)
def test_a_hot_read_answers_only_what_it_holds(
    read: Callable[[Request], Response | None], method: str, path: str, answer: str
) -> None:
    resp = hot_app(read).request(method, path)
    assert resp.status_code == 200
    assert resp.text == answer


def test_the_hot_reads_sit_inside_every_other_middleware() -> None:
    app = create_app()
    # Starlette builds the stack from the first entry outwards: the last is innermost.
    assert app.user_middleware[-1].cls is HotReadsMiddleware


@pytest.fixture
def flow(api: TestClient, tester: ChainClient) -> Flow:
    return make_flow(api, tester)


def test_a_stored_page_is_sent_only_for_the_plain_html_scan(flow: Flow) -> None:
    link, _ = flow.issue(lot="H1", serial="SN-H1")
    html = stored_page(flow, link)
    assert flow.api.get(link.path).text == html
    linkset = flow.api.get(link.path + "?linkType=all")
    assert linkset.headers["content-type"].startswith("application/linkset+json")
    assert linkset.json()["linkset"][0]["anchor"].endswith(link.path)
    as_json = flow.api.get(link.path, headers={"Accept": "application/json"})
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.json()["passport"]["digital_link"].endswith(link.path)
    refused = flow.api.get(link.path, headers={"Accept": "image/png"})
    assert refused.status_code == 406


def test_a_proof_read_before_routing_keeps_its_cors_and_conditional_headers(flow: Flow) -> None:
    link, _ = flow.issue(lot="H2", serial="SN-H2")
    event = flow.sign_events(bytes.fromhex(page_id(link)[2:]), count=1)[0]
    url = f"/v1/proofs/{event['eventId']}"
    resp = flow.api.get(url, headers={"Origin": ORIGIN})
    assert resp.status_code == 200
    assert resp.json()["event"]["event_id"] == event["eventId"]
    assert resp.headers["access-control-allow-origin"] == "*"
    assert resp.headers["cache-control"] == "public, max-age=15"
    again = flow.api.get(url, headers={"If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304
    # Upper case and the EPCIS hash-id form are normalised the same way as routed.
    assert flow.api.get(url.upper().replace("/V1/PROOFS/0X", "/v1/proofs/0x")).json() == resp.json()
    bad = flow.api.get("/v1/proofs/0x1234")
    assert bad.status_code in (400, 422)
