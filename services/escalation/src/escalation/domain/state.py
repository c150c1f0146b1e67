"""Case state as a fold over facts (`evolve`). Nothing else changes state.

Escalation's own decisions change state only when they come back as facts, so a
decision emitted twice (before the first comes back) carries the same id and is
deduped by intake. The one exception the policy demands: `case.opened` gives the case
its intake-queue owner in the fold, so every sequence has an owner.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, Literal, Mapping

from casestream.facts import Fact

from .policy import Policy

ESC = "casestream.escalation."

CASE_OPENED = "casestream.case.opened"
CASE_REOPENED = "casestream.case.reopened"
CASE_CLOSED = "casestream.case.closed"
CONTACT_LOGGED = "casestream.contact.logged"
PROMISE_MADE = "casestream.promise.made"
PROMISE_FULFILLED = "casestream.promise.fulfilled"
HANDOFF_REQUESTED = "casestream.handoff.requested"
HANDOFF_RESPONDED = "casestream.handoff.responded"
COMPLAINT_FILED = "casestream.complaint.regulatory_filed"
STATUS_CHANGED = "casestream.case.status_changed"
REFUND_REQUESTED = "casestream.billing.refund_requested"
ADJUSTMENT_REQUESTED = "casestream.billing.adjustment_requested"
APPROVAL_DECIDED = "casestream.approval.decided"
CLOCK_TICKED = "casestream.clock.ticked"
PAYMENT_UNMATCHED = "casestream.billing.payment_unmatched"

MONEY_ACTIONS = {REFUND_REQUESTED: "refund", ADJUSTMENT_REQUESTED: "adjustment"}


def parse_time(value: Any, field_name: str = "time") -> datetime:
    """An aware datetime from a datetime or an RFC 3339 string."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise ValueError(f"{field_name}: {value!r} is not a time; expected an RFC 3339 string")
    if dt.tzinfo is None:
        raise ValueError(f"{field_name}: {value!r} has no UTC offset; expected an RFC 3339 time with offset")
    return dt


def iso(dt: datetime) -> str:
    return dt.isoformat()


@dataclass(frozen=True)
class Owner:
    """The one accountable owner: a person, or a queue whose accountable person is on duty."""

    kind: Literal["queue", "person"]
    id: str
    accountable: str
    queue: str | None = None

    def as_data(self) -> dict[str, Any]:
        return {"owner_kind": self.kind, "owner": self.id, "accountable": self.accountable, "queue": self.queue}


@dataclass(frozen=True)
class OwnerSpell:
    """The owner from `sequence` on, until the next spell."""

    sequence: int
    owner: Owner
    reason: str


@dataclass(frozen=True)
class SlaClock:
    """One SLA clock. Elapsed time is the business time of its running segments."""

    name: str  # first_response | resolution | regulatory | approval:<request_ref> | handoff:<handoff_ref>
    generation: int
    target: timedelta
    basis: Literal["business", "calendar"]
    calendar: str | None
    pausable: bool
    started_at: datetime
    segments: tuple[tuple[datetime, datetime], ...] = ()
    running_since: datetime | None = None
    met_at: datetime | None = None
    stopped_at: datetime | None = None
    warned: bool = False
    breached: bool = False

    @property
    def active(self) -> bool:
        return self.met_at is None and self.stopped_at is None and not self.breached

    @property
    def running(self) -> bool:
        return self.active and self.running_since is not None

    def pause(self, at: datetime) -> "SlaClock":
        if self.running_since is None:
            return self
        end = max(at, self.running_since)
        return replace(self, segments=self.segments + ((self.running_since, end),), running_since=None)

    def resume(self, at: datetime) -> "SlaClock":
        return self if self.running_since is not None or not self.active else replace(self, running_since=at)


@dataclass(frozen=True)
class Promise:
    ref: str
    promised_by: str
    what: str
    due: datetime
    made_at: datetime
    fulfilled_at: datetime | None = None
    status: Literal["open", "kept", "breached"] = "open"
    follow_up_due: bool = False
    customer_notice_due: bool = False


@dataclass(frozen=True)
class Handoff:
    ref: str
    to_queue: str
    by: str
    reason: str
    requested_at: datetime
    status: Literal["pending", "accepted", "refused"] = "pending"
    refusal: str | None = None
    # When the target queue answered. The answer settles the handoff, even while our
    # accept/refuse decision is still on its way back to be sequenced.
    responded_at: datetime | None = None


@dataclass(frozen=True)
class Approval:
    request_ref: str
    action: str
    amount_minor: int
    currency: str
    requested_by: str
    requested_at: datetime
    approver: str | None = None
    approval_ref: str | None = None  # ref of the approval_requested fact
    status: Literal["new", "pending", "granted", "denied"] = "new"
    # When someone with authority decided (settles it before our decision comes back).
    decided_at: datetime | None = None


@dataclass(frozen=True)
class Breach:
    """An SLA or promise breach, as recorded by its breach fact."""

    id: str
    kind: Literal["sla", "promise"]
    name: str  # the SLA name or the promise ref
    due: datetime
    ref: str  # ref of the breach fact


@dataclass(frozen=True)
class Contact:
    ref: str
    time: datetime
    direction: str
    agent: str


def _m(d: dict) -> Mapping:
    return MappingProxyType(d)


@dataclass(frozen=True)
class CaseState:
    case_id: str
    subject: str = ""
    status: Literal["new", "open", "closed"] = "new"
    work_status: str = "in_progress"
    priority: str | None = None
    owner: Owner | None = None
    owner_history: tuple[OwnerSpell, ...] = ()
    level: int = 0
    clock: datetime | None = None  # stream time: the latest fact time seen for this case
    last_sequence: int = 0
    slas: Mapping[str, SlaClock] = field(default_factory=lambda: _m({}))
    promises: Mapping[str, Promise] = field(default_factory=lambda: _m({}))
    handoffs: Mapping[str, Handoff] = field(default_factory=lambda: _m({}))
    approvals: Mapping[str, Approval] = field(default_factory=lambda: _m({}))
    contacts: tuple[Contact, ...] = ()
    last_repeat_escalation: datetime | None = None
    # contact ref -> the contact refs of the burst it completed (derived from contacts alone,
    # so a burst is counted once even before its escalation comes back sequenced)
    repeat_bursts: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _m({}))
    breaches: tuple[Breach, ...] = ()
    escalations: tuple[str, ...] = ()  # ids of escalated facts
    tasks: tuple[str, ...] = ()  # ids of task_opened facts

    def owner_at(self, sequence: int) -> Owner | None:
        """The accountable owner at a sequence (None before the case opened)."""
        found = None
        for spell in self.owner_history:
            if spell.sequence > sequence:
                break
            found = spell.owner
        return found

    def settled_at(self, clock_name: str) -> datetime | None:
        """When a handoff or approval clock's subject was answered, if it was (None otherwise)."""
        kind, _, ref = clock_name.partition(":")
        if kind == "handoff":
            h = self.handoffs.get(ref)
            return h.responded_at if h is not None else None
        if kind == "approval":
            a = self.approvals.get(ref)
            return a.decided_at if a is not None else None
        return None

    def approval_by_ref(self, ref: str) -> Approval | None:
        """An approval by its approval_requested ref or by its request ref."""
        if ref in self.approvals:
            return self.approvals[ref]
        return next((a for a in self.approvals.values() if a.approval_ref == ref), None)


def repeat_burst(state: CaseState, contact: Contact, policy: Policy) -> list[Contact]:
    """The contacts (oldest first) that `contact` completes into a repeat-contact burst, or [].

    Counted within the rule's window, and only after the previous burst's escalation time.
    """
    rule = policy.repeat_contacts
    if rule.direction == "inbound" and contact.direction != "inbound":
        return []
    since = contact.time.astimezone(timezone.utc) - rule.within
    if state.last_repeat_escalation is not None:
        since = max(since, state.last_repeat_escalation)
    counted = [c for c in state.contacts + (contact,)
               if (rule.direction == "any" or c.direction == "inbound") and since < c.time <= contact.time
               or c.ref == contact.ref]
    counted = sorted({c.ref: c for c in counted}.values(), key=lambda c: (c.time, c.ref))
    return counted if len(counted) >= rule.count else []


def intake_owner(policy: Policy) -> Owner:
    q = policy.queues[policy.intake_queue]
    return Owner("queue", policy.intake_queue, q.duty_owner, policy.intake_queue)


def _with(mapping: Mapping[str, Any], key: str, value: Any) -> Mapping[str, Any]:
    d = dict(mapping)
    d[key] = value
    return _m(d)


def _set_owner(state: CaseState, owner: Owner, sequence: int, reason: str) -> CaseState:
    return replace(state, owner=owner, owner_history=state.owner_history + (OwnerSpell(sequence, owner, reason),))


def evolve(state: CaseState, fact: Fact, policy: Policy) -> CaseState:
    """The state after `fact`. Pure; unknown fact types only advance the clock."""
    clock = fact.time if state.clock is None or fact.time > state.clock else state.clock
    s = replace(state, clock=clock, last_sequence=max(state.last_sequence, fact.sequence), subject=fact.subject)
    d = fact.data
    t = fact.type

    if t == CASE_OPENED:
        if s.status == "new":
            prio = d.get("priority") if d.get("priority") in policy.priorities else policy.default_priority
            s = replace(s, status="open", priority=prio)
            s = _set_owner(s, intake_owner(policy), fact.sequence, "case_opened")
    elif t == CASE_REOPENED:
        s = replace(s, status="open")
    elif t == CASE_CLOSED:
        slas = {k: (replace(c.pause(fact.time), stopped_at=fact.time) if c.active else c) for k, c in s.slas.items()}
        s = replace(s, status="closed", slas=_m(slas))
    elif t == CONTACT_LOGGED:
        contact = Contact(fact.ref, fact.time, d.get("direction", ""), d.get("agent", ""))
        burst = repeat_burst(s, contact, policy)
        s = replace(s, contacts=s.contacts + (contact,))
        if burst:
            s = replace(s, last_repeat_escalation=fact.time,
                        repeat_bursts=_with(s.repeat_bursts, fact.ref, tuple(c.ref for c in burst)))
        fr = s.slas.get("first_response")
        # First response is met by the first outbound contact (a call-back, reply or visit).
        if d.get("direction") == "outbound" and fr is not None and fr.active:
            s = replace(s, slas=_with(s.slas, "first_response", replace(fr.pause(fact.time), met_at=fact.time)))
    elif t == PROMISE_MADE:
        p = Promise(fact.ref, d["promised_by"], d["what"], parse_time(d["due"], "due"), fact.time)
        s = replace(s, promises=_with(s.promises, fact.ref, p))
    elif t == PROMISE_FULFILLED:
        p = s.promises.get(d.get("promise_ref", ""))
        if p is not None and p.fulfilled_at is None:
            s = replace(s, promises=_with(s.promises, p.ref, replace(p, fulfilled_at=fact.time)))
    elif t == HANDOFF_REQUESTED:
        h = Handoff(fact.ref, d["to_queue"], d["by"], d["reason"], fact.time)
        s = replace(s, handoffs=_with(s.handoffs, fact.ref, h))
    elif t == HANDOFF_RESPONDED:
        h = s.handoffs.get(d.get("handoff_ref", ""))
        if h is not None and h.status == "pending" and h.responded_at is None:
            s = replace(s, handoffs=_with(s.handoffs, h.ref, replace(h, responded_at=fact.time)))
    elif t == APPROVAL_DECIDED:
        a = s.approval_by_ref(d.get("approval_ref", ""))
        if a is not None and a.status in ("new", "pending") and a.decided_at is None:
            lim = policy.limit(d.get("approver", ""), a.action, a.currency)
            if lim is not None and lim >= a.amount_minor:  # a decision without authority settles nothing
                s = replace(s, approvals=_with(s.approvals, a.request_ref, replace(a, decided_at=fact.time)))
    elif t == STATUS_CHANGED:
        s = replace(s, work_status=d.get("status", s.work_status))
    elif t in MONEY_ACTIONS:
        a = Approval(fact.ref, MONEY_ACTIONS[t], int(d["amount_minor"]), d["currency"], d["requested_by"], fact.time)
        s = replace(s, approvals=_with(s.approvals, fact.ref, a))
    elif t.startswith(ESC):
        s = _evolve_own(s, fact, policy)
    return s


def _evolve_own(s: CaseState, fact: Fact, policy: Policy) -> CaseState:
    d = fact.data
    name = fact.type.removeprefix(ESC)
    if name == "owner_assigned":
        owner = Owner(d["owner_kind"], d["owner"], d["accountable"], d.get("queue"))
        return _set_owner(s, owner, fact.sequence, d.get("reason", ""))
    if name in ("handoff_accepted", "handoff_refused"):
        h = s.handoffs.get(d["handoff_ref"])
        if h is None or h.status != "pending":
            return s
        status = "accepted" if name == "handoff_accepted" else "refused"
        s = replace(s, handoffs=_with(s.handoffs, h.ref, replace(h, status=status, refusal=d.get("reason"))))
        clock = s.slas.get(f"handoff:{h.ref}")
        if clock is not None and clock.active:
            s = replace(s, slas=_with(s.slas, clock.name, replace(clock.pause(fact.time), met_at=fact.time)))
        return s
    if name == "sla_started":
        old = s.slas.get(d["sla"])
        if old is not None and old.generation >= d["generation"]:
            return s
        at = parse_time(d["at"], "at")
        paused = d["pausable"] and s.work_status in policy.sla.pause_statuses
        clock = SlaClock(
            name=d["sla"], generation=d["generation"], target=timedelta(seconds=d["target_seconds"]),
            basis=d["basis"], calendar=d.get("calendar"), pausable=d["pausable"], started_at=at,
            running_since=None if paused else at,
        )
        if clock.name == "first_response":
            # An outbound contact sequenced before this fact came back still counts.
            reply = next((c for c in s.contacts if c.direction == "outbound" and c.time >= at), None)
            if reply is not None:
                clock = replace(clock.pause(reply.time), met_at=reply.time)
        settled = s.settled_at(clock.name)
        if settled is not None:
            # Likewise an answer to the handoff or approval sequenced before this fact.
            clock = replace(clock.pause(max(settled, at)), met_at=max(settled, at))
        return replace(s, slas=_with(s.slas, d["sla"], clock))
    if name in ("sla_paused", "sla_resumed", "sla_warned", "sla_breached"):
        c = s.slas.get(d["sla"])
        if c is None or c.generation != d["generation"]:
            return s
        at = parse_time(d["at"], "at")
        if name == "sla_paused":
            c = c.pause(at)
        elif name == "sla_resumed":
            c = c.resume(at)
        elif name == "sla_warned":
            c = replace(c, warned=True)
        else:
            c = replace(c.pause(at), breached=True)
            s = replace(s, breaches=s.breaches + (Breach(fact.id, "sla", c.name, at, fact.ref),))
        return replace(s, slas=_with(s.slas, c.name, c))
    if name in ("promise_kept", "promise_breached", "follow_up_due", "customer_notice_due"):
        p = s.promises.get(d["promise_ref"])
        if p is None:
            return s
        if name == "promise_kept" and p.status == "open":
            p = replace(p, status="kept")
        elif name == "promise_breached" and p.status == "open":
            p = replace(p, status="breached")
            s = replace(s, breaches=s.breaches + (Breach(fact.id, "promise", p.ref, p.due, fact.ref),))
        elif name == "follow_up_due":
            p = replace(p, follow_up_due=True)
        elif name == "customer_notice_due":
            p = replace(p, customer_notice_due=True)
        return replace(s, promises=_with(s.promises, p.ref, p))
    if name == "escalated":
        if fact.id in s.escalations:
            return s
        s = replace(s, level=min(s.level + 1, policy.top_level), escalations=s.escalations + (fact.id,))
        if d.get("reason") == "repeat_contacts":
            at = parse_time(d["at"], "at")
            if s.last_repeat_escalation is None or at > s.last_repeat_escalation:
                s = replace(s, last_repeat_escalation=at)
        return s
    if name == "priority_changed":
        return replace(s, priority=d["to"])
    if name in ("approval_requested", "approval_granted", "approval_denied"):
        a = s.approvals.get(d["request_ref"])
        if a is None:
            return s
        if name == "approval_requested" and a.status == "new":
            a = replace(a, status="pending", approver=d["approver"], approval_ref=fact.ref)
        elif name == "approval_granted" and a.status in ("new", "pending"):
            a = replace(a, status="granted", approver=d["approver"])
        elif name == "approval_denied" and a.status in ("new", "pending") and d.get("final", True):
            a = replace(a, status="denied")
        else:
            return s
        s = replace(s, approvals=_with(s.approvals, a.request_ref, a))
        clock = s.slas.get(f"approval:{a.request_ref}")
        if a.status in ("granted", "denied") and clock is not None and clock.active:
            s = replace(s, slas=_with(s.slas, clock.name, replace(clock.pause(fact.time), met_at=fact.time)))
        return s
    if name == "task_opened":
        return replace(s, tasks=s.tasks + (fact.id,))
    return s
