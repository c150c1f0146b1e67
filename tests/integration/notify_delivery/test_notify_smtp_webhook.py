"""Delivery against real local servers: aiosmtpd (via our sink) and http.server.

Loopback only. Retries use an injected no-op sleep, so the dead-endpoint cases are fast.
"""

from __future__ import annotations

import email
import json
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from casestream.facts import Fact

from notify.adapters.config_files import load_directory, load_rules
from notify.adapters.delivery_log import SqliteDeliveryLog
from notify.adapters.smtp import SmtpSender
from notify.adapters.smtp_sink import start_sink
from notify.adapters.templates import TemplateLibrary
from notify.adapters.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, verify_signature
from notify.domain.delivery import RetryPolicy
from notify.service_layer.service import NOTIFICATION_FAILED, NOTIFICATION_SENT, NotifyService

SECRET = "test-webhook-secret"
T0 = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
POLICY = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A real HTTP server in a thread that records each POST and answers `status`."""

    def __init__(self, status: int = 204) -> None:
        self.status, self.hits = status, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.hits.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/supervisor"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink(tmp_path):
    port = free_port()
    mail_dir = tmp_path / "mail"
    controller = start_sink(mail_dir, "127.0.0.1", port)
    yield port, mail_dir
    controller.stop()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def directory_with_webhook(url: str):
    d = load_directory()
    people = dict(d.people)
    people["s-1"] = people["s-1"].model_copy(update={"webhook": url})
    return d.model_copy(update={"people": people})


def make_service(smtp_port: int, webhook_url: str, db: Path, sleeps: list | None = None) -> NotifyService:
    sleeps = sleeps if sleeps is not None else []
    return NotifyService(
        load_rules(), directory_with_webhook(webhook_url), TemplateLibrary(),
        {
            "email": SmtpSender("127.0.0.1", smtp_port, policy=POLICY, timeout_s=5, sleep=sleeps.append),
            "webhook": WebhookSender(SECRET, policy=POLICY, timeout_s=5, sleep=sleeps.append),
        },
        SqliteDeliveryLog(db),
    )


def breach_story() -> list[Fact]:
    def f(seq, type_, data):
        return Fact("C-42", seq, type_, "test", f"ev-{seq}", T0, "ACC-1", data)
    return [
        f(1, "casestream.case.opened", {"account": "ACC-1", "opened_by": "test/1"}),
        f(2, "casestream.escalation.owner_assigned", {"owner": "a-22", "queue": "tier2"}),
        f(3, "casestream.escalation.sla_breached",
          {"sla": "restore", "priority": "high", "owner": "a-22", "next_level_owner": "s-1"}),
    ]


def handle_all(svc: NotifyService, facts: list[Fact]) -> list:
    return [d for f in facts for d in svc.handle(f, f.time)]


def eml_files(mail_dir: Path) -> list[Path]:
    return sorted(mail_dir.glob("*.eml"))


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_one_breach_sends_exactly_one_mail_and_one_signed_webhook(sink, receiver, tmp_path):
    port, mail_dir = sink
    svc = make_service(port, receiver.url, tmp_path / "d.sqlite")
    decisions = handle_all(svc, breach_story())

    assert sorted((d.type, d.data["channel"]) for d in decisions) == [
        (NOTIFICATION_SENT, "email"), (NOTIFICATION_SENT, "webhook")]
    assert wait_for(lambda: len(eml_files(mail_dir)) == 1)
    mail = email.message_from_bytes(eml_files(mail_dir)[0].read_bytes())
    assert mail["To"] == "a-22@staff.casestream.example"
    assert mail["Subject"] == "SLA breached: restore on case C-42"
    mail_decision = next(d for d in decisions if d.data["channel"] == "email")
    assert mail["Message-ID"] == f"<{mail_decision.data['message_id']}@casestream.notify>"

    assert len(receiver.hits) == 1
    headers, body = receiver.hits[0]
    assert headers["Content-Type"].startswith("application/cloudevents+json")
    assert verify_signature(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], now=time.time())
    assert not verify_signature("wrong", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], now=time.time())
    event = json.loads(body)
    hook_decision = next(d for d in decisions if d.data["channel"] == "webhook")
    assert event["id"] == hook_decision.data["message_id"] and event["caseid"] == "C-42"
    assert event["data"]["recipient_role"] == "supervisor" and "Sofie Madsen" in event["data"]["body"]


def test_restart_with_sqlite_dedupe_sends_nothing_twice(sink, receiver, tmp_path):
    port, mail_dir = sink
    db = tmp_path / "d.sqlite"
    first = handle_all(make_service(port, receiver.url, db), breach_story())
    assert len(first) == 2 and wait_for(lambda: len(eml_files(mail_dir)) == 1)

    restarted = make_service(port, receiver.url, db)  # a new process: fresh projection, same store
    assert handle_all(restarted, breach_story()) == []
    time.sleep(0.2)
    assert len(eml_files(mail_dir)) == 1 and len(receiver.hits) == 1
    assert {(r.channel, r.status) for r in restarted.deliveries("C-42")} == {("email", "sent"), ("webhook", "sent")}


@pytest.mark.parametrize("dead", ["refused", "http_500"])
def test_dead_webhook_fails_after_the_configured_retries(sink, tmp_path, dead):
    port, mail_dir = sink
    broken = Receiver(status=500) if dead == "http_500" else None
    url = broken.url if broken else f"http://127.0.0.1:{free_port()}/hooks/supervisor"
    sleeps: list[float] = []
    try:
        decisions = handle_all(make_service(port, url, tmp_path / "d.sqlite", sleeps), breach_story())
    finally:
        if broken:
            broken.close()
    failed = [d for d in decisions if d.type == NOTIFICATION_FAILED]
    assert len(failed) == 1 and failed[0].data["channel"] == "webhook"
    assert failed[0].data["attempts"] == POLICY.max_attempts
    assert failed[0].data["reason"].startswith("retries_exhausted")
    assert failed[0].id.endswith(":failed")
    assert len(sleeps) == POLICY.max_attempts - 1 and all(0 <= s <= POLICY.max_delay_s for s in sleeps)
    if broken:
        assert len(broken.hits) == POLICY.max_attempts
        assert failed[0].data["reason"] == "retries_exhausted: http_500"
    assert [d.type for d in decisions if d.data["channel"] == "email"] == [NOTIFICATION_SENT]


def test_client_error_is_not_retried(sink, tmp_path):
    port, _ = sink
    gone = Receiver(status=410)
    try:
        decisions = handle_all(make_service(port, gone.url, tmp_path / "d.sqlite"), breach_story())
    finally:
        gone.close()
    (failed,) = [d for d in decisions if d.type == NOTIFICATION_FAILED]
    assert (failed.data["attempts"], failed.data["reason"], len(gone.hits)) == (1, "http_410", 1)


def test_dead_smtp_server_fails_after_the_configured_retries(receiver, tmp_path):
    sleeps: list[float] = []
    decisions = handle_all(make_service(free_port(), receiver.url, tmp_path / "d.sqlite", sleeps), breach_story())
    (failed,) = [d for d in decisions if d.type == NOTIFICATION_FAILED]
    assert failed.data["channel"] == "email" and failed.data["attempts"] == POLICY.max_attempts
    assert failed.data["reason"].startswith("retries_exhausted: smtp_unavailable")
    assert len(receiver.hits) == 1  # the webhook still went out


def test_sink_cli_writes_each_message_to_an_eml_file(tmp_path):
    port, mail_dir = free_port(), tmp_path / "cli-mail"
    src = Path(__file__).resolve().parents[3] / "services" / "notify" / "src"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "notify.adapters.smtp_sink", "--port", str(port), "--dir", str(mail_dir)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline().startswith(b"smtp sink listening")
        from notify.domain.delivery import OutboundMessage
        msg = OutboundMessage("cli-1", "email", "x@customer.example", "Hello", "Body\n", "C-1", "ACC-1",
                              "r", "t", "en", "customer", "C-1#1", T0)
        outcome = SmtpSender("127.0.0.1", port, policy=POLICY, sleep=lambda s: None).send(msg)
        assert outcome.status == "sent"
        assert wait_for(lambda: len(eml_files(mail_dir)) == 1)
        assert b"Subject: Hello" in eml_files(mail_dir)[0].read_bytes()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
