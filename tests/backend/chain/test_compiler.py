"""The solc-js compile pipeline: artifacts, caching and located errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import solcx

from backend.chain import compiler
from backend.chain.compiler import CompilationError, compile_contracts, load_artifacts

GOOD = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
contract Good is Ownable {
    constructor() Ownable(msg.sender) {}
    function answer() external pure returns (uint256) { return 42; }
}
"""

BROKEN = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
contract Broken {
    function f() external pure returns (uint256) {
        return undefinedThing;
    }
}
"""


def test_shim_reports_version_the_way_solcx_expects() -> None:
    version = compiler.solc_version()
    assert version.startswith("0.8.30+commit.")


def test_artifacts_carry_abi_bytecode_version_and_source_hash(tmp_path: Path) -> None:
    src = tmp_path / "contracts"
    src.mkdir()
    (src / "Good.sol").write_text(GOOD)
    arts = compile_contracts(src, tmp_path / "build")
    good = arts["Good"]
    assert good.bytecode.startswith("0x6080")
    assert len(good.deployed_bytecode) > 10
    assert {i["name"] for i in good.abi if i["type"] == "function"} >= {"answer", "owner"}
    assert good.compiler_version.startswith("0.8.30")
    assert good.source_hash.startswith("0x")
    on_disk = json.loads((tmp_path / "build" / "Good.json").read_text())
    assert on_disk["abi"] == good.abi
    assert load_artifacts(tmp_path / "build")["Good"] == good


def test_second_compile_of_unchanged_sources_uses_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "contracts"
    src.mkdir()
    (src / "Good.sol").write_text(GOOD)
    first = compile_contracts(src, tmp_path / "build")

    def _no_compiler(*_a: object, **_k: object) -> None:
        raise AssertionError("the compiler ran although nothing changed")

    monkeypatch.setattr(solcx, "compile_standard", _no_compiler)
    second = compile_contracts(src, tmp_path / "build")
    assert second == first


def test_changed_source_is_recompiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "contracts"
    src.mkdir()
    (src / "Good.sol").write_text(GOOD)
    compile_contracts(src, tmp_path / "build")
    (src / "Good.sol").write_text(GOOD.replace("42", "43"))
    calls = []
    real = solcx.compile_standard

    def _spy(*a: object, **k: object) -> object:
        calls.append(1)
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(solcx, "compile_standard", _spy)
    compile_contracts(src, tmp_path / "build")
    assert calls == [1]


def test_broken_contract_raises_error_naming_file_line_and_message(tmp_path: Path) -> None:
    src = tmp_path / "contracts"
    src.mkdir()
    (src / "Broken.sol").write_text(BROKEN)
    with pytest.raises(CompilationError) as info:
        compile_contracts(src, tmp_path / "build")
    err = info.value.errors[0]
    assert err.file.endswith("Broken.sol")
    assert err.line == 5
    assert "undefinedThing" in err.message
    assert "Broken.sol:5:" in str(info.value)
    assert not (tmp_path / "build" / ".cache-key").exists()


def test_project_contracts_compile_for_prague(artifacts: dict[str, compiler.Artifact]) -> None:
    assert "AnchorRegistry" in artifacts
    assert compiler.EVM_VERSION == "prague"
