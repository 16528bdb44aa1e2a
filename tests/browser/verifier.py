"""Drive the static proof verifier (frontend_static/verify/) like a person does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.browser import PHONE, shot, visit

#: Where the page sits under a server of ``frontend_static/`` mounted at ``/static``.
PAGE = "/static/verify/index.html"


@dataclass(frozen=True)
class PageCase:
    """One verification on the page: what the person gives it."""

    name: str
    bundle: Any  # pasted as JSON; a ``str`` is pasted as it is
    manifest: dict[str, Any]
    rpc_url: str
    confirmations: int = 1
    given: str = "paste"  # how the bundle is given: "paste", "file" (chosen) or "drop"


def verify_on_page(
    page_url: str,
    cases: list[PageCase],
    tmp_path: Path,
    *,
    screenshot: str | None = None,
    console_allows: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Verify each case on the page; each outcome, in order.

    One browser, one page load per case: the bundle pasted (or chosen as a file, or dropped),
    the RPC URL typed, the manifest given as a file (as a user who does not take
    the operator's word would), Verify pressed; the outcome is the JSON the page
    puts on ``#result`` next to the list of checks it shows. The page must log
    no error (but those containing one of ``console_allows``); with
    ``screenshot`` the first result is kept as a phone screenshot and must not
    scroll sideways.
    """
    steps: list[dict[str, Any]] = []
    for n, case in enumerate(cases):
        manifest_file = tmp_path / f"manifest-{n}-{case.name}.json"
        manifest_file.write_text(json.dumps(case.manifest))
        text = case.bundle if isinstance(case.bundle, str) else json.dumps(case.bundle)
        steps.append({"goto": page_url})
        if case.given == "file":
            bundle_file = tmp_path / f"bundle-{n}-{case.name}.json"
            bundle_file.write_text(text)
            steps.append({"setFiles": "#bundle-file", "files": [str(bundle_file)]})
        elif case.given == "drop":
            steps.append({"drop": "#drop", "name": f"{case.name}.json", "content": text})
        else:
            steps.append({"fill": "#bundle-text", "value": text})
        steps += [
            {"fill": "#rpc-url", "value": case.rpc_url},
            {"fill": "#confirmations", "value": str(case.confirmations)},
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
    assert [e for e in errors if not any(a in e for a in console_allows)] == [], errors
    if screenshot:
        (width,) = run.values("scrollWidth")
        assert width <= PHONE[0], f"the page is {width}px wide at {PHONE[0]}px"
    return [json.loads(v[0]) for v in run.values("attr")]


def failing(outcome: dict[str, Any]) -> set[str]:
    """The ids of the checks that failed."""
    return {c["id"] for c in outcome["checks"] if not c["ok"]}
