"""The background loop every worker runs: step, and rest when a round did nothing.

A chain error is logged as a warning (the node is away; the next round tries
again), anything else with its traceback; neither stops the loop.
"""

from __future__ import annotations

import logging
import threading

from backend.chain import ChainError

log = logging.getLogger(__name__)


class Loop:
    """``step()`` does one round (the work done, 0 for none); ``start()`` loops in a daemon thread."""

    #: The thread's name, also the prefix of the loop's log lines.
    thread_name = "worker"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0

    def step(self) -> int:
        raise NotImplementedError

    def interval(self) -> float:
        """Seconds to rest after a round that did nothing."""
        raise NotImplementedError

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                progressed = self.step()
            except ChainError as exc:
                self.errors += 1
                log.warning("%s: chain error: %s", self.thread_name, exc)
                progressed = 0
            except Exception:
                self.errors += 1
                log.exception("%s: step failed", self.thread_name)
                progressed = 0
            if not progressed:
                self._stop.wait(self.interval())

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
