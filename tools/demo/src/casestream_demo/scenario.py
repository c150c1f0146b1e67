"""The scenario driver: the internal systems' CloudEvents, submitted through intake's gRPC API.

The services run on the stream clock: time passes only as event time advances, and a
service's clock never goes back. Each run therefore uses a fresh run id (in account ids
and event ids) and anchors its dates after the latest event time already in the log.
After every event the driver waits until the services have reacted (escalation has
folded the sequence, and the case has been quiet for a moment), and for the decisions a
step is about, so the order of the story in the log is the same on every run.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from casestream import cloudevents_codec, topics
from casestream.v1 import (billing_pb2_grpc, case_pb2, case_pb2_grpc, escalation_pb2, escalation_pb2_grpc,
                           intake_pb2, intake_pb2_grpc, notify_pb2_grpc)

NY = ZoneInfo("America/New_York")
UTC = timezone.utc
DEFAULT_THURSDAY = date(2026, 11, 5)
QUIET_S = float(os.environ.get("CASESTREAM_DEMO_QUIET_S", "0.3"))
DECISION_TIMEOUT_S = float(os.environ.get("CASESTREAM_DEMO_DECISION_TIMEOUT_S", "15"))
DEFAULT_ADDRS = {"intake": "127.0.0.1:50051", "escalation": "127.0.0.1:50052", "billing": "127.0.0.1:50053",
                 "notify": "127.0.0.1:50054"}
DECISION_SERVICES = ("escalation", "billing", "notify")


class DemoError(RuntimeError):
    """The demo cannot go on (intake down, an event rejected)."""


def health(addr: str, timeout: float = 2.0) -> str:
    try:
        with grpc.insecure_channel(addr) as ch:
            resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
            return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
    except grpc.RpcError as e:
        return e.code().name


# ---- where the story starts ------------------------------------------------------------------

def latest_event_time(bootstrap: str, topic: str | None = None) -> datetime | None:
    """The max `ce_time` in case.events.v1 (None on an empty log)."""
    from casestream import kafka

    latest: datetime | None = None
    for rec in kafka.read_all(bootstrap, topic or topics.EVENTS):
        for k, v in rec.headers or []:
            if k == "ce_time" and v:
                t = datetime.fromisoformat(v.decode().replace("Z", "+00:00"))
                if latest is None or t > latest:
                    latest = t
    return latest


def anchor_thursday(latest: datetime | None) -> date:
    """The first Thursday at least 7 days after `latest` (never before Thursday 5 Nov 2026)."""
    if latest is None:
        return DEFAULT_THURSDAY
    d = (latest.astimezone(NY) + timedelta(days=7)).date()
    d += timedelta(days=(3 - d.weekday()) % 7)
    return max(d, DEFAULT_THURSDAY)


# ---- the driver -------------------------------------------------------------------------------

@dataclass
class Sent:
    """One submitted event and where intake put it."""

    source: str
    id: str
    type: str
    time: datetime
    data: dict[str, Any]
    case_id: str
    sequence: int

    @property
    def ref(self) -> str:
        return f"{self.case_id}#{self.sequence}"


@dataclass
class Waited:
    what: str
    ok: bool
    seconds: float


class Driver:
    """Submits events through intake and waits for the services' decisions."""

    def __init__(self, addrs: dict[str, str], run_id: str, log: Callable[[str], None] = print) -> None:
        self.addrs, self.run_id, self.log = addrs, run_id, log
        self.channels = {name: grpc.insecure_channel(addr) for name, addr in addrs.items()}
        self.intake = intake_pb2_grpc.IntakeServiceStub(self.channels["intake"])
        self.cases = case_pb2_grpc.CaseServiceStub(self.channels["intake"])
        self.escalation = escalation_pb2_grpc.EscalationServiceStub(self.channels["escalation"])
        self.billing = billing_pb2_grpc.BillingServiceStub(self.channels["billing"])
        self.notify = notify_pb2_grpc.NotifyServiceStub(self.channels["notify"])
        self.status = {name: health(addr) for name, addr in addrs.items()}
        self.up = {name for name, s in self.status.items() if s == "SERVING"}
        self._ids = itertools.count(1)
        self.sent: list[Sent] = []
        self.waits: list[Waited] = []
        self._events: dict[str, list[case_pb2.CaseEventRecord]] = {}
        if "intake" not in self.up:
            raise DemoError(f"intake is not SERVING at {addrs['intake']} ({self.status['intake']}); run `make up`")

    def close(self) -> None:
        for ch in self.channels.values():
            ch.close()

    # -- writing --

    def send(self, source: str, type_: str, subject: str, at: datetime, settle: bool = True,
             **data: Any) -> Sent:
        """Submit one CloudEvent, wait until it is sequenced, then let the services react."""
        event_id = f"{source}-{self.run_id}-{next(self._ids):03d}"
        body = cloudevents_codec.to_json(id=event_id, source=source, type=f"casestream.{type_}", subject=subject,
                                         time=at.astimezone(UTC), data=data)
        request = intake_pb2.SubmitRequest(event=intake_pb2.InboundEvent(json=body.decode()), wait_sequenced=True,
                                           timeout_ms=20_000)
        resp = self.intake.Submit(request, timeout=30)
        for _ in range(3):  # a slow machine: Submit is idempotent on (source, id), so wait again
            if resp.status != intake_pb2.SUBMIT_STATUS_ACCEPTED:
                break
            resp = self.intake.Submit(request, timeout=30)
        if resp.status not in (intake_pb2.SUBMIT_STATUS_SEQUENCED, intake_pb2.SUBMIT_STATUS_DUPLICATE):
            raise DemoError(f"intake did not sequence {type_} {event_id}: "
                            f"{intake_pb2.SubmitStatus.Name(resp.status)} {resp.reason}")
        sent = Sent(source, event_id, f"casestream.{type_}", at, data, resp.case_id, resp.sequence)
        self.sent.append(sent)
        if settle:
            self.settle(resp.case_id)
        return sent

    def tick(self, subject: str, at: datetime) -> Sent:
        """Move the stream clock when nothing else happens (no data)."""
        return self.send("scheduler", "clock.ticked", subject, at)

    # -- reading back --

    def events(self, case_id: str) -> list[case_pb2.CaseEventRecord]:
        """Every event of the case so far, read incrementally from intake."""
        have = self._events.setdefault(case_id, [])
        token = ""
        while True:
            page = self.cases.ListCaseEvents(case_pb2.ListCaseEventsRequest(
                case_id=case_id, from_sequence=len(have) + 1, page_size=500, page_token=token), timeout=10)
            for e in page.events:
                if e.sequence == len(have) + 1:
                    have.append(e)
            token = page.next_page_token
            if not token:
                return have

    def last_sequence(self, case_id: str) -> int:
        return self.cases.GetCase(case_pb2.GetCaseRequest(case_id=case_id), timeout=10).case.last_sequence

    def settle(self, case_id: str, max_s: float = 20.0) -> None:
        """Wait until escalation has folded the case's last sequence and the case is quiet."""
        deadline = time.monotonic() + max_s
        last = self.last_sequence(case_id)
        self._escalation_caught_up(case_id, last, deadline)
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now_last = self.last_sequence(case_id)
            if now_last != last:
                last = now_last
                self._escalation_caught_up(case_id, last, deadline)
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET_S:
                return

    def _escalation_caught_up(self, case_id: str, seq: int, deadline: float) -> None:
        if "escalation" not in self.up:
            return
        while time.monotonic() < deadline:
            try:
                self.escalation.GetOwnership(escalation_pb2.GetOwnershipRequest(case_id=case_id, min_sequence=seq),
                                             timeout=max(0.5, min(5.0, deadline - time.monotonic())))
                return
            except grpc.RpcError as e:
                if e.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.DEADLINE_EXCEEDED,
                                    grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNAVAILABLE,
                                    grpc.StatusCode.ABORTED):
                    return
                time.sleep(0.05)

    def wait_for(self, case_id: str, service: str, type_: str, what: str,
                 where: Callable[[dict[str, Any]], bool] = lambda d: True) -> case_pb2.CaseEventRecord | None:
        """Wait for a decision of `type_` in the case (skipped, and recorded, when its service is down)."""
        started = time.monotonic()
        if service not in self.up:
            self.waits.append(Waited(f"{what} (skipped: {service} not running)", False, 0.0))
            return None
        deadline = started + DECISION_TIMEOUT_S
        while True:
            for e in self.events(case_id):
                if e.type == type_ and where(json.loads(e.data_json or "{}")):
                    self.waits.append(Waited(what, True, time.monotonic() - started))
                    self.settle(case_id)
                    return e
            if time.monotonic() > deadline:
                self.waits.append(Waited(f"{what} (no {type_} after {DECISION_TIMEOUT_S:.0f}s)", False,
                                         time.monotonic() - started))
                return None
            time.sleep(0.1)


# ---- the stories -------------------------------------------------------------------------------

AGENTS = [f"a-{i:02d}" for i in range(1, 11)] + [f"agent-{i}" for i in range(11, 23)]


@dataclass
class TelecomStory:
    account: str
    case_id: str = ""
    start: datetime | None = None
    end: datetime | None = None
    contacts: list[Sent] = field(default_factory=list)
    promises: dict[str, Sent] = field(default_factory=dict)
    fulfilled: dict[str, Sent] = field(default_factory=dict)
    handoffs: dict[str, Sent] = field(default_factory=dict)
    complaint: Sent | None = None
    ticks: list[Sent] = field(default_factory=list)


@dataclass
class WidowStory:
    account: str
    reference: str
    case_id: str = ""
    start: datetime | None = None
    end: datetime | None = None
    charge: Sent | None = None
    bereavement: Sent | None = None
    evidence: Sent | None = None
    dispute: Sent | None = None
    ruling: Sent | None = None


def run_telecom(d: Driver, thursday: date) -> TelecomStory:
    """22 contacts over five days, three promises, a weekend transfer, a complaint to the PSC."""
    acct = f"ACC-TEL-{d.run_id}"
    st = TelecomStory(acct)
    agents = iter(AGENTS)

    def at(day: int, hh: int, mm: int = 0) -> datetime:
        return datetime.combine(thursday + timedelta(days=day), datetime.min.time(), NY).replace(hour=hh, minute=mm)

    def contact(day: int, hh: int, mm: int, channel: str, summary: str, direction: str = "inbound") -> Sent:
        source = "pbx" if channel == "phone" else "crm"
        s = d.send(source, "contact.logged", acct, at(day, hh, mm), channel=channel, direction=direction,
                   agent=next(agents), summary=summary)
        st.contacts.append(s)
        st.case_id = st.case_id or s.case_id
        return s

    def promise(name: str, day: int, hh: int, mm: int, due: datetime, by: str, what: str) -> None:
        st.promises[name] = d.send("crm", "promise.made", acct, at(day, hh, mm), promised_by=by, what=what,
                                   due=due.isoformat())

    def tick(day: int, hh: int, mm: int) -> None:
        st.ticks.append(d.tick(acct, at(day, hh, mm)))

    def breach_of(name: str) -> None:
        ref = st.promises[name].ref
        d.wait_for(st.case_id, "escalation", "casestream.escalation.promise_breached", f"promise {name} breached",
                   lambda x: x.get("promise_ref") == ref)
        d.wait_for(st.case_id, "escalation", "casestream.escalation.follow_up_due", f"follow-up due for {name}",
                   lambda x: x.get("promise_ref") == ref)

    st.start = at(0, 8, 0)
    # Thursday
    contact(0, 8, 0, "phone", "no dial tone since last night")
    contact(0, 8, 40, "phone", "call-back: line test fails at the exchange", "outbound")
    promise("p1", 0, 8, 45, at(0, 20, 0), "a-02", "restore dial tone by 8pm today")
    contact(0, 13, 0, "chat", "still no service; asks for an update")
    contact(0, 17, 30, "phone", "third contact today; nobody can see the earlier calls")
    tick(0, 20, 5)                                                         # p1's deadline passes
    breach_of("p1")
    contact(0, 21, 0, "phone", "was promised 8pm; still no dial tone")
    promise("p2", 0, 21, 10, at(2, 12, 0), "agent-15", "technician visit and restoration by Saturday noon")
    # Friday
    contact(1, 9, 0, "email", "written complaint: two days without a phone line")
    d.send("crm", "case.status_changed", acct, at(1, 9, 30), status="waiting_on_customer", by="a-07")
    contact(1, 11, 0, "phone", "customer confirms access for the technician")
    d.send("crm", "case.status_changed", acct, at(1, 11, 5), status="in_progress", by="a-08")
    contact(1, 15, 0, "phone", "technician dispatch confirmed for Saturday", "outbound")
    d.send("field-service", "note.added", acct, at(1, 16, 0), author="tech-31",
           text="cabinet checked: cable fault upstream of the street cabinet, needs network ops")
    contact(1, 19, 0, "social", "public post: still offline, 50 people and no answer")
    # Saturday
    contact(2, 9, 0, "store", "walks into the store; staff cannot see the case history")
    contact(2, 10, 0, "phone", "line now shows 'suspended for non-payment'")
    st.handoffs["weekend"] = d.send("crm", "handoff.requested", acct, at(2, 10, 15), to_queue="billing",
                                    by="escalation-manager", reason="billing says the line is suspended")
    d.wait_for(st.case_id, "escalation", "casestream.escalation.handoff_refused", "weekend handoff to billing refused",
               lambda x: x.get("handoff_ref") == st.handoffs["weekend"].ref)
    tick(2, 12, 5)                                                         # p2's deadline passes
    breach_of("p2")
    contact(2, 13, 0, "phone", "technician did not come; promised noon")
    st.handoffs["oncall"] = d.send("crm", "handoff.requested", acct, at(2, 13, 10), to_queue="billing-escalations",
                                   by="escalation-manager", reason="proposed alternative: billing on-call")
    d.send("billing-system", "handoff.responded", acct, at(2, 13, 25), handoff_ref=st.handoffs["oncall"].ref,
           by="b-oncall-1", accepted=True)
    d.wait_for(st.case_id, "escalation", "casestream.escalation.handoff_accepted", "handoff to on-call accepted",
               lambda x: x.get("handoff_ref") == st.handoffs["oncall"].ref)
    refund = d.send("billing-system", "billing.refund_requested", acct, at(2, 13, 40), reference=f"CREDIT-{d.run_id}",
                    amount_minor=12000, currency="USD", requested_by="b-oncall-2", reason="five days without service")
    d.send("billing-system", "approval.decided", acct, at(2, 14, 0), approval_ref=refund.ref, approver="b-oncall-1",
           grant=True)
    contact(2, 16, 0, "chat", "asks whether the suspension is lifted")
    contact(2, 20, 0, "phone", "still no dial tone")
    # Sunday
    contact(3, 10, 0, "email", "third day of outage; asks for a date")
    contact(3, 12, 0, "phone", "call-back: network ops found the cut cable", "outbound")
    contact(3, 18, 0, "social", "public post tagging the regulator")
    # Monday
    contact(4, 8, 0, "phone", "customer says she has filed with the state PSC")
    st.complaint = d.send("crm", "complaint.regulatory_filed", acct, at(4, 8, 30), regulator="NY PSC",
                          reference=f"PSC-{d.run_id}")
    d.wait_for(st.case_id, "escalation", "casestream.escalation.priority_changed", "complaint raised the priority")
    promise("p3", 4, 9, 0, at(4, 12, 0), "dana.senior", "restore service by noon today")
    contact(4, 9, 30, "phone", "dana.senior calls: crew on site", "outbound")
    contact(4, 10, 0, "chat", "customer confirms the crew is there")
    st.fulfilled["p3"] = d.send("field-service", "promise.fulfilled", acct, at(4, 10, 30),
                                promise_ref=st.promises["p3"].ref, by="tech-31", note="cable spliced, dial tone back")
    d.wait_for(st.case_id, "escalation", "casestream.escalation.promise_kept", "promise p3 kept",
               lambda x: x.get("promise_ref") == st.promises["p3"].ref)
    contact(4, 11, 0, "phone", "call-back: service restored and tested", "outbound")
    contact(4, 15, 0, "email", "customer thanks the senior owner")
    tick(4, 15, 30)
    d.send("crm", "case.close_requested", acct, at(4, 16, 0), by="dana.senior", resolution="service restored")
    st.end = at(4, 16, 0)
    assert len(st.contacts) == 22, len(st.contacts)
    return st


def run_widow(d: Driver, start: date) -> WidowStory:
    """A paid charge dunned after a bereavement: the check matched, the dispute held, no notice after."""
    acct = f"ACC-WID-{d.run_id}"
    st = WidowStory(acct, reference=f"INV-{d.run_id}-0931")

    def at(day: int, hh: int = 14) -> datetime:
        return datetime.combine(start + timedelta(days=day), datetime.min.time(), NY).replace(hour=hh)

    st.start = at(0)
    st.charge = d.send("billing-system", "billing.charge_posted", acct, at(0), reference=st.reference,
                       amount_minor=8450, currency="USD", due=at(14).isoformat(), holder="Robert Hale")
    st.case_id = st.charge.case_id
    for day in (8, 15, 22):                                   # Robert paid by check on day 12; never posted
        d.tick(acct, at(day))
    st.bereavement = d.send("crm", "account.holder_changed", acct, at(24), new_holder="Mary Hale",
                            reason="bereavement", by="a-05")
    d.tick(acct, at(25))
    st.evidence = d.send("billing-system", "billing.payment_evidence_submitted", acct, at(26), kind="cancelled_check",
                         reference=st.reference, amount_minor=8450, currency="USD", payer_name="Robert Hale",
                         check_number="1043")
    d.wait_for(st.case_id, "billing", "casestream.billing.payment_matched", "cancelled check matched",
               lambda x: x.get("reference") == st.reference)
    st.dispute = d.send("crm", "billing.dispute_opened", acct, at(27), reference=st.reference,
                        reason="deficiency notice although the cancelled check proves payment")
    for day in (30, 35):
        d.tick(acct, at(day))
    st.ruling = d.send("billing-system", "billing.dispute_ruled", acct, at(40), reference=st.reference,
                       outcome="upheld", by="billing-supervisor-2")
    d.wait_for(st.case_id, "billing", "casestream.billing.dispute_resolved", "dispute ruled and resolved",
               lambda x: x.get("reference") == st.reference)
    for day in (45, 60, 90, 120, 125):                        # past the bereavement grace: still no notice
        d.tick(acct, at(day))
    st.end = at(125)
    return st


def new_run_id() -> str:
    return uuid.uuid4().hex[:8].upper()
