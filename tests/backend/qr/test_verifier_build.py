"""The committed static verifier bundle is what `make verifier` builds from the sources."""

from __future__ import annotations

import subprocess
from pathlib import Path

from backend.chain.compiler import Artifact
from backend.paths import PROJECT_ROOT

VERIFY = PROJECT_ROOT / "frontend_static" / "verify"


def test_committed_verifier_bundle_equals_a_fresh_build(
    artifacts: dict[str, Artifact], tmp_path: Path
) -> None:
    # `artifacts` compiles the contracts into build/, whose ABIs the bundle embeds.
    assert "AnchorRegistry" in artifacts
    out = tmp_path / "verify.bundle.js"
    subprocess.run(
        ["node", "scripts/build_verifier.mjs", str(out)],
        cwd=PROJECT_ROOT,
        check=True,
        timeout=120,
    )
    committed = (VERIFY / "verify.bundle.js").read_bytes()
    assert out.read_bytes() == committed, "frontend_static/verify is stale: run `make verifier`"


def test_verifier_page_loads_only_its_own_files() -> None:
    html = (VERIFY / "index.html").read_text()
    assert "default-src 'none'; script-src 'self'; style-src 'self'" in html
    assert "cdn" not in html.lower()
    assert 'src="verify.bundle.js"' in html
