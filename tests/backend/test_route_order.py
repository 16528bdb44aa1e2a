"""The hottest reads are matched first: each router ahead of a route costs every request to it."""

from __future__ import annotations

from backend.main import create_app


def test_a_scan_and_a_proof_are_matched_before_every_other_router() -> None:
    app = create_app()
    included = [r.original_router for r in app.router.routes if hasattr(r, "original_router")]
    first = [[route.path for route in router.routes] for router in included[:2]]  # type: ignore[attr-defined]
    assert first == [["/01/{rest:path}"], ["/v1/proofs/{ref:path}"]]
