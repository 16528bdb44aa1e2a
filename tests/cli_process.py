"""Run ``waymark`` commands as real processes without paying Python's start-up each time.

A *zygote* process per test process (each xdist worker has its own) imports
``backend.cli`` and every command's modules once, then forks one child per
command. The child is a separate process like ``python -m backend.cli``: its
own argv, environment, working directory, stdin, stdout and stderr, and it runs
the same entry point, :func:`backend.cli.main`, so exit codes and the one-line
failure messages are the ones users see. :func:`run_cli` returns a
``subprocess.CompletedProcess`` and raises ``subprocess.TimeoutExpired`` (after
killing the child) as ``subprocess.run`` does.

The zygote speaks JSON lines on its stdin/stdout: a request names the files the
child's standard streams are bound to; the answer is the child's pid, then its
exit status. Nothing in ``backend.cli`` reads the environment at import time
(a forked child would otherwise see the zygote's values).
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backend.paths import PROJECT_ROOT

# Loaded before forking: the CLI, every command group, and what the commands load
# when they run (web3 and the chain clients, the key library, the verifier).
PRELOAD = (
    "backend.chain.client",
    "backend.chain.deployments",
    "backend.chain.factory",
    "backend.cli.chainio",
    "backend.cli.client",
    "backend.qr.bundle.verify",
    "eth_account",
)


def _exit_status(exc: SystemExit) -> int:
    """The status ``python`` exits with for ``SystemExit(code)``."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become the command's process and run ``main()``; never returns."""
    status = 1
    try:
        for fd, (path, mode) in enumerate(
            [
                (request["stdin"], os.O_RDONLY),
                (request["stdout"], os.O_WRONLY),
                (request["stderr"], os.O_WRONLY),
            ]
        ):
            opened = os.open(path, mode)
            os.dup2(opened, fd)
            os.close(opened)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["waymark", *request["args"]]
        from backend.cli import main

        try:
            main()
            status = 0
        except SystemExit as exc:
            status = _exit_status(exc)
        except BaseException:  # as the interpreter would: a traceback and status 1
            import traceback

            traceback.print_exc()
            status = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                status = status or 120
        os._exit(status)


def serve() -> None:
    """The zygote's loop: preload, then fork a child per request line on stdin."""
    import importlib

    import click

    from backend.cli import cli

    # ``-c`` put "" (the working directory) first on the path; children chdir, so pin it.
    sys.path = [p or os.getcwd() for p in sys.path]
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        cli.get_command(ctx, name)
    for module in PRELOAD:
        importlib.import_module(module)
    protocol_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    protocol_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)  # children re-bind their own streams; the zygote keeps none
    os.dup2(null, 1)

    def send(message: dict[str, Any]) -> None:
        protocol_out.write(json.dumps(message) + "\n")
        protocol_out.flush()

    send({"ready": True})
    for line in protocol_in:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            protocol_in.close()
            protocol_out.close()
            _child(request)
        send({"pid": pid})
        _, wait_status = os.waitpid(pid, 0)
        send({"returncode": os.waitstatus_to_exitcode(wait_status)})


class _Zygote:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from tests.cli_process import serve; serve()"],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        self.buffer = b""
        assert self._read(None) == {"ready": True}, "the CLI zygote did not start"

    def _read(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message, or ``None`` when ``timeout`` seconds pass without one."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"the CLI zygote exited ({self.proc.poll()})")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return dict(json.loads(line))

    def run(self, request: dict[str, Any], timeout: float | None) -> tuple[int, bool]:
        """Run one command; its exit status and whether it was killed for the timeout."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        started = self._read(None)
        assert started is not None
        pid = int(started["pid"])
        finished = self._read(timeout)
        if finished is not None:
            return int(finished["returncode"]), False
        os.kill(pid, signal.SIGKILL)
        finished = self._read(None)
        assert finished is not None
        return int(finished["returncode"]), True

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_zygote: _Zygote | None = None


def _get_zygote() -> _Zygote:
    global _zygote
    if _zygote is None or _zygote.proc.poll() is not None:
        _zygote = _Zygote()
        atexit.register(_zygote.close)
    return _zygote


def run_cli(
    args: list[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    input: str | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """``waymark *args`` in a fresh forked process, like ``subprocess.run(..., text=True,
    capture_output=True)``: stdout, stderr and the exit status of ``backend.cli.main()``."""
    with tempfile.TemporaryDirectory(prefix="waymark-cli-") as tmp:
        streams = {name: Path(tmp) / name for name in ("stdin", "stdout", "stderr")}
        streams["stdin"].write_text(input or "", encoding="utf-8")
        streams["stdout"].touch()
        streams["stderr"].touch()
        request = {
            "args": list(args),
            "env": dict(os.environ if env is None else env),
            "cwd": str(Path.cwd() if cwd is None else cwd),
            **{name: str(path) for name, path in streams.items()},
        }
        returncode, killed = _get_zygote().run(request, timeout)
        stdout = streams["stdout"].read_text(encoding="utf-8", errors="replace")
        stderr = streams["stderr"].read_text(encoding="utf-8", errors="replace")
    command = ["waymark", *args]
    if killed:
        assert timeout is not None
        raise subprocess.TimeoutExpired(command, timeout, output=stdout, stderr=stderr)
    return subprocess.CompletedProcess(command, returncode, stdout, stderr)
