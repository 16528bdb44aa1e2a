"""The static verifier page on the shared proof cases, and its agreement with the Python one.

The page is served by a bare static file server (no Waymark service at all)
and driven in headless Chromium; it reads the cases' anvil node itself. For
every case its verdict and failing checks must be the case's, and equal to what
``backend.qr.bundle.verify_bundle`` answers on the same bundle, manifest and node.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from backend.cli.chainio import verifier_rpc
from backend.paths import FRONTEND_STATIC
from backend.qr.bundle.verify import Trust, verify_bundle
from tests.browser import CHROMIUM
from tests.browser.verifier import PAGE, PageCase, failing, verify_on_page
from tests.integration.live_server import serve
from tests.integration.proof_cases import CASE_NAMES, ProofCase

pytestmark = [
    pytest.mark.anvil,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]


@pytest.fixture(scope="module")
def static_site() -> Iterator[str]:
    """``frontend_static/`` at ``/static`` on 127.0.0.1, and nothing else."""
    app = Starlette(routes=[Mount("/static", StaticFiles(directory=FRONTEND_STATIC))])
    with serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def page_outcomes(
    proof_cases: dict[str, ProofCase], static_site: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """Every case verified on the page, in one browser session."""
    cases = [
        PageCase(n, proof_cases[n].bundle, proof_cases[n].manifest, proof_cases[n].rpc_url)
        for n in CASE_NAMES
    ]
    outcomes = verify_on_page(
        f"{static_site}{PAGE}",
        cases,
        Path(tmp_path_factory.mktemp("page-cases")),
        screenshot="verify-page-genuine-case",
    )
    return dict(zip(CASE_NAMES, outcomes, strict=True))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_page_gives_the_cases_verdict(
    proof_cases: dict[str, ProofCase], page_outcomes: dict[str, dict[str, Any]], name: str
) -> None:
    proof_cases[name].check(page_outcomes[name])


@pytest.mark.parametrize("name", CASE_NAMES)
def test_page_and_python_verifier_agree(
    proof_cases: dict[str, ProofCase], page_outcomes: dict[str, dict[str, Any]], name: str
) -> None:
    case = proof_cases[name]
    python = verify_bundle(
        case.bundle, verifier_rpc(case.rpc_url), Trust.from_manifest(case.manifest)
    ).to_json()
    page = page_outcomes[name]
    assert page["verdict"] == python["verdict"]
    assert failing(page) == failing(python)
    failed_items = {(c["id"], c["item"]) for c in page["checks"] if not c["ok"]}
    assert failed_items == {(c["id"], c["item"]) for c in python["checks"] if not c["ok"]}
    for key in ("organisation", "passport_status", "current_version"):
        assert page[key] == python[key], key
