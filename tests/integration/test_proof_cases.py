"""The Python verifier and ``waymark proof verify`` on the eight shared proof cases (anvil)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from backend.cli import cli
from backend.cli.chainio import verifier_rpc
from backend.qr.bundle.verify import EXIT_CODES, Trust, Verdict, verify_bundle
from tests.integration.proof_cases import BRAND, CASE_NAMES, ProofCase

pytestmark = pytest.mark.anvil


def python_runner(bundle: dict[str, Any], manifest: dict[str, Any], rpc_url: str) -> dict[str, Any]:
    """The Python verifier as a case runner: ``{"verdict", "checks"}``."""
    return verify_bundle(bundle, verifier_rpc(rpc_url), Trust.from_manifest(manifest)).to_json()


@pytest.mark.parametrize("name", CASE_NAMES)
def test_python_verifier(proof_cases: dict[str, ProofCase], name: str) -> None:
    case = proof_cases[name]
    result = python_runner(case.bundle, case.manifest, case.rpc_url)
    case.check(result)
    if name == "recalled":  # the reason code and the recall's own words, from its log
        (status,) = [c for c in result["checks"] if c["id"] == "passport.status"]
        assert status["detail"] == "recalled: reason code 2, 'bamboo fibres shed into food'"
    if name == "superseded":
        assert result["current_version"] == 2


@pytest.mark.parametrize("name", CASE_NAMES)
def test_cli_exit_code_and_json(
    proof_cases: dict[str, ProofCase], name: str, tmp_path: Path
) -> None:
    case = proof_cases[name]
    bundle, trust = tmp_path / "bundle.json", tmp_path / "manifest.json"
    bundle.write_text(json.dumps(case.bundle))
    trust.write_text(json.dumps(case.manifest))
    args = ["proof", "verify", str(bundle), "--rpc", case.rpc_url, "--trust", str(trust)]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == EXIT_CODES[Verdict(case.verdict)], result.output
    case.check(json.loads(result.stdout))
    text = CliRunner().invoke(cli, args)
    assert text.exit_code == result.exit_code
    assert text.stdout.splitlines()[-1] == f"verdict: {case.verdict}"
    if name not in ("forger_registry", "stranger_anchorer_claimed"):  # stops at trust checks
        assert "passport status: " in text.stdout
        assert f"issued by: {BRAND} (per OrganisationRegistry)" in text.stdout
