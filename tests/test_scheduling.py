"""``make test``'s distribution: a module sharing a module-scoped fixture runs in one worker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from backend.paths import PROJECT_ROOT

CONFTEST = """
from tests.scheduling import (
    pytest_collection_modifyitems,
    pytest_configure_node,
    pytest_unconfigure,
    pytest_xdist_make_scheduler,
)
"""

SHARED = """
import pytest

@pytest.fixture(scope="module")
def server():
    return object()

@pytest.mark.parametrize("n", range(6))
def test_uses_the_server(server, n):
    pass

def test_beside_it():
    pass
"""

OTHER = """
import pytest

@pytest.mark.parametrize("n", range(6))
def test_alone(n):
    pass
"""


def test_a_module_with_a_module_fixture_runs_in_one_worker(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_other.py").write_text(OTHER)
    (tmp_path / "test_shared.py").write_text(SHARED)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v",
         "-p", "no:cacheprovider", "--rootdir", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    workers: dict[str, set[str]] = defaultdict(set)
    for worker, module in re.findall(r"\[(gw\d)\].*PASSED (test_\w+)\.py::", run.stdout):
        workers[module].add(worker)
    assert len(workers["test_shared"]) == 1, run.stdout
    # The shared module is the longest unit: it goes out first, the single tests fill the other worker.
    assert workers["test_other"] - workers["test_shared"], run.stdout
