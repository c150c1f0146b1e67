"""casectl against the real broker and a real intake: case show, log verify, audit export and
verify (with the auditor's checkpoints), and the DLQ round trip."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
from kafka import KafkaProducer
from typer.testing import CliRunner

from casectl.cli import app
from support.arms_length import read_topic
from support.stack import wait_until

pytestmark = pytest.mark.kafka

ACCOUNT = "ACC-CTL-1"
BASE = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
TOTAL = 300  # events in the case, case.opened included


def ce(i: int, type_: str, data: dict, source: str = "crm", caseid: str | None = None) -> bytes:
    ext = {"caseid": caseid} if caseid else {}  # service decisions name their case
    return json.dumps({**ext, "specversion": "1.0", "id": f"{source}-{i}", "source": source, "type": type_,
                       "subject": ACCOUNT, "time": (BASE + timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
                       "datacontenttype": "application/json", "data": data}).encode()


def contact(i: int) -> bytes:
    return ce(i, "casestream.contact.logged",
              {"channel": "phone", "direction": "inbound", "agent": f"agent-{i % 5}", "summary": f"call {i}"}, "pbx")


def story(case_id: str) -> dict[int, bytes]:
    """Inbound event i becomes cs_seq i + 2 (case.opened is 1, event 0 is 2)."""
    def decision(i: int, type_: str, data: dict, source: str) -> bytes:
        return ce(i, type_, data, source, case_id)

    special = {
        10: decision(10, "casestream.escalation.owner_assigned", {"owner": "agent-A", "reason": "first contact"}, "escalation"),
        20: ce(20, "casestream.promise.made", {"promised_by": "agent-A", "what": "restore line", "due": "2026-11-03T09:00:00Z"}),
        30: ce(30, "casestream.promise.made", {"promised_by": "agent-A", "what": "call back", "due": "2026-11-04T09:00:00Z"}),
        40: decision(40, "casestream.escalation.promise_kept", {"promise_ref": f"{case_id}#22"}, "escalation"),
        50: decision(50, "casestream.escalation.owner_assigned", {"owner": "agent-B", "reason": "handoff"}, "escalation"),
        60: decision(60, "casestream.billing.dunning_hold_placed", {"hold_ref": "hold-1", "reason": "dispute"}, "billing"),
        70: decision(70, "casestream.escalation.sla_started", {"sla": "resolution", "generation": 1, "priority": "high"}, "escalation"),
        80: decision(80, "casestream.escalation.sla_breached", {"sla": "resolution", "generation": 1}, "escalation"),
        200: decision(200, "casestream.billing.dunning_hold_released", {"hold_ref": "hold-1", "reason": "resolved"}, "billing"),
        210: decision(210, "casestream.escalation.promise_breached", {"promise_ref": f"{case_id}#32"}, "escalation"),
    }
    return {i: special.get(i, contact(i)) for i in range(1, TOTAL - 1)}


def run(stack, *args: str, expect: int = 0, **env: str):
    res = CliRunner().invoke(app, list(args), env={**stack.env, **env})
    assert res.exit_code == expect, f"casectl {' '.join(args)} -> {res.exit_code}\n{res.output}\n{res.exception!r}"
    return res


def run_json(stack, *args: str, expect: int = 0, **env: str) -> dict:
    return json.loads(run(stack, *args, "--json", expect=expect, **env).stdout)


@pytest.fixture(scope="module")
def world(stack_factory, tmp_path_factory):
    stack = stack_factory()
    key = tmp_path_factory.mktemp("keys") / "audit.pem"
    stack.env["CASESTREAM_AUDIT_KEY"] = str(key)
    stack.start("intake")
    p = KafkaProducer(bootstrap_servers=stack.bootstrap)
    send = lambda v: p.send(stack.inbound, key=ACCOUNT.encode(), value=v,  # noqa: E731
                            headers=[("content-type", b"application/cloudevents+json")])
    send(contact(0))
    p.flush()
    first = wait_until(lambda: read_topic(stack.bootstrap, stack.events), what="the case to open")
    case_id = first[0].key.decode()
    for i, v in sorted(story(case_id).items()):
        send(v)
    p.flush()
    wait_until(lambda: len(read_topic(stack.bootstrap, stack.events)) >= TOTAL, timeout=60, what=f"{TOTAL} events")
    stack.start("auditor", CASESTREAM_AUDITOR_EVERY_SECONDS="1", CASESTREAM_AUDITOR_EVERY_EVENTS="100000")
    return stack, case_id, p, key


def test_case_show_as_of_seq_matches_hand_computed_state(world):
    stack, case_id, _, _ = world
    doc = run_json(stack, "case", "show", case_id, "--as-of-seq", "150")
    s = doc["state"]
    assert doc["last_seq"] == 150 and len(doc["rows"]) == 150 and doc["account"] == ACCOUNT
    assert s["owner"] == "agent-B" and s["priority"] == "high" and s["status"] == "open"
    assert s["sla"]["resolution"]["state"] == "breached"
    assert [p["ref"] for p in s["open_promises"]] == [f"{case_id}#32"]
    assert [h["hold_ref"] for h in s["holds"]] == ["hold-1"]
    rows = {r["seq"]: r for r in doc["rows"]}
    assert rows[12]["owner"] == "agent-A" and rows[11]["owner"] is None and rows[52]["owner"] == "agent-B"
    assert rows[22]["actor"] == "agent-A" and rows[3]["actor"] == "agent-1"

    full = run_json(stack, "case", "show", case_id)
    assert full["last_seq"] == TOTAL
    assert full["state"]["open_promises"] == [] and full["state"]["holds"] == []
    at = run_json(stack, "case", "show", case_id, "--as-of", "2026-11-02T09:45:00Z")
    assert at["last_seq"] == 47  # case.opened + events 0..45
    found = run_json(stack, "case", "find", "--account", ACCOUNT)
    assert [c["case_id"] for c in found["cases"]] == [case_id]


def test_audit_export_verify_tamper_and_checkpoints(world, tmp_path):
    stack, case_id, _, key = world
    out = tmp_path / "bundle"
    doc = run_json(stack, "audit", "export", "--case", case_id, "--out", str(out))
    assert doc["events"] == TOTAL
    assert run_json(stack, "audit", "verify", str(out))["ok"]
    proof = json.loads(run(stack, "audit", "prove", str(out), "--event", "pbx-7").stdout)
    assert proof["tree_size"] == TOTAL

    # the auditor's checkpoint covers every exported event
    def covered():
        res = CliRunner().invoke(app, ["audit", "verify", str(out), "--checkpoints", "--json"], env=stack.env)
        return res.exit_code == 0 and json.loads(res.stdout)
    v = wait_until(covered, timeout=30, interval=0.5, what="a checkpoint covering the export")
    assert v["checkpoints"]["checked"] == TOTAL and v["checkpoints"]["not_yet_covered"] == 0

    tampered = tmp_path / "tampered"
    tampered.mkdir()
    for f in out.iterdir():
        (tampered / f.name).write_bytes(f.read_bytes())
    data = bytearray((tampered / "events.jsonl").read_bytes())
    i = data.index(b'"value_b64":"') + 20
    data[i] = ord("A") if data[i] != ord("A") else ord("B")
    (tampered / "events.jsonl").write_bytes(bytes(data))
    bad = run_json(stack, "audit", "verify", str(tampered), expect=1)
    assert not bad["ok"] and "events.jsonl" in bad["error"]


def test_log_verify_passes_then_names_a_forged_record(world):
    stack, case_id, p, _ = world
    ok = run_json(stack, "log", "verify")
    assert ok["ok"] and ok["records"] >= TOTAL and ok["first_bad"] is None
    last = [r for r in read_topic(stack.bootstrap, stack.events) if r.key == case_id.encode()][-1]
    h = dict(last.headers)
    # a rogue writer appends a record that claims to follow the last one, with a wrong hash
    value = b"forged body"
    headers = [(k, v) for k, v in last.headers if k not in ("cs_seq", "cs_prev_hash", "cs_hash", "ce_id")]
    headers += [("ce_id", b"forged-1"), ("cs_seq", str(int(h["cs_seq"]) + 1).encode()),
                ("cs_prev_hash", h["cs_hash"]), ("cs_hash", hashlib.sha256(b"not the chain").hexdigest().encode())]
    md = p.send(stack.events, key=case_id.encode(), value=value, headers=headers, partition=last.partition).get(30)
    broken = run_json(stack, "log", "verify", expect=1)
    assert not broken["ok"]
    assert broken["first_bad"]["offset"] == md.offset and broken["first_bad"]["partition"] == md.partition
    assert "cs_hash" in broken["first_bad"]["reason"]


def test_dlq_list_and_resubmit_a_corrected_record(world, tmp_path):
    stack, case_id, p, _ = world
    bad = json.loads(contact(500))
    bad["data"]["direction"] = "sideways"
    p.send(stack.inbound, key=ACCOUNT.encode(), value=json.dumps(bad).encode(),
           headers=[("content-type", b"application/cloudevents+json")])
    p.flush()
    rows = wait_until(lambda: run_json(stack, "dlq", "list")["records"], what="the DLQ record")
    row = rows[-1]
    assert row["error_code"] == "INVALID_FIELD" and "data.direction" in row["reason"]
    assert row["source_topic"] == stack.inbound
    fixed = tmp_path / "fixed.json"
    bad["data"]["direction"] = "inbound"
    fixed.write_text(json.dumps(bad))
    res = run_json(stack, "dlq", "resubmit", row["id"], "--value-file", str(fixed))
    assert res["ok"] and res["inbound"]["topic"] == stack.inbound
    ids = lambda: [dict(r.headers)["ce_id"] for r in read_topic(stack.bootstrap, stack.events)]  # noqa: E731
    wait_until(lambda: b"pbx-500" in ids(), what="the resubmitted event in the case stream")
