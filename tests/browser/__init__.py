"""Headless Chromium (the Debian package) driven through npm playwright-core."""

from __future__ import annotations

import atexit
import contextlib
import json
import queue
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from PIL import Image

from backend.paths import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
DRIVER = Path(__file__).resolve().parent / "driver.js"
PHONE = (390, 844)
DESKTOP = (1440, 900)


@dataclass
class Visit:
    results: list[dict[str, Any]]
    requests: list[str]

    def values(self, step: str) -> list[Any]:
        return [r.get("value") for r in self.results if r["step"] == step]

    @property
    def status(self) -> int | None:
        return self.results[0].get("status")


class _Driver:
    """One long-lived ``node driver.js``: Chromium starts once per test process
    and every visit runs in a fresh browser context of it (its own cookies, storage,
    permissions and network), so a visit is isolated as if it had its own browser but
    does not pay for starting Node and Chromium."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        # The driver's stderr, read when it dies; open as long as the driver may run.
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115

    def _start(self) -> subprocess.Popen[str]:
        if self.proc is not None and self.proc.poll() is None:
            return self.proc
        self.lines = queue.Queue()
        self.proc = subprocess.Popen(
            ["node", str(DRIVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            cwd=PROJECT_ROOT,
        )
        threading.Thread(target=self._read, args=(self.proc, self.lines), daemon=True).start()
        return self.proc

    @staticmethod
    def _read(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def run(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        proc = self._start()
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
            line = self.lines.get(timeout=timeout)
        except (OSError, queue.Empty) as exc:
            self.stop(kill=True)
            raise AssertionError(f"browser run failed for {job['url']}: {exc!r}") from exc
        if line is None:
            self.stop(kill=True)
            self.stderr.seek(0)
            tail = self.stderr.read()[-2000:]
            raise AssertionError(f"browser run failed for {job['url']}: driver exited: {tail}")
        out: dict[str, Any] = json.loads(line)
        if "error" in out:
            raise AssertionError(f"browser run failed for {job['url']}: {out['error'][-2000:]}")
        return out

    def stop(self, *, kill: bool = False) -> None:
        """End the driver: at exit by closing its input (it closes Chromium and exits),
        after a failure by killing it, so the next visit starts a new one."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if kill:
            proc.kill()
        elif proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_DRIVER = _Driver()
atexit.register(_DRIVER.stop)


def visit(
    url: str,
    steps: list[dict[str, Any]] | None = None,
    *,
    viewport: tuple[int, int] = PHONE,
    timezone: str = "UTC",
    headers: dict[str, str] | None = None,
    wallet: dict[str, Any] | None = None,
    storage_in: Path | None = None,
    storage_out: Path | None = None,
    camera: Path | None = None,
) -> Visit:
    """Open ``url`` in headless Chromium, run ``steps`` (see driver.js), return what they read.

    ``storage_in``/``storage_out``: the browser's cookies and localStorage are read
    from / saved to that file, so a later visit is the same phone opened again.
    ``camera``: a Y4M video the page's camera shows (see :func:`camera_from_image`).
    """
    assert CHROMIUM is not None
    job = {
        "executable": CHROMIUM,
        "url": url,
        "viewport": list(viewport),
        "timezone": timezone,
        "headers": headers or {},
        "steps": steps or [],
        "wallet": wallet,
        "storageIn": str(storage_in) if storage_in else None,
        "storageOut": str(storage_out) if storage_out else None,
    }
    if camera is not None:
        # Chromium's fake capture device plays this Y4M file in a loop as the camera.
        job["launchArgs"] = [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}",
        ]
        job["permissions"] = ["camera"]
    out = _DRIVER.run(job, timeout=180)
    return Visit(out["results"], out["requests"])


def shot(name: str, size: tuple[int, int]) -> dict[str, Any]:
    """A screenshot step writing ``test-artifacts/<name>-<w>x<h>.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    return {"screenshot": str(ARTIFACTS / f"{name}-{size[0]}x{size[1]}.png"), "fullPage": True}


def camera_from_image(image: Path, out: Path, *, size: tuple[int, int] = (640, 480)) -> Path:
    """A Y4M video (4:2:0, a few identical frames) of ``image`` centred on white, for
    Chromium's ``--use-file-for-fake-video-capture``."""
    width, height = size
    frame = Image.new("RGB", size, "white")
    with Image.open(image) as picture:
        picture = picture.convert("RGB")
        picture.thumbnail((width - 40, height - 40))
        frame.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    out.write_bytes(header + b"FRAME\n".join([b""] + [planes] * 10))
    return out


def run_chromium(url: str, tmp_path: Path, *extra: str) -> str:
    """Chromium's own headless command line on ``url`` (``--dump-dom``, ``--screenshot=``)."""
    assert CHROMIUM is not None
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=390,844",
        *extra,
        url,
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=90, check=True)
    return done.stdout


def visible_text(dom: str) -> str:
    """The text a person sees in ``dom``: no head, style or script, whitespace collapsed."""

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("style", "script", "head"):
                self.skip += 1

        def handle_endtag(self, tag: str) -> None:
            if tag in ("style", "script", "head"):
                self.skip -= 1

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(dom)
    return " ".join(" ".join(parser.parts).split())
