"""A local SMTP sink for development and tests: every message lands in a .eml file.

    python -m notify.adapters.smtp_sink                      # as `make up` starts it
    python -m notify.adapters.smtp_sink --port 8025 --dir /tmp/mail

Without arguments the port comes from CASESTREAM_SMTP_PORT (default 8025), the host from
CASESTREAM_SMTP_HOST (default 127.0.0.1) and the directory from CASESTREAM_SMTP_SINK_DIR
(default `<CASESTREAM_RUN_DIR>/mail`). File names start with the receive time in
nanoseconds since the epoch.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class EmlDirectoryHandler:
    """Writes each received message, as received, to `<dir>/<n>-<hash>.eml`."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        with self._lock:
            self._count += 1
            name = f"{time.time_ns()}-{self._count:06d}-{hashlib.sha256(content).hexdigest()[:12]}.eml"
        tmp = self.directory / (name + ".part")
        tmp.write_bytes(content)
        tmp.rename(self.directory / name)  # readers never see a half-written file
        return "250 Message accepted for delivery"


def start_sink(directory: str | Path, host: str = "127.0.0.1", port: int = 8025) -> Controller:
    """Start the sink in a background thread; call `.stop()` on the result to end it."""
    controller = Controller(EmlDirectoryHandler(directory), hostname=host, port=port)
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local SMTP sink writing .eml files")
    env = os.environ
    default_dir = env.get("CASESTREAM_SMTP_SINK_DIR") or str(Path(env.get("CASESTREAM_RUN_DIR", ".run")) / "mail")
    parser.add_argument("--host", default=env.get("CASESTREAM_SMTP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env.get("CASESTREAM_SMTP_PORT", "8025")))
    parser.add_argument("--dir", default=default_dir, help=f"directory to write .eml files into (default {default_dir})")
    args = parser.parse_args(argv)
    controller = start_sink(args.dir, args.host, args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"smtp sink listening on {args.host}:{args.port}, writing to {args.dir}", flush=True)
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
