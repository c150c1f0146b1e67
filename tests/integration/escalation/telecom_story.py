"""The telecom story of ARCHITECTURE.md as CloudEvents, submitted through intake's gRPC door.

Thursday 5 Nov to Monday 9 Nov 2026 (New York): contacts with many agents, three
promised restoration deadlines (two missed), a Saturday handoff to the closed billing
desk, the on-call desk accepting instead, and a complaint to the state PSC. Stream
clock: `clock.ticked` facts move time past the deadlines.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from casestream import envelope
from casestream.facts import Fact
from casestream.v1 import intake_pb2

NY = ZoneInfo("America/New_York")
ESC = "casestream.escalation."
_ids = itertools.count(1)


def ny(*args: int) -> str:
    return datetime(*args, tzinfo=NY).isoformat()


@dataclass
class Story:
    """Submits facts for one account; remembers the refs later facts must name."""

    intake: Any  # IntakeServiceStub
    account: str
    run: str = field(default_factory=lambda: f"r{next(_ids)}")
    case_id: str = ""
    last_sequence: int = 0
    refs: dict[str, str] = field(default_factory=dict)

    def fact(self, at: str, type_: str, mark: str | None = None, source: str = "crm", **data: Any) -> str:
        doc = {"specversion": "1.0", "id": f"{self.run}-{self.account}-{next(_ids)}", "source": source,
               "type": "casestream." + type_, "subject": self.account, "time": at,
               "datacontenttype": "application/json", "data": data}
        resp = self.intake.Submit(intake_pb2.SubmitRequest(event=intake_pb2.InboundEvent(json=json.dumps(doc)),
                                                           wait_sequenced=True, timeout_ms=10_000), timeout=15)
        assert resp.status == intake_pb2.SUBMIT_STATUS_SEQUENCED, (type_, resp)
        self.case_id = resp.case_id
        self.last_sequence = max(self.last_sequence, resp.sequence)
        ref = f"{resp.case_id}#{resp.sequence}"
        if mark:
            self.refs[mark] = ref
        return ref

    def call(self, at: str, direction: str = "inbound", agent: str = "a-01") -> str:
        return self.fact(at, "contact.logged", channel="phone", direction=direction, agent=agent,
                         summary="no dial tone" if direction == "inbound" else "call-back")

    def promise(self, mark: str, at: str, due: str, by: str) -> str:
        return self.fact(at, "promise.made", mark, promised_by=by, what="restore service", due=due)

    def tick(self, at: str) -> str:
        return self.fact(at, "clock.ticked", source="clock")


AGENTS = [f"a-{i:02d}" for i in range(1, 11)] + [f"agent-{i}" for i in range(11, 23)]


def part_one(s: Story) -> None:
    """Thursday to Saturday morning: contacts, two promises (the first missed)."""
    agents = iter(AGENTS)
    s.call(ny(2026, 11, 5, 8, 0), agent=next(agents))                           # opens the case
    s.call(ny(2026, 11, 5, 8, 40), "outbound", agent=next(agents))
    s.promise("p1", ny(2026, 11, 5, 8, 45), ny(2026, 11, 5, 20, 0), by="a-02")
    s.call(ny(2026, 11, 5, 13, 0), agent=next(agents))
    s.call(ny(2026, 11, 5, 17, 30), agent=next(agents))                         # 3rd inbound: repeat escalation
    s.tick(ny(2026, 11, 5, 20, 30))                                             # p1 missed
    s.call(ny(2026, 11, 5, 21, 0), agent=next(agents))
    s.promise("p2", ny(2026, 11, 5, 21, 10), ny(2026, 11, 7, 12, 0), by="agent-15")
    s.call(ny(2026, 11, 6, 9, 0), agent=next(agents))
    s.call(ny(2026, 11, 6, 15, 0), "outbound", agent=next(agents))
    s.call(ny(2026, 11, 7, 9, 0), agent=next(agents))                           # Saturday


def part_two(s: Story, between: Callable[[int], None] = lambda i: None) -> None:
    """Saturday to Monday: the weekend handoff, p2 missed, the complaint, p3 kept, close."""
    steps = [
        lambda: s.fact(ny(2026, 11, 7, 10, 15), "handoff.requested", "weekend_handoff", to_queue="billing",
                       by="escalation-manager", reason="billing says the line is suspended"),
        lambda: s.tick(ny(2026, 11, 7, 12, 30)),                                # p2 missed
        lambda: s.fact(ny(2026, 11, 7, 13, 10), "handoff.requested", "oncall_handoff",
                       to_queue="billing-escalations", by="escalation-manager", reason="on-call"),
        lambda: s.fact(ny(2026, 11, 7, 13, 25), "handoff.responded", handoff_ref=s.refs["oncall_handoff"],
                       by="b-oncall-1", accepted=True),
        lambda: s.call(ny(2026, 11, 7, 16, 0), agent="agent-13"),
        lambda: s.call(ny(2026, 11, 8, 10, 0), agent="agent-14"),                # Sunday
        lambda: s.call(ny(2026, 11, 8, 12, 0), "outbound", agent="agent-16"),
        lambda: s.call(ny(2026, 11, 9, 8, 0), agent="agent-18"),                 # Monday
        lambda: s.fact(ny(2026, 11, 9, 8, 30), "complaint.regulatory_filed", "complaint", regulator="NY PSC",
                       reference="PSC-2026-991"),
        lambda: s.promise("p3", ny(2026, 11, 9, 9, 0), ny(2026, 11, 9, 12, 0), by="dana.senior"),
        lambda: s.call(ny(2026, 11, 9, 9, 30), "outbound", agent="agent-19"),
        lambda: s.fact(ny(2026, 11, 9, 10, 30), "promise.fulfilled", promise_ref=s.refs["p3"]),
        lambda: s.tick(ny(2026, 11, 9, 13, 0)),
        lambda: s.fact(ny(2026, 11, 9, 16, 0), "case.close_requested", by="dana.senior", resolution="restored"),
    ]
    for i, step in enumerate(steps):
        step()
        between(i)


# ---- reading the events topic --------------------------------------------------------

@dataclass(frozen=True)
class Seen:
    sequence: int
    type: str
    id: str
    source: str
    data: dict
    sequenced_at: float  # epoch seconds
    fact: Fact


def case_events(records: list, case_id: str) -> list[Seen]:
    out = []
    for r in records:
        if r.key.decode() != case_id:
            continue
        ev = envelope.decode(r.value)
        out.append(Seen(ev.sequence, ev.type, ev.event_id, ev.source, envelope.event_data(ev),
                        ev.sequenced_at.ToDatetime(tzinfo=timezone.utc).timestamp(), envelope.to_fact(ev)))
    return sorted(out, key=lambda e: e.sequence)


def by_case(records: list) -> dict[str, list[Seen]]:
    cases: dict[str, list] = defaultdict(list)
    for r in records:
        cases[r.key.decode()].append(r)
    return {c: case_events(rs, c) for c, rs in cases.items()}


def decisions(events: list[Seen]) -> list[Seen]:
    return [e for e in events if e.type.startswith(ESC)]


def of(events: list[Seen], name: str) -> list[Seen]:
    return [e for e in events if e.type == ESC + name]


def oracle_decision_ids(events: list[Seen]) -> set[str]:
    """Every decision id the escalation rules take on this exact sequenced history.

    The live service folds the same facts in the same order, so what it put on the
    topic must be exactly this set: nothing lost, nothing extra.
    """
    from escalation.domain.policy import load_policy
    from escalation.service_layer import EscalationService, InMemoryCaseRepository

    service = EscalationService(InMemoryCaseRepository(), load_policy())
    return {d.id for e in events for d in service.handle(e.fact)}


def start_escalation(stack: Any, **env: str) -> None:
    """Start escalation and wait until its own service reports SERVING.

    The overall health ("") of GrpcServer starts out SERVING (the grpc health default),
    so `stack.start` can return before partitions are assigned and state is restored.
    """
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from support.stack import wait_until

    # The shortest session the broker allows: a killed worker's partitions move sooner.
    stack.start("escalation", **{"CASESTREAM_CLOCK": "stream", "CASESTREAM_CONSUMER_SESSION_TIMEOUT_S": "6", **env})

    def serving() -> bool:
        try:
            with grpc.insecure_channel(stack.grpc_addr("escalation")) as ch:
                resp = health_pb2_grpc.HealthStub(ch).Check(
                    health_pb2.HealthCheckRequest(service="casestream.v1.EscalationService"), timeout=1)
                return resp.status == health_pb2.HealthCheckResponse.SERVING
        except grpc.RpcError:
            return False

    wait_until(serving, timeout=60, interval=0.2, what="escalation SERVING after assignment and recovery")
