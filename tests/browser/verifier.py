"""Drive the static proof verifier (frontend_static/verify/) like a person does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.browser import PHONE, shot, visit

#: Where the page sits under a server of ``frontend_static/`` mounted at ``/static``.
PAGE = "/static/verify/index.html"


def verify_on_page(
    page_url: str,
    cases: list[tuple[str, Any, dict[str, Any], str]],
    tmp_path: Path,
    *,
    screenshot: str | None = None,
) -> list[dict[str, Any]]:
    """Verify each ``(name, bundle, manifest, rpc_url)`` on the page; each outcome, in order.

    One browser, one page load per case: the bundle is pasted as JSON (a ``str``
    as it is), the RPC URL typed, the manifest given as a file (as a user who does
    not take the operator's word would), Verify pressed; the outcome is the JSON
    the page puts on ``#result`` next to the list of checks it shows. The page
    must log no error; with ``screenshot`` the first result is kept as a phone
    screenshot and must not scroll sideways.
    """
    steps: list[dict[str, Any]] = []
    for n, (name, bundle, manifest, rpc_url) in enumerate(cases):
        manifest_file = tmp_path / f"manifest-{n}-{name}.json"
        manifest_file.write_text(json.dumps(manifest))
        text = bundle if isinstance(bundle, str) else json.dumps(bundle)
        steps += [
            {"goto": page_url},
            {"fill": "#bundle-text", "value": text},
            {"fill": "#rpc-url", "value": rpc_url},
            {"setFiles": "#trust-file", "files": [str(manifest_file)]},
            {"click": "#verify"},
            {"waitFor": "#result[data-done=true]"},
            {"attr": "#result", "name": "data-outcome"},
        ]
        if screenshot and n == 0:
            steps += [shot(screenshot, PHONE), {"scrollWidth": True}]
    steps.append({"console": True})
    run = visit(page_url, steps, viewport=PHONE)
    (errors,) = run.values("console")
    assert errors == [], errors
    if screenshot:
        (width,) = run.values("scrollWidth")
        assert width <= PHONE[0], f"the page is {width}px wide at {PHONE[0]}px"
    return [json.loads(v[0]) for v in run.values("attr")]


def failing(outcome: dict[str, Any]) -> set[str]:
    """The ids of the checks that failed."""
    return {c["id"] for c in outcome["checks"] if not c["ok"]}
