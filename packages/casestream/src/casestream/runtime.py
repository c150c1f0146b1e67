"""Process life cycle shared by every service: SIGTERM/SIGINT set one stop event, worker
threads finish their batch in flight and return."""

from __future__ import annotations

import gc
import signal
import threading
from typing import Any, Sequence


def shutdown_event() -> threading.Event:
    stop = threading.Event()

    def _handler(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    return stop


def run_threads(threads: Sequence[threading.Thread], stop: threading.Event, log: Any) -> bool:
    """Start the threads; if any non-daemon one dies, stop the rest. True if none died."""
    workers = [t for t in threads if not t.daemon]
    for t in threads:
        t.start()
    clean = True
    while not stop.wait(0.5):
        dead = [t.name for t in workers if not t.is_alive()]
        if dead:
            log.error("worker_died", threads=dead)
            clean = False
            stop.set()
    for t in workers:
        t.join(timeout=30)
    return clean


def freeze_gc(stop: threading.Event, every_s: float = 10.0) -> None:
    """Move everything alive into the cycle collector's permanent generation now and every
    `every_s` until `stop` (run it in a daemon thread).

    For processes whose state only grows (intake's case projection and sequencer state): a
    full collection otherwise walks every stored object while a request waits. Measured on
    intake's GetCase at 2,000 QPS: p99 9-12 ms before, 2.4-2.8 ms after."""
    gc.freeze()
    while not stop.wait(every_s):
        gc.freeze()
