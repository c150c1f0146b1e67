"""Local sinks for development and tests: every e-mail lands in a .eml file, every webhook
POST in a .json file (with whether its HMAC signature verified).

    python -m notify.adapters.smtp_sink                      # as `make up` starts it
    python -m notify.adapters.smtp_sink --port 8025 --dir /tmp/mail

Without arguments the port comes from CASESTREAM_SMTP_PORT (default 8025), the host from
CASESTREAM_SMTP_HOST (default 127.0.0.1) and the directory from CASESTREAM_SMTP_SINK_DIR
(default `<CASESTREAM_RUN_DIR>/mail`). Webhooks are received on CASESTREAM_WEBHOOK_SINK_PORT
(default 8088) and written to `<dir>/webhooks/`. File names start with the receive time in
nanoseconds since the epoch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


class _WebhookHandler(BaseHTTPRequestHandler):
    directory: Path
    secret: str

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        from notify.adapters.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ts, sig = self.headers.get(TIMESTAMP_HEADER, ""), self.headers.get(SIGNATURE_HEADER, "")
        try:
            valid = verify_signature(self.secret, ts, body, sig, time.time())
        except Exception:
            valid = False
        record = {"path": self.path, "timestamp": ts, "signature_valid": valid,
                  "headers": dict(self.headers.items()), "body": body.decode("utf-8", "replace")}
        name = f"{time.time_ns()}-{hashlib.sha256(body).hexdigest()[:12]}.json"
        tmp = self.directory / (name + ".part")
        tmp.write_text(json.dumps(record, indent=2))
        tmp.rename(self.directory / name)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def start_webhook_sink(directory: str | Path, secret: str, host: str = "127.0.0.1", port: int = 8088) -> Any:
    """Serve webhook POSTs in a background thread; `.shutdown()` on the result ends it."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    handler = type("WebhookHandler", (_WebhookHandler,), {"directory": d, "secret": secret})
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="webhook-sink").start()
    return server


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
    hook_port = int(env.get("CASESTREAM_WEBHOOK_SINK_PORT", "8088"))
    try:
        from notify.config import DEV_WEBHOOK_SECRET

        hooks = start_webhook_sink(Path(args.dir) / "webhooks", env.get("CASESTREAM_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET),
                                   args.host, hook_port)
        print(f"webhook sink listening on {args.host}:{hook_port}, writing to {args.dir}/webhooks", flush=True)
    except OSError as e:  # another stack's sink has the port: e-mail still works
        hooks = None
        print(f"webhook sink not started on {args.host}:{hook_port}: {e}", flush=True)
    stop.wait()
    controller.stop()
    if hooks is not None:
        hooks.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
