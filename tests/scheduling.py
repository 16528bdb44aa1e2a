"""How ``make test`` spreads the suite over pytest-xdist workers (``--dist loadgroup``).

Two rules, applied by :class:`SharedSetupScheduling`:

- The tests of a module that shares a module-, class- or package-scoped fixture
  (a seeded world, a live server, a browser, a private anvil) form one unit and
  run in one worker, so that set-up is paid once. The workers find these modules
  while collecting (:func:`shared_setup_modules`) and write them to a file the
  controller names; xdist's own ``xdist_group`` suffix on node ids no longer
  reaches its scheduler with pytest 9.2 (pytest-dev/pytest-xdist#1386).
- Units go out longest first: the shared set-ups, then integration tests and
  tests on anvil or PostgreSQL, then the rest in collection order, so that the
  run ends on short tests and both workers finish together.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import OrderedDict
from pathlib import Path

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadScopeScheduling
from xdist.workermanage import WorkerController

SHARED_SCOPES = frozenset({"module", "class", "package"})
# The key of the controller's file name in each worker's ``workerinput``.
GROUPS_FILE_KEY = "waymark_shared_setup_file"
_GROUPS_FILE = pytest.StashKey[Path]()


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def shared_setup_modules(items: list[pytest.Item]) -> list[str]:
    """The modules with a test that uses a fixture wider than a function."""
    modules: set[str] = set()
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        scopes = {d.scope for defs in info.name2fixturedefs.values() for d in defs}
        if scopes & SHARED_SCOPES:
            modules.add(module_of(item.nodeid))
    return sorted(modules)


def write_shared_setup_modules(path: Path, modules: list[str]) -> None:
    """Written by every worker (the same list); the rename keeps a reader from a half file."""
    partial = path.with_name(f"{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(modules))
    partial.replace(path)


def unit_cost(scope: str, nodeids: list[str], shared: bool) -> int:
    """A rough rank of a unit's length: shared set-ups, then slow kinds of test, then the rest."""
    if shared:
        return 1000 + len(nodeids)
    nodeid = nodeids[0]
    if nodeid.startswith("tests/integration/"):
        return 10
    if "anvil" in nodeid or "postgresql" in nodeid:
        return 5
    return 1


class SharedSetupScheduling(LoadScopeScheduling):
    """``loadscope`` with a unit per shared-set-up module and one per other test, longest first."""

    def __init__(self, config: pytest.Config, groups_file: Path, log: Producer | None = None):
        super().__init__(config, log)
        self.groups_file = groups_file
        self._shared: frozenset[str] | None = None

    @property
    def shared(self) -> frozenset[str]:
        if self._shared is None:
            # Every worker writes the file before it reports its collection; none
            # wrote it only when collection failed, and then nothing is scheduled.
            try:
                self._shared = frozenset(json.loads(self.groups_file.read_text()))
            except FileNotFoundError:
                self._shared = frozenset()
        return self._shared

    def _split_scope(self, nodeid: str) -> str:
        module = module_of(nodeid)
        return module if module in self.shared else nodeid

    def schedule(self) -> None:
        """LoadScopeScheduling.schedule with the work queue ordered by :func:`unit_cost`."""
        assert self.collection_is_completed
        if self.collection is not None:
            for node in self.nodes:
                self._reschedule(node)
            return
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return
        self.collection = list(next(iter(self.registered_collections.values())))
        if not self.collection:
            return

        units: dict[str, dict[str, bool]] = {}
        for nodeid in self.collection:
            units.setdefault(self._split_scope(nodeid), {})[nodeid] = False
        ranked = sorted(
            units.items(),
            key=lambda unit: -unit_cost(unit[0], list(unit[1]), unit[0] in self.shared),
        )
        self.workqueue = OrderedDict(ranked)

        for _ in range(len(self.nodes) - len(self.workqueue)):
            unused, _assigned = self.assigned_work.popitem()
            unused.shutdown()
        for node in self.nodes:
            if self.workqueue:
                self._assign_work_unit(node)
        for node in self.nodes:
            self._reschedule(node)
        if not self.workqueue:
            for node in self.nodes:
                node.shutdown()


# The hooks (tests/conftest.py imports them).


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(
    config: pytest.Config, log: Producer
) -> SharedSetupScheduling | None:
    """``--dist loadgroup`` (``make test``) schedules with :class:`SharedSetupScheduling`."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return SharedSetupScheduling(config, _groups_file(config), log)


def _groups_file(config: pytest.Config) -> Path:
    path: Path | None = config.stash.get(_GROUPS_FILE, None)
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="waymark-xdist-")) / "shared-setup.json"
        config.stash[_GROUPS_FILE] = path
    return path


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: WorkerController) -> None:
    node.workerinput[GROUPS_FILE_KEY] = str(_groups_file(node.config))


def pytest_unconfigure(config: pytest.Config) -> None:
    path = config.stash.get(_GROUPS_FILE, None)
    if path is not None:
        shutil.rmtree(path.parent, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker: tell the controller which modules share a set-up."""
    target = getattr(config, "workerinput", {}).get(GROUPS_FILE_KEY)
    if target:
        write_shared_setup_modules(Path(target), shared_setup_modules(items))
