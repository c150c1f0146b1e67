"""The local webhook sink that `make up` starts: it records every POST and whether its
HMAC signature verified, so a developer sees webhooks the way they see e-mails."""

from __future__ import annotations

import json
import time
import urllib.request

from notify.adapters.smtp_sink import start_webhook_sink
from notify.adapters.webhook import sign
from support.stack import free_port

SECRET = "a-test-secret"


def post(port: int, body: bytes, signature: str, ts: str) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/hooks/owner", data=body, method="POST",
                                 headers={"X-Casestream-Timestamp": ts, "X-Casestream-Signature": signature})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status


def test_the_sink_records_each_post_and_checks_its_signature(tmp_path):
    port = free_port()
    server = start_webhook_sink(tmp_path, SECRET, port=port)
    try:
        ts = str(int(time.time()))
        assert post(port, b'{"n": 1}', sign(SECRET, ts, b'{"n": 1}'), ts) == 204
        assert post(port, b'{"n": 2}', sign("another-secret", ts, b'{"n": 2}'), ts) == 204
    finally:
        server.shutdown()
    records = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*.json"))]
    assert [(json.loads(r["body"])["n"], r["signature_valid"], r["path"]) for r in records] == \
        [(1, True, "/hooks/owner"), (2, False, "/hooks/owner")]
