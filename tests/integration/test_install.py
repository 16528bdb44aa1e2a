"""``pip install .`` (no extras) into a fresh virtualenv gives a ``waymark`` command that starts.

The runtime dependencies in ``pyproject.toml`` must cover everything the CLI
imports; the dev extras (pytest, hypothesis, …) are not installed here. pip's
wheel cache is shared with the developer's, so a rerun resolves from local
wheels and the machine's package index without building anything again.

The virtualenv is made without pip (and so without the setuptools Python 3.11
seeds it with, which would hide a missing runtime dependency on it); the
project's own pip installs into it with ``--python``, and skips byte-compiling
the installed packages, which only makes later imports faster.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backend.paths import PROJECT_ROOT

pytestmark = pytest.mark.install


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def _source_tree(dest: Path) -> Path:
    """What an sdist holds: the build files and the package (the build writes in this copy)."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT_ROOT / name, dest / name)
    shutil.copytree(
        PROJECT_ROOT / "backend", dest / "backend", ignore=shutil.ignore_patterns("__pycache__")
    )
    return dest


def test_clean_install_gives_a_working_cli(tmp_path: Path) -> None:
    source = _source_tree(tmp_path / "src")
    venv = tmp_path / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    pip = _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
               "--no-compile", source, cwd=tmp_path)  # fmt: skip
    assert pip.returncode == 0, pip.stderr[-3000:]
    dev_only = _run(python, "-c", "import pytest", cwd=tmp_path)
    assert dev_only.returncode != 0, "the fresh environment must not hold the dev extras"

    waymark = venv / "bin" / "waymark"
    top = _run(waymark, "--help", cwd=tmp_path)
    assert top.returncode == 0, top.stderr
    assert "proof" in top.stdout
    verify = _run(waymark, "proof", "verify", "--help", cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr
    assert "--rpc" in verify.stdout
