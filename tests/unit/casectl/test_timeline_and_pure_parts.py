"""casectl's pure parts: the timeline fold and as-of, the auditor's compact range, the
counterfactual comparison, DLQ ids, and CLI parsing (no Kafka)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from typer.testing import CliRunner

from casectl.audit.merkle import MerkleTree, leaf_hash
from casectl.audit.records import Record
from casectl.auditor import CompactRange
from casectl.cli import app
from casectl.counterfactual import SIMULATORS, compare
from casectl.dlq import parse_id, resubmission
from casectl.timeline import CaseEvent, fold
from casestream.facts import Decision, Fact

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
C = "case-1"


def e(seq: int, type_: str, source: str = "crm", **data) -> CaseEvent:
    return CaseEvent(seq, T0 + timedelta(minutes=seq), source, "casestream." + type_, f"id-{seq}", data, "ACC-1")


HISTORY = [
    e(1, "case.opened", "intake"),
    e(2, "contact.logged", "pbx", channel="phone", direction="inbound", agent="a-17", summary="no dial tone"),
    e(3, "escalation.owner_assigned", "escalation", owner="a-17", reason="first contact"),
    e(4, "promise.made", promised_by="a-17", what="restore", due="2026-11-03T09:00:00Z"),
    e(5, "promise.made", promised_by="a-17", what="call back", due="2026-11-04T09:00:00Z"),
    e(6, "escalation.sla_started", "escalation", sla="resolution", generation=1, priority="normal"),
    e(7, "billing.dunning_hold_placed", "billing", hold_ref="h-1", reason="dispute"),
    e(8, "escalation.promise_kept", "escalation", promise_ref=f"{C}#4"),
    e(9, "escalation.owner_assigned", "escalation", owner="tier2-bob"),
    e(10, "escalation.priority_changed", "escalation", to="urgent"),
    e(11, "escalation.sla_paused", "escalation", sla="resolution", generation=1),
    e(12, "billing.dunning_hold_released", "billing", hold_ref="h-1"),
    e(13, "escalation.promise_breached", "escalation", promise_ref=f"{C}#5"),
    e(14, "case.closed", "intake"),
]


def test_fold_as_of_seq_is_the_hand_computed_state():
    v = fold(C, reversed(HISTORY), as_of_seq=9)
    s = v.state
    assert v.last_seq == 9 and v.account == "ACC-1"
    assert (s.status, s.owner, s.priority) == ("open", "tier2-bob", "normal")
    assert s.sla == {"resolution": {"sla": "resolution", "state": "running", "generation": 1,
                                    "since": "2026-11-02T09:06:00Z"}}
    assert list(s.open_promises) == [f"{C}#5"] and s.open_promises[f"{C}#5"]["what"] == "call back"
    assert list(s.holds) == ["h-1"]
    owners = [r.owner for r in v.rows]
    assert owners == [None, None, "a-17", "a-17", "a-17", "a-17", "a-17", "a-17", "tier2-bob"]
    assert [r.actor for r in v.rows[:4]] == [None, "a-17", None, "a-17"]
    assert v.rows[1].summary == "phone inbound: no dial tone"


def test_fold_to_the_end_and_as_of_time():
    end = fold(C, HISTORY).state
    assert (end.status, end.priority, end.sla["resolution"]["state"]) == ("closed", "urgent", "paused")
    assert end.open_promises == {} and end.holds == {}
    at = fold(C, HISTORY, as_of_time=T0 + timedelta(minutes=4, seconds=30))
    assert at.last_seq == 4 and list(at.state.open_promises) == [f"{C}#4"]
    assert json.loads(json.dumps(at.to_dict()))["state"]["open_promises"][0]["ref"] == f"{C}#4"


def test_compact_range_matches_the_merkle_tree_at_every_size():
    leaves = [leaf_hash(str(i).encode()) for i in range(70)]
    cr = CompactRange()
    tree = MerkleTree(leaves)
    assert cr.root() == tree.root(0)
    for i, lh in enumerate(leaves, 1):
        cr.append(lh)
        assert cr.size == i and cr.root() == tree.root(i), i


def test_compare_matches_by_id_then_by_content():
    t = T0
    fact = lambda type_, id_, **d: Fact(C, 1, type_, "billing", id_, t, "ACC-1", d)  # noqa: E731
    dec = lambda type_, id_, **d: Decision(type_, id_, C, "ACC-1", t, d)  # noqa: E731
    actual = [fact("x.hold", "h1", scope="all"), fact("x.notice", "n1", n=1), fact("x.refund", "r1", amount=5),
              fact("x.match", "m1", ref="p")]
    simulated = [dec("x.hold", "h1", scope="all"), dec("x.notice", "n1", n=2), dec("x.match", "m2", ref="p"),
                 dec("x.adjust", "a1", amount=3)]
    cmp = compare(actual, simulated)
    kinds = {(d.kind, d.id) for d in cmp.differences}
    assert cmp.unchanged == 1
    assert kinds == {("changed", "n1"), ("renamed", "m1"), ("removed", "r1"), ("added", "a1")}
    assert next(d for d in cmp.differences if d.kind == "changed").changed_fields == ["n"]


def test_registry_knows_each_service_decisions():
    billing = SIMULATORS["billing"]
    assert "casestream.billing.dunning_hold_placed" in billing.decision_types
    assert "casestream.billing.charge_posted" not in billing.decision_types
    assert billing.scope == "account" and SIMULATORS["escalation"].scope == "case"


def test_dlq_id_and_resubmission_strip_only_dlq_headers():
    assert parse_id("2:17") == (2, 17)
    try:
        parse_id("2-17")
        raise AssertionError("expected ValueError")
    except ValueError as err:
        assert "PARTITION:OFFSET" in str(err)
    r = Record("dlq", 0, 3, None, b"ACC-1", b"{}", (("content-type", b"application/json"), ("cs_error", b"bad"),
                                                      ("cs_error_code", b"X"), ("cs_source_offset", b"9")))
    sub = resubmission(r, b'{"fixed":1}')
    assert sub.headers == [("content-type", b"application/json")] and sub.value == b'{"fixed":1}' and sub.key == b"ACC-1"


def test_cli_parsing_rejects_bad_input_before_touching_kafka():
    runner = CliRunner()
    env = {"CASESTREAM_KAFKA_BOOTSTRAP": "127.0.0.1:1"}
    r = runner.invoke(app, ["dlq", "resubmit", "nonsense", "--json"], env=env)
    assert r.exit_code == 2 and "PARTITION:OFFSET" in json.loads(r.stdout)["error"]
    r = runner.invoke(app, ["audit", "export", "--out", "x", "--json"], env=env)
    assert r.exit_code == 2 and "--case" in json.loads(r.stdout)["error"]
    r = runner.invoke(app, ["replay", "--case", "c-1", "--json"], env=env)
    assert r.exit_code == 2 and "--policy" in json.loads(r.stdout)["error"]
    r = runner.invoke(app, ["case", "show", "c-1", "--as-of", "yesterday", "--json"], env=env)
    assert r.exit_code == 2 and "RFC 3339" in json.loads(r.stdout)["error"]
    r = runner.invoke(app, ["case", "show", "c-1", "--as-of-seq", "0"], env=env)
    assert r.exit_code == 2
    for cmd in (["case", "show"], ["log", "verify"], ["audit", "verify"], ["dlq", "list"], ["replay"]):
        assert "--json" in runner.invoke(app, [*cmd, "--help"]).stdout
