"""Escalation against the real broker: real intake and escalation processes, stream clock.

The telecom story is replayed through intake at stream-clock speed; everything is
asserted from case.events.v1 as an outside reader sees it. Escalation is killed with
SIGKILL in the middle of the stream and restarted.
"""

from __future__ import annotations

import json
import statistics
import time

import grpc
import pytest
from google.protobuf.json_format import MessageToDict
from kafka import KafkaProducer

from casestream.v1 import escalation_pb2 as pb, escalation_pb2_grpc, intake_pb2_grpc
from escalation.domain.calendar import BusinessCalendar
from escalation.domain.policy import load_policy
from escalation.domain.state import parse_time

from integration.escalation.telecom_story import (
    Story, by_case, decisions, ny, of, oracle_decision_ids, part_one, part_two, start_escalation,
)
from support.arms_length import check_chains, read_topic
from support.stack import wait_until

pytestmark = pytest.mark.kafka

POLICY = load_policy()


def answers(esc, case_id: str, min_sequence: int) -> dict:
    """Every read the API offers for a case, as plain dicts (to compare before/after)."""
    ask = {"case_id": case_id, "min_sequence": min_sequence}
    return {
        "ownership": MessageToDict(esc.GetOwnership(pb.GetOwnershipRequest(**ask), timeout=15)),
        "promises": MessageToDict(esc.ListOpenPromises(pb.ListOpenPromisesRequest(**ask, include_resolved=True),
                                                       timeout=15)),
        "breaches": MessageToDict(esc.ListBreaches(pb.ListBreachesRequest(**ask), timeout=15)),
        "sla": MessageToDict(esc.GetSla(pb.GetSlaRequest(**ask), timeout=15)),
    }


def settled_events(stack, case_id: str) -> list:
    """The case's events once escalation has taken every decision its history calls for."""
    missing: set = set()

    def done():
        events = by_case(read_topic(stack.bootstrap, stack.events)).get(case_id, [])
        want = oracle_decision_ids(events)
        missing.clear()
        missing.update(want - {d.id for d in decisions(events)})
        return events if want and not missing else None

    try:
        wait_until(done, timeout=90, interval=0.3, what="every decision of the case on the topic", stack=stack)
    except AssertionError as e:
        raise AssertionError(f"decisions never sequenced: {sorted(missing)}\n{e}") from None
    time.sleep(1.5)  # a duplicate or an extra decision would show up now
    return by_case(read_topic(stack.bootstrap, stack.events))[case_id]


def test_telecom_story_with_a_kill_9_mid_stream(stack_factory):
    stack = stack_factory()
    stack.start("intake")
    start_escalation(stack)
    story = Story(intake_pb2_grpc.IntakeServiceStub(grpc.insecure_channel(stack.grpc_addr("intake"))), "ACC-555")

    part_one(story)

    def chaos(step: int) -> None:
        if step == 2:  # the on-call handoff is in; escalation is still working through its backlog
            stack.procs["escalation"].kill9()
        elif step == 5:  # three facts were sequenced while escalation was down
            start_escalation(stack)

    part_two(story, between=chaos)
    restored = [json.loads(line) for line in stack.procs["escalation"].log_path.read_text().splitlines()
                if '"state_restored"' in line]
    assert restored[-1]["facts_folded"] > 0, "the restart rebuilt state from the recovered table"
    events = settled_events(stack, story.case_id)
    check_chains([r for r in read_topic(stack.bootstrap, stack.events) if r.key.decode() == story.case_id])

    # No decision lost, none doubled: exactly what the rules decide on this history, once each.
    ids = [d.id for d in decisions(events)]
    assert len(ids) == len(set(ids)), "a decision was sequenced twice"
    assert set(ids) == oracle_decision_ids(events)
    assert all(d.source == "casestream/escalation" for d in decisions(events))

    # Exactly one accountable owner at every sequence (fold case.opened and owner_assigned).
    owner = None
    for e in events:
        if e.type == "casestream.case.opened":
            owner = POLICY.intake_queue
        elif e.type == "casestream.escalation.owner_assigned":
            assert e.data["accountable"], e
            owner = e.data["owner"]
        assert owner, f"no owner at sequence {e.sequence}"
    assigned = of(events, "owner_assigned")
    assert [a.data["reason"] for a in assigned] == ["case_opened", "handoff_accepted", "regulatory_complaint"]

    # Every promise resolves: kept, or breached and then followed up.
    made = [e for e in events if e.type == "casestream.promise.made"]
    assert [f"{story.case_id}#{m.sequence}" for m in made] == [story.refs[p] for p in ("p1", "p2", "p3")]
    for m in made:
        ref = f"{story.case_id}#{m.sequence}"
        kept = [d for d in of(events, "promise_kept") if d.data["promise_ref"] == ref]
        breached = [d for d in of(events, "promise_breached") if d.data["promise_ref"] == ref]
        follow = [d for d in of(events, "follow_up_due") if d.data["promise_ref"] == ref]
        assert len(kept) + len(breached) == 1, ref
        if breached:
            assert len(follow) == 1 and follow[0].sequence > breached[0].sequence, ref
            assert parse_time(follow[0].data["due"]) == parse_time(m.data["due"])
    assert len(of(events, "promise_kept")) == 1 and len(of(events, "promise_breached")) == 2
    assert [d.data["promise_ref"] for d in of(events, "promise_kept")] == [story.refs["p3"]]

    # The Saturday handoff to billing is refused with an alternative; none is accepted into a closed queue.
    [weekend] = [d for d in of(events, "handoff_refused") if d.data["handoff_ref"] == story.refs["weekend_handoff"]]
    assert weekend.data["reason"] == "queue_closed" and weekend.data["alternative_queue"] == "billing-escalations"
    assert [d.data["handoff_ref"] for d in of(events, "handoff_refused")] == [story.refs["weekend_handoff"]]
    [accepted] = of(events, "handoff_accepted")
    assert accepted.data["to_queue"] == "billing-escalations"
    assert BusinessCalendar(POLICY.queues[accepted.data["to_queue"]]).is_open(accepted.fact.time)

    # The regulatory complaint: top priority at once, and the named senior owns the case.
    [prio] = of(events, "priority_changed")
    assert prio.data["to"] == POLICY.priorities[0] == POLICY.regulatory.priority
    assert prio.data["cause_ref"] == story.refs["complaint"]
    senior = assigned[-1]
    assert senior.data["owner"] == POLICY.regulatory.senior_owner and senior.data["cause_ref"] == story.refs["complaint"]

    # The gRPC view agrees with the topic, and is identical after another kill -9 and a replay.
    esc = escalation_pb2_grpc.EscalationServiceStub(grpc.insecure_channel(stack.grpc_addr("escalation")))
    last = events[-1].sequence
    before = answers(esc, story.case_id, last)
    assert before["ownership"]["current"]["owner"] == "dana.senior"
    assert [h["sinceSequence"] for h in before["ownership"]["history"]][1:] == [str(a.sequence) for a in assigned]
    assert sorted(p["status"] for p in before["promises"]["promises"]) == ["breached", "breached", "kept"]
    stack.procs["escalation"].kill9()
    start_escalation(stack)
    esc = escalation_pb2_grpc.EscalationServiceStub(grpc.insecure_channel(stack.grpc_addr("escalation")))
    assert answers(esc, story.case_id, last) == before
    assert {d.id for d in decisions(by_case(read_topic(stack.bootstrap, stack.events))[story.case_id])} == set(ids)


def test_wall_clock_timers_fire_once_without_new_facts(stack_factory):
    """Wall mode: a promise falls due while nothing happens on the case; the timer decides."""
    from datetime import datetime, timedelta, timezone

    stack = stack_factory()
    stack.start("intake")
    start_escalation(stack, CASESTREAM_CLOCK="wall")
    story = Story(intake_pb2_grpc.IntakeServiceStub(grpc.insecure_channel(stack.grpc_addr("intake"))), "ACC-WALL")
    now = datetime.now(timezone.utc)
    story.call(now.isoformat())
    story.promise("soon", now.isoformat(), (now + timedelta(seconds=2)).isoformat(), by="a-01")

    def breached():
        events = by_case(read_topic(stack.bootstrap, stack.events)).get(story.case_id, [])
        return of(events, "promise_breached") and of(events, "follow_up_due") and events

    events = wait_until(breached, timeout=20, interval=0.3, what="the wall-clock promise breach")
    [breach] = of(events, "promise_breached")
    assert breach.data["promise_ref"] == story.refs["soon"]
    time.sleep(2.5)  # the timer keeps ticking every second meanwhile
    sent = [r for r in read_topic(stack.bootstrap, stack.inbound)
            if dict(r.headers).get("ce_id", b"").decode() == breach.id]
    assert len(sent) == 1, "an acknowledged timer decision is not re-sent every tick"


def test_a_second_instance_takes_partitions_and_the_first_forgets_their_timers(stack_factory):
    """Wall mode, two instances: promises kept on the instance that took the partition are not
    breached by a stale copy left on the one that gave it up."""
    from datetime import datetime, timedelta, timezone

    from casestream.kafka import partition_for

    stack = stack_factory()
    stack.start("intake")
    start_escalation(stack, CASESTREAM_CLOCK="wall")
    first = stack.procs["escalation"]
    intake = intake_pb2_grpc.IntakeServiceStub(grpc.insecure_channel(stack.grpc_addr("intake")))
    now = datetime.now(timezone.utc)
    due = now + timedelta(seconds=14)
    stories = [Story(intake, f"ACC-MOVE-{i}") for i in range(8)]
    for s in stories:
        s.call(now.isoformat())
        s.promise("p", now.isoformat(), due.isoformat(), by="a-01")
    assert len({partition_for(s.case_id.encode(), stack.partitions) for s in stories}) == stack.partitions
    try:
        start_escalation(stack, CASESTREAM_CLOCK="wall", instance="1")  # a rebalance splits the partitions
        kept_at = datetime.now(timezone.utc)
        assert kept_at < due - timedelta(seconds=3), "the rebalance took too long for this test's timing"
        for s in stories:
            s.fact(kept_at.isoformat(), "promise.fulfilled", promise_ref=s.refs["p"])
        time.sleep(max(0.0, (due - datetime.now(timezone.utc)).total_seconds()) + 4)  # timers tick every second
        events = by_case(read_topic(stack.bootstrap, stack.events))
        for s in stories:
            mine = events.get(s.case_id, [])
            assert [e.data["promise_ref"] for e in of(mine, "promise_kept")] == [s.refs["p"]], s.case_id
            assert of(mine, "promise_breached") == [], (
                f"{s.case_id}: breached by a stale copy after it was kept: "
                f"{[(e.sequence, e.type.rsplit('.', 1)[-1], e.id) for e in mine]}\n{stack.logs(40)}")
    finally:
        first.stop()


def test_decision_latency_on_the_real_broker(stack_factory):
    """Event sequenced -> decision sequenced, from CaseEvent.sequenced_at of both (cause_ref)."""
    stack = stack_factory()
    stack.start("intake")
    start_escalation(stack)
    producer = KafkaProducer(bootstrap_servers=stack.bootstrap, linger_ms=2)
    accounts = [f"ACC-L{i:03d}" for i in range(40)]
    script = [
        ("contact.logged", ny(2026, 11, 9, 9, 0), {"channel": "phone", "direction": "inbound", "agent": "a-01",
                                                   "summary": "no dial tone"}),
        ("contact.logged", ny(2026, 11, 9, 10, 0), {"channel": "chat", "direction": "inbound", "agent": "a-02",
                                                    "summary": "still down"}),
        ("contact.logged", ny(2026, 11, 9, 11, 0), {"channel": "email", "direction": "inbound", "agent": "a-03",
                                                    "summary": "third time"}),
        ("handoff.requested", ny(2026, 11, 9, 11, 30), {"to_queue": "network-ops", "by": "a-03",
                                                         "reason": "line fault"}),
        ("complaint.regulatory_filed", ny(2026, 11, 9, 12, 0), {"regulator": "NY PSC", "reference": "PSC-1"}),
    ]
    for step, (type_, at, data) in enumerate(script):
        for acct in accounts:
            doc = {"specversion": "1.0", "id": f"lat-{acct}-{step}", "source": "crm", "type": f"casestream.{type_}",
                   "subject": acct, "time": at, "datacontenttype": "application/json", "data": data}
            producer.send(stack.inbound, key=acct.encode(), value=json.dumps(doc).encode(),
                          headers=[("content-type", b"application/cloudevents+json")])
            time.sleep(0.01)  # ~100 facts/s: a steady stream, not one burst
        producer.flush()
    producer.close()

    def measured():
        cases = by_case(read_topic(stack.bootstrap, stack.events))
        pairs = []
        for events in cases.values():
            at = {f"{e.fact.case_id}#{e.sequence}": e.sequenced_at for e in events}
            pairs += [d.sequenced_at - at[d.data["cause_ref"]] for d in decisions(events)
                      if d.data.get("cause_ref") in at]
        # per case: owner + 2 SLAs, repeat escalation, handoff SLA, priority + senior owner + regulatory SLA
        return pairs if len(cases) == len(accounts) and len(pairs) >= 8 * len(accounts) else None

    latencies = sorted(wait_until(measured, timeout=60, interval=0.5, what="every case's decisions"))
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(f"\nescalation decision latency over {len(latencies)} decisions: p50 {p50 * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    assert len(latencies) >= 300
    assert all(x >= 0 for x in latencies), "a decision was sequenced before its cause"
    assert p99 < 10.0, f"p99 {p99:.3f}s"
