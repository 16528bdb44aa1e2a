"""Start and stop a local anvil node bound to loopback, with its state in a temp dir."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from backend.paths import NODE_MODULES

ANVIL_BIN = NODE_MODULES / ".bin" / "anvil"
DEFAULT_CHAIN_ID = 31337


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _native_binary() -> Path:
    # The npm wrapper is a node script that spawns the platform binary; running
    # the binary directly makes kill/stop reach the node itself.
    for candidate in sorted((NODE_MODULES / "@foundry-rs").glob("anvil-*/bin/anvil")):
        if os.access(candidate, os.X_OK):
            return candidate
    return ANVIL_BIN


@dataclass
class AnvilNode:
    """A running anvil process; use as a context manager or call ``stop``."""

    port: int
    chain_id: int = DEFAULT_CHAIN_ID
    block_time: float | None = None
    proc: subprocess.Popen[bytes] | None = None
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="waymark-anvil-")))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> AnvilNode:
        home = self.workdir / "home"
        home.mkdir(parents=True, exist_ok=True)
        args = [
            str(_native_binary()),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
            "--prune-history",
            "--silent",
            "--hardfork",
            "prague",
        ]
        if self.block_time:
            # Interval blocks keep the chain's clock near the wall clock; mixed mining
            # still mines each transaction at once.
            args += ["--block-time", str(self.block_time), "--mixed-mining"]
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "NO_COLOR": "1"}
        log = (self.workdir / "anvil.log").open("ab")
        self.proc = subprocess.Popen(
            args, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"anvil exited with {self.proc.returncode}: {self.log_tail()}")
            if self.is_up():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"anvil did not answer on {self.url} within {timeout}s")

    def is_up(self) -> bool:
        body = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
        req = urllib.request.Request(  # noqa: S310 - loopback URL we built
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=1) as resp:  # noqa: S310
                return bool(resp.status == 200)
        except OSError:
            return False

    def pause(self) -> None:
        """SIGSTOP: the node stops answering but keeps its state (an outage)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, n: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return (self.workdir / "anvil.log").read_text(errors="replace")[-n:]
        return ""

    def __enter__(self) -> AnvilNode:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_anvil(port: int | None = None, **kwargs: object) -> AnvilNode:
    """Start anvil on ``port`` (a free one by default) and wait until it answers."""
    return AnvilNode(port=port or free_port(), **kwargs).start()  # type: ignore[arg-type]
