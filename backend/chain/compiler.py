"""Compile ``contracts/`` with solc-js through py-solc-x, cached in ``build/``.

The npm ``solc`` package is driven by ``scripts/solc-shim.js``, which answers
``--version`` and ``--standard-json`` like a native binary. Artifacts are
written one JSON file per contract; a key over sources, settings and compiler
identity decides whether the previous build can be reused.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx
from solcx.exceptions import SolcError
from solcx.wrapper import get_solc_version

from backend.paths import BUILD_DIR, CONTRACTS_DIR, NODE_MODULES, PROJECT_ROOT, SOLC_SHIM

EVM_VERSION = "prague"  # eth-tester's default VM and anvil's default hardfork
OPTIMIZER_RUNS = 200
SETTINGS_FORMAT = 1  # bump when the artifact layout changes
OUTPUT_SELECTION = [
    "abi",
    "evm.bytecode.object",
    "evm.deployedBytecode.object",
    "evm.methodIdentifiers",
]


class CompilationError(Exception):
    """Solidity did not compile; ``errors`` holds each located diagnostic."""

    def __init__(self, errors: list[SourceError]) -> None:
        self.errors = errors
        first = errors[0] if errors else None
        summary = str(first) if first else "compilation failed"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(summary + more)


@dataclass(frozen=True)
class SourceError:
    """One compiler error with its place in the source."""

    file: str
    line: int
    column: int
    message: str
    kind: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.kind}: {self.message}"


@dataclass(frozen=True)
class Artifact:
    """A compiled contract as written to ``build/``."""

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    method_identifiers: dict[str, str]
    compiler_version: str
    source_hash: str

    @property
    def abi_hash(self) -> str:
        """Hash of the canonical ABI JSON, recorded in deployment manifests."""
        blob = json.dumps(self.abi, sort_keys=True, separators=(",", ":")).encode()
        return "0x" + hashlib.sha256(blob).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "contractName": self.name,
            "sourceName": self.source,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
            "methodIdentifiers": self.method_identifiers,
            "compilerVersion": self.compiler_version,
            "sourceHash": self.source_hash,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        return cls(
            name=data["contractName"],
            source=data["sourceName"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
            method_identifiers=data["methodIdentifiers"],
            compiler_version=data["compilerVersion"],
            source_hash=data["sourceHash"],
        )


def solc_version() -> str:
    """The full version string of the npm solc behind the shim."""
    return str(get_solc_version(SOLC_SHIM, with_commit_hash=True))


def _sources(contracts_dir: Path) -> dict[str, str]:
    files = sorted(p for p in contracts_dir.rglob("*.sol") if p.is_file())
    return {_source_name(p, contracts_dir): p.read_text(encoding="utf-8") for p in files}


def _source_name(path: Path, contracts_dir: Path) -> str:
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return (Path("contracts") / path.relative_to(contracts_dir)).as_posix()


def _input(sources: dict[str, str]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": EVM_VERSION,
            "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
            "outputSelection": {"*": {"*": OUTPUT_SELECTION}},
        },
    }


def _oz_version() -> str:
    manifest = NODE_MODULES / "@openzeppelin" / "contracts" / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else "missing"


def _cache_key(sources: dict[str, str]) -> str:
    # The shim's own text stands in for the compiler identity: reading the
    # version would start node, which costs more than the whole cache check.
    solc_pkg = NODE_MODULES / "solc" / "package.json"
    ident = {
        "format": SETTINGS_FORMAT,
        "settings": _input({})["settings"],
        "sources": {
            name: hashlib.sha256(text.encode()).hexdigest() for name, text in sources.items()
        },
        "solc": json.loads(solc_pkg.read_text())["version"] if solc_pkg.exists() else "missing",
        "shim": hashlib.sha256(SOLC_SHIM.read_bytes()).hexdigest(),
        "openzeppelin": _oz_version(),
    }
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()


def _line_col(text: str, offset: int) -> tuple[int, int]:
    before = text.encode("utf-8")[: max(offset, 0)].decode("utf-8", errors="ignore")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return line, column


def _source_errors(raw: list[dict[str, Any]], sources: dict[str, str]) -> list[SourceError]:
    out = []
    for err in raw:
        if err.get("severity") != "error":
            continue
        loc = err.get("sourceLocation") or {}
        file = loc.get("file", "<input>")
        text = sources.get(file, "")
        line, column = _line_col(text, loc.get("start", 0)) if loc else (0, 0)
        message = err.get("message", "")
        span = text.encode("utf-8")[loc.get("start", 0) : loc.get("end", 0)] if loc else b""
        snippet = span.decode("utf-8", errors="replace").strip()
        if snippet and len(snippet) <= 80 and "\n" not in snippet:
            message = f"{message} (at `{snippet}`)"
        out.append(SourceError(file, line, column, message, err.get("type", "Error")))
    return out


def compile_contracts(
    contracts_dir: Path = CONTRACTS_DIR, build_dir: Path = BUILD_DIR, *, force: bool = False
) -> dict[str, Artifact]:
    """Compile every ``.sol`` under ``contracts_dir``; reuse ``build_dir`` when unchanged."""
    sources = _sources(contracts_dir)
    if not sources:
        raise CompilationError([SourceError(str(contracts_dir), 0, 0, "no .sol files", "IOError")])
    key = _cache_key(sources)
    stamp = build_dir / ".cache-key"
    with _build_lock(build_dir):
        if not force and stamp.exists() and stamp.read_text() == key:
            return load_artifacts(build_dir)
        return _compile_into(build_dir, sources, key)


@contextlib.contextmanager
def _build_lock(build_dir: Path) -> Iterator[None]:
    """One compile or cache read per build directory at a time (parallel test workers)."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with (build_dir / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _compile_into(build_dir: Path, sources: dict[str, str], key: str) -> dict[str, Artifact]:
    try:
        output = solcx.compile_standard(
            _input(sources),
            solc_binary=SOLC_SHIM,
            base_path=str(PROJECT_ROOT),
            allow_paths=[str(PROJECT_ROOT), str(NODE_MODULES)],
        )
    except SolcError as exc:
        raise CompilationError(_source_errors(list(exc.error_dict or []), sources)) from exc
    except (OSError, subprocess.SubprocessError) as exc:
        raise CompilationError([SourceError(str(SOLC_SHIM), 0, 0, str(exc), "ShimError")]) from exc

    version = solc_version()
    artifacts: dict[str, Artifact] = {}
    for source_name, contracts in output.get("contracts", {}).items():
        if source_name not in sources:
            continue  # libraries pulled in from node_modules
        source_hash = "0x" + hashlib.sha256(sources[source_name].encode()).hexdigest()
        for name, data in contracts.items():
            if name in artifacts:
                raise CompilationError(
                    [SourceError(source_name, 0, 0, f"duplicate contract name {name}", "NameClash")]
                )
            artifacts[name] = Artifact(
                name=name,
                source=source_name,
                abi=data["abi"],
                bytecode="0x" + data["evm"]["bytecode"]["object"],
                deployed_bytecode="0x" + data["evm"]["deployedBytecode"]["object"],
                method_identifiers=data["evm"].get("methodIdentifiers", {}),
                compiler_version=version,
                source_hash=source_hash,
            )

    for old in build_dir.glob("*.json"):
        old.unlink()
    for art in artifacts.values():
        tmp = build_dir / f".{art.name}.json.tmp"
        tmp.write_text(json.dumps(art.to_json(), indent=1))
        os.replace(tmp, build_dir / f"{art.name}.json")
    (build_dir / ".cache-key").write_text(key)
    return artifacts


def load_artifacts(build_dir: Path = BUILD_DIR) -> dict[str, Artifact]:
    """Read previously written artifacts."""
    out = {}
    for path in sorted(build_dir.glob("*.json")):
        art = Artifact.from_json(json.loads(path.read_text()))
        out[art.name] = art
    return out
