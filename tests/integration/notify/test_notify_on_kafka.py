"""Notify against the real broker and real processes: intake, notify and the SMTP sink
(`python -m notify.adapters.smtp_sink`, started as `make up` starts it), plus a real
HTTP webhook receiver. Producers and readers use plain kafka-python."""

from __future__ import annotations

import email
from email import policy
import json
import statistics
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
import pytest
import yaml
from kafka import KafkaProducer

from casestream import envelope
from casestream.v1 import notify_pb2, notify_pb2_grpc
from notify.adapters.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from support.arms_length import check_chains, read_topic
from support.stack import free_port, wait_until

pytestmark = pytest.mark.kafka

SECRET = "it-webhook-secret"
SENT = "casestream.notify.notification_sent"
FAILED = "casestream.notify.notification_failed"
BREACHED = "casestream.escalation.promise_breached"
ACCOUNTS = 120


class Receiver:
    """A real HTTP server in a thread that records every POST and answers 204."""

    def __init__(self) -> None:
        self.hits: list[tuple[dict, bytes, float]] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hits.append((dict(self.headers), body, time.time()))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/supervisor"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def write_config(tmp: Path, hook_url: str, dead_url: str) -> dict[str, str]:
    rules = {"version": 1, "rules": [
        {"id": "breach-customer-email", "event": BREACHED, "template": "promise_breached_customer",
         "channel": "email", "recipient": "customer", "urgent": True},
        {"id": "breach-supervisor-webhook", "event": BREACHED, "template": "promise_follow_up_owner",
         "channel": "webhook", "recipient": "supervisor", "urgent": True},
    ]}
    directory = {
        "defaults": {"time_zone": "Europe/Copenhagen", "locale": "en", "quiet_hours": None},
        "people": {
            "a-17": {"name": "Anna Jensen", "email": "a-17@staff.casestream.example", "supervisor": "s-1"},
            "s-1": {"name": "Sofie Madsen", "email": "s-1@staff.casestream.example", "webhook": hook_url},
            "s-dead": {"name": "Dead Endpoint", "webhook": dead_url},
        },
        "accounts": {f"ACC-{i}": {"name": f"Customer {i}", "email": f"customer{i}@customer.example"}
                     for i in range(ACCOUNTS)},
    }
    (tmp / "rules.yaml").write_text(yaml.safe_dump(rules))
    (tmp / "directory.yaml").write_text(yaml.safe_dump(directory))
    return {"CASESTREAM_NOTIFY_RULES_PATH": str(tmp / "rules.yaml"),
            "CASESTREAM_NOTIFY_DIRECTORY_PATH": str(tmp / "directory.yaml")}


def cloud_event(id_: str, source: str, type_: str, account: str, data: dict, **ext: str) -> bytes:
    now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    return json.dumps({"specversion": "1.0", "id": id_, "source": source, "type": type_, "subject": account,
                       "time": now, "datacontenttype": "application/json", "data": data, **ext}).encode()


def send(p: KafkaProducer, topic: str, account: str, value: bytes) -> None:
    p.send(topic, key=account.encode(), value=value, headers=[("content-type", b"application/cloudevents+json")])


def events_of(stack, type_: str) -> list[dict]:
    out = []
    for r in read_topic(stack.bootstrap, stack.events):
        h = {k: v.decode() for k, v in r.headers}
        if h["ce_type"] == type_:
            ev = envelope.decode(r.value)
            out.append({"case": h["ce_subject"], "id": h["ce_id"], "value": r.value, "account": ev.account_id,
                        "data": envelope.event_data(ev), "sequenced_at": ev.sequenced_at.ToDatetime(tzinfo=timezone.utc)})
    return out


def mails(stack) -> list:
    out = []
    for f in sorted((stack.run_dir / "mail").glob("*.eml")):
        out.append((int(f.name.split("-")[0]) / 1e9, email.message_from_bytes(f.read_bytes(), policy=policy.default)))
    return out


class Story:
    """One stack for the module: intake, notify, the sink, a live and a dead webhook."""

    def __init__(self, stack, tmp: Path) -> None:
        self.stack = stack
        self.receiver = Receiver()
        self.smtp_port = free_port()
        env = write_config(tmp, self.receiver.url, f"http://127.0.0.1:{free_port()}/hooks/dead")
        self.notify_env = {**env, "CASESTREAM_SMTP_PORT": str(self.smtp_port), "CASESTREAM_WEBHOOK_SECRET": SECRET,
                           "CASESTREAM_NOTIFY_MAX_ATTEMPTS": "3", "CASESTREAM_NOTIFY_BACKOFF_BASE_S": "0.02",
                           "CASESTREAM_NOTIFY_BACKOFF_MAX_S": "0.05", "CASESTREAM_NOTIFY_SEND_TIMEOUT_S": "2"}
        stack.start("smtp-sink", CASESTREAM_SMTP_PORT=str(self.smtp_port))
        stack.start("intake")
        self.start_notify()
        self.producer = KafkaProducer(bootstrap_servers=stack.bootstrap, linger_ms=2)
        self.cases: dict[str, str] = {}  # account -> case id

    def start_notify(self) -> None:
        self.stack.start("notify", **self.notify_env)

    def open_cases(self, accounts: list[str]) -> None:
        for a in accounts:
            send(self.producer, self.stack.inbound, a, cloud_event(
                f"pbx-{a}", "pbx", "casestream.contact.logged", a,
                {"channel": "phone", "direction": "inbound", "agent": "a-17", "summary": "no dial tone"}))
        self.producer.flush()

        def opened() -> bool:
            for e in events_of(self.stack, "casestream.case.opened"):
                self.cases[e["account"]] = e["case"]
            return all(a in self.cases for a in accounts)

        wait_until(opened, timeout=30, what="cases opened")

    def breach(self, account: str, supervisor: str = "s-1") -> None:
        case = self.cases[account]
        send(self.producer, self.stack.inbound, account, cloud_event(
            f"promise-breach:{case}", "casestream/escalation", BREACHED, account,
            {"promise_ref": f"{case}#2", "what": "restore the line", "owner": "a-17",
             "next_level_owner": supervisor}, caseid=case))

    def outcomes(self, cases: set[str]) -> list[dict]:
        return [e for t in (SENT, FAILED) for e in events_of(self.stack, t) if e["case"] in cases]

    def notify_stub(self) -> notify_pb2_grpc.NotifyServiceStub:
        return notify_pb2_grpc.NotifyServiceStub(grpc.insecure_channel(self.stack.grpc_addr("notify")))


@pytest.fixture(scope="module")
def story(stack_factory, tmp_path_factory):
    s = Story(stack_factory(), tmp_path_factory.mktemp("notify-config"))
    yield s
    s.receiver.close()


def test_promise_breach_sends_one_mail_and_one_signed_webhook_and_reports_it(story):
    accounts = [f"ACC-{i}" for i in range(50)]
    story.open_cases(accounts)
    for a in accounts:
        story.breach(a)
    story.producer.flush()
    cases = {story.cases[a] for a in accounts}
    wait_until(lambda: len(story.outcomes(cases)) >= 100, timeout=60, what="100 notify decisions")
    time.sleep(1.0)  # anything extra (a duplicate) would show up now

    outcomes = story.outcomes(cases)
    assert {e["data"]["channel"] for e in outcomes if e["data"]["channel"]} == {"email", "webhook"}
    assert len(outcomes) == 100 and all(e["id"].endswith(":sent") for e in outcomes), outcomes[:3]
    assert len({e["id"] for e in outcomes}) == 100
    sent_mails = [(t, m) for t, m in mails(story.stack) if m["X-Casestream-Case"] in cases]
    assert sorted(m["X-Casestream-Case"] for _, m in sent_mails) == sorted(cases), "exactly one e-mail per breach"
    hooks = [h for h in story.receiver.hits if json.loads(h[1])["caseid"] in cases]
    assert sorted(json.loads(b)["caseid"] for _, b, _ in hooks) == sorted(cases), "exactly one webhook per breach"
    for headers, body, at in hooks:
        assert verify_signature(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], at)
        assert not verify_signature("wrong-secret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], at)

    by_message = {m["Message-ID"].strip("<>").split("@")[0]: m for _, m in sent_mails}
    for e in outcomes:  # channel, template and message id; never the body or the address
        d = e["data"]
        assert d["template"] in ("promise_breached_customer", "promise_follow_up_owner") and d["message_id"]
        assert "body" not in d and "to" not in d
        if d["channel"] == "email":
            mail = by_message[d["message_id"]]
            assert mail["X-Casestream-Case"] == e["case"]
            assert mail.get_content().strip().splitlines()[0].encode() not in e["value"]
            assert mail["To"].encode() not in e["value"]
    check_chains(read_topic(story.stack.bootstrap, story.stack.events))

    # Delivery latency: the trigger's sequencing (CaseEvent.sequenced_at) -> SMTP accepted by the sink.
    breach_at = {e["case"]: e["sequenced_at"].timestamp() for e in events_of(story.stack, BREACHED)}
    lat = sorted((t - breach_at[m["X-Casestream-Case"]]) * 1000 for t, m in sent_mails)
    p50, p99 = statistics.median(lat), lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    print(f"\nnotify delivery latency over {len(lat)} breaches: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {lat[-1]:.1f} ms")
    assert p99 < 5000

    stub = story.notify_stub()
    some = story.cases["ACC-0"]
    got = stub.ListDeliveries(notify_pb2.ListDeliveriesRequest(case_id=some), timeout=10)
    assert sorted((d.channel, d.status, d.attempts) for d in got.deliveries) == [("email", "sent", 1), ("webhook", "sent", 1)]


def test_dead_webhook_ends_in_notification_failed_after_the_configured_retries(story):
    story.open_cases(["ACC-60"])
    story.breach("ACC-60", supervisor="s-dead")
    story.producer.flush()
    case = story.cases["ACC-60"]
    wait_until(lambda: len(story.outcomes({case})) >= 2, timeout=30, what="two notify decisions")
    time.sleep(0.5)
    outcomes = {e["data"]["channel"]: e for e in story.outcomes({case})}
    assert len(story.outcomes({case})) == 2
    failed = outcomes["webhook"]
    assert failed["id"].endswith(":failed") and failed["data"]["attempts"] == 3
    assert failed["data"]["reason"].startswith("retries_exhausted: webhook_unavailable"), failed["data"]
    assert outcomes["email"]["id"].endswith(":sent")
    got = story.notify_stub().ListDeliveries(notify_pb2.ListDeliveriesRequest(case_id=case), timeout=10)
    assert {(d.channel, d.status, d.attempts) for d in got.deliveries} == {("email", "sent", 1), ("webhook", "failed", 3)}


def test_kill_9_mid_stream_then_restart_sends_no_duplicate_and_loses_nothing(story):
    accounts = [f"ACC-{i}" for i in range(70, 110)]
    story.open_cases(accounts)
    cases = {story.cases[a] for a in accounts}
    stub = story.notify_stub()
    before = {c: stub.PreviewNotification(notify_pb2.PreviewNotificationRequest(
        rule_id="breach-customer-email", case_id=c), timeout=10) for c in (story.cases["ACC-0"], story.cases["ACC-60"])}
    deliveries_before = stub.ListDeliveries(notify_pb2.ListDeliveriesRequest(case_id=story.cases["ACC-0"]), timeout=10)

    for a in accounts[:20]:
        story.breach(a)
    story.producer.flush()
    wait_until(lambda: len(story.outcomes(cases)) >= 6, timeout=30, what="some progress before the kill", stack=story.stack)
    for a in accounts[20:]:
        story.breach(a)
    story.producer.flush()
    story.stack.procs["notify"].kill9()
    mid = len(story.outcomes(cases))
    story.start_notify()
    wait_until(lambda: len(story.outcomes(cases)) >= 80, timeout=150, what="80 notify decisions after restart", stack=story.stack)
    time.sleep(1.5)

    outcomes = story.outcomes(cases)
    ids = [e["id"] for e in outcomes]
    assert len(ids) == len(set(ids)) == 80, f"{len(ids)} decisions, {len(set(ids))} unique; {mid} before restart"
    assert len({e["data"]["message_id"] for e in outcomes}) == 80, "one outcome per message, none lost"
    # A message cut off mid-send by the kill may have gone out; it is reported, never resent.
    failed = [e for e in outcomes if e["id"].endswith(":failed")]
    assert all(e["data"]["reason"].startswith("interrupted") for e in failed) and len(failed) <= 1, failed
    sent = {(e["data"]["channel"], e["data"]["message_id"]) for e in outcomes if e["id"].endswith(":sent")}
    emailed = [m["Message-ID"].strip("<>").split("@")[0] for _, m in mails(story.stack)
               if m["X-Casestream-Case"] in cases]
    assert len(emailed) == len(set(emailed)), "no e-mail sent twice across the restart"
    assert {("email", m) for m in emailed} >= {s for s in sent if s[0] == "email"}
    hooked = [json.loads(b)["id"] for _, b, _ in story.receiver.hits if json.loads(b)["caseid"] in cases]
    assert len(hooked) == len(set(hooked)), "no webhook posted twice across the restart"
    assert {("webhook", m) for m in hooked} >= {s for s in sent if s[0] == "webhook"}
    assert len(emailed) + len(hooked) >= 80 - len(failed)
    print(f"\nkill -9 with {mid}/80 outcomes sequenced; interrupted mid-send: {len(failed)}")

    stub = story.notify_stub()
    for c, p in before.items():  # state rebuilt from the recovered table answers the same
        again = stub.PreviewNotification(notify_pb2.PreviewNotificationRequest(
            rule_id="breach-customer-email", case_id=c), timeout=10)
        assert again == p
    assert stub.ListDeliveries(notify_pb2.ListDeliveriesRequest(case_id=story.cases["ACC-0"]), timeout=10) \
        == deliveries_before
