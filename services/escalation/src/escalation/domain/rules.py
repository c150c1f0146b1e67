"""Escalation rules: `decide` reacts to one fact, `fire` fires the timers that are due.

Both are pure: state, fact or time and policy in, decisions out. Decision ids are
derived from the facts that caused them, so a replay or restart reproduces them and
intake's dedupe drops the copies. Every decision's data records `policy_version`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from casestream.facts import Decision, Fact

from .calendar import BusinessCalendar, WallClock
from .policy import Policy, SlaTarget
from .state import (
    ADJUSTMENT_REQUESTED, APPROVAL_DECIDED, CASE_OPENED, CASE_REOPENED, COMPLAINT_FILED, CONTACT_LOGGED, ESC,
    HANDOFF_REQUESTED, HANDOFF_RESPONDED, PAYMENT_UNMATCHED, PROMISE_FULFILLED, REFUND_REQUESTED, STATUS_CHANGED,
    Approval, CaseState, Owner, Promise, SlaClock, iso,
)

SOURCE = "escalation"


# ---- clocks ---------------------------------------------------------------------------

def clock_calendar(clock: SlaClock | SlaTarget, policy: Policy) -> BusinessCalendar | WallClock:
    """The calendar an SLA counts in: wall time, or a queue's opening hours."""
    if clock.basis == "calendar":
        return WallClock()
    name = clock.calendar if clock.calendar in policy.queues else policy.sla.calendar
    return BusinessCalendar(policy.queues[name])


def clock_elapsed(clock: SlaClock, now: datetime, policy: Policy) -> timedelta:
    cal = clock_calendar(clock, policy)
    total = sum((cal.elapsed(a, b) for a, b in clock.segments), timedelta(0))
    if clock.running_since is not None:
        total += cal.elapsed(clock.running_since, now)
    return total


def clock_deadline(clock: SlaClock, policy: Policy, fraction: float = 1.0) -> datetime | None:
    """When the running clock reaches `fraction` of its target; None unless running."""
    if not clock.running or clock.running_since is None:
        return None
    cal = clock_calendar(clock, policy)
    used = sum((cal.elapsed(a, b) for a, b in clock.segments), timedelta(0))
    return cal.add(clock.running_since, max(clock.target * fraction - used, timedelta(0)))


# ---- decision helpers ------------------------------------------------------------------

class _Out:
    """Collects one batch of decisions; dedupes ids and numbers escalations in the batch."""

    def __init__(self, state: CaseState, policy: Policy) -> None:
        self.state, self.policy, self.items, self._ids = state, policy, [], set()
        self._escalations = 0

    def emit(self, name: str, id_: str, when: datetime, /, **data: Any) -> None:
        if id_ in self._ids:
            return
        self._ids.add(id_)
        data["policy_version"] = self.policy.version
        self.items.append(Decision(ESC + name, id_, self.state.case_id, self.state.subject, when, data))

    def escalate(self, reason: str, cause_id: str, cause_ref: str | None, at: datetime, **extra: Any) -> None:
        id_ = f"escalate:{self.state.case_id}:{cause_id}"
        if id_ in self._ids or id_ in self.state.escalations:
            return
        self._escalations += 1
        level = min(self.state.level + self._escalations, self.policy.top_level)
        target = self.policy.escalation_levels[level]
        self.emit("escalated", id_, at, level=level, escalate_to=target.owner, role=target.role, reason=reason,
                  cause_id=cause_id, cause_ref=cause_ref, at=iso(at),
                  owner=self.state.owner.id if self.state.owner else None,
                  accountable=self.state.owner.accountable if self.state.owner else None, **extra)

    def assign(self, owner: Owner, reason: str, cause: str, cause_ref: str, at: datetime) -> None:
        prev = self.state.owner
        self.emit("owner_assigned", f"owner:{self.state.case_id}:{cause}", at, **owner.as_data(), reason=reason,
                  previous_owner=prev.id if prev else None, cause_ref=cause_ref)

    def start_sla(self, name: str, target: SlaTarget, at: datetime, cause_ref: str) -> None:
        old = self.state.slas.get(name)
        gen = old.generation + 1 if old is not None else 1
        self.emit("sla_started", f"sla-start:{self.state.case_id}:{name}:{gen}", at, sla=name, generation=gen,
                  at=iso(at), target_seconds=int(target.target.total_seconds()), basis=target.basis,
                  calendar=target.calendar or (self.policy.sla.calendar if target.basis == "business" else None),
                  pausable=target.pausable, priority=self.state.priority, cause_ref=cause_ref)


# ---- decide ---------------------------------------------------------------------------

def decide(state: CaseState, fact: Fact, policy: Policy) -> list[Decision]:
    """Decisions that `fact` calls for; `state` is the fold up to and including `fact`."""
    out = _Out(state, policy)
    _decide(state, fact, policy, out)
    return out.items


def react(before: CaseState, after: CaseState, fact: Fact, now: datetime, policy: Policy) -> list[Decision]:
    """One batch for one fact: timers that fell due before it, its decisions, then timers due by `now`.

    `after` is `evolve(before, fact)`. Firing on `before` first keeps causal order (a
    promise that broke at 20:00 is recorded before a 22:00 handoff is judged) and
    escalation levels count across the whole batch.
    """
    out = _Out(after, policy)
    if before.status != "new":
        # Strictly before the fact: a promise fulfilled exactly at its due time is kept.
        _fire(before, min(now, fact.time) - timedelta(microseconds=1), policy, out)
    _decide(after, fact, policy, out)
    _fire(after, now, policy, out)
    return out.items


def _decide(state: CaseState, fact: Fact, policy: Policy, out: _Out) -> None:
    t, d, at, case = fact.type, fact.data, fact.time, state.case_id

    if t == CASE_OPENED and state.owner is not None:
        out.assign(state.owner, "case_opened", fact.ref, fact.ref, at)
        targets = policy.sla.targets[state.priority or policy.default_priority]
        if "first_response" not in state.slas:
            out.start_sla("first_response", targets.first_response, at, fact.ref)
        if "resolution" not in state.slas:
            out.start_sla("resolution", targets.resolution, at, fact.ref)
    elif t == CASE_REOPENED:
        targets = policy.sla.targets[state.priority or policy.default_priority]
        out.start_sla("resolution", targets.resolution, at, fact.ref)
    elif t == CONTACT_LOGGED:
        _repeat_contacts(state, fact, policy, out)
    elif t == PROMISE_FULFILLED:
        p = state.promises.get(d.get("promise_ref", ""))
        if p is not None and p.status == "open" and p.fulfilled_at is not None and p.fulfilled_at <= p.due:
            out.emit("promise_kept", f"promise-kept:{case}:{p.ref}", at, promise_ref=p.ref, due=iso(p.due),
                     fulfilled_at=iso(p.fulfilled_at), promised_by=p.promised_by, fulfilled_ref=fact.ref)
    elif t == HANDOFF_REQUESTED:
        _handoff_requested(state, fact, policy, out)
    elif t == HANDOFF_RESPONDED:
        _handoff_responded(state, fact, policy, out)
    elif t == COMPLAINT_FILED:
        top = policy.regulatory.priority
        if state.priority != top:
            out.emit("priority_changed", f"priority:{case}:{fact.ref}", at, **{"from": state.priority}, to=top,
                     reason="regulatory_complaint", regulator=d.get("regulator"), reference=d.get("reference"),
                     cause_ref=fact.ref)
        senior = policy.regulatory.senior_owner
        if state.owner is None or state.owner.accountable != senior or state.owner.kind != "person":
            out.assign(Owner("person", senior, senior, policy.regulatory.queue), "regulatory_complaint",
                       fact.ref, fact.ref, at)
        out.start_sla("regulatory", policy.regulatory.sla, at, fact.ref)
    elif t == STATUS_CHANGED:
        pausing = d.get("status") in policy.sla.pause_statuses
        for c in state.slas.values():
            if not (c.active and c.pausable):
                continue
            if pausing and c.running:
                out.emit("sla_paused", f"sla-pause:{case}:{c.name}:{c.generation}:{fact.ref}", at, sla=c.name,
                         generation=c.generation, at=iso(at), status=d.get("status"), cause_ref=fact.ref)
            elif not pausing and not c.running:
                out.emit("sla_resumed", f"sla-resume:{case}:{c.name}:{c.generation}:{fact.ref}", at, sla=c.name,
                         generation=c.generation, at=iso(at), status=d.get("status"), cause_ref=fact.ref)
    elif t in (REFUND_REQUESTED, ADJUSTMENT_REQUESTED):
        a = state.approvals.get(fact.ref)
        if a is not None and a.status == "new":
            _approval_requested(state, a, policy, out, at)
    elif t == APPROVAL_DECIDED:
        _approval_decided(state, fact, policy, out)
    elif t == PAYMENT_UNMATCHED and state.owner is not None:
        out.emit("task_opened", f"task:{case}:{fact.ref}", at, kind="payment_unmatched", **state.owner.as_data(),
                 cause_ref=fact.ref, reference=d.get("reference"), amount_minor=d.get("amount_minor"),
                 currency=d.get("currency"))


def _repeat_contacts(state: CaseState, fact: Fact, policy: Policy, out: _Out) -> None:
    refs = state.repeat_bursts.get(fact.ref)
    if not refs:
        return
    # Anchored on the first counted contact (the fold found the burst; see state.repeat_burst).
    out.escalate("repeat_contacts", f"repeat-contacts:{refs[0]}", fact.ref, fact.time, contacts=len(refs),
                 within_seconds=int(policy.repeat_contacts.within.total_seconds()), contact_refs=list(refs))


def handoff_assessment(state: CaseState, to_queue: str, at: datetime, policy: Policy) -> dict[str, Any] | None:
    """Why a handoff to `to_queue` at `at` must be refused, or None if it may proceed."""
    q = policy.queues.get(to_queue)
    fallback = policy.intake_queue
    if q is None:
        return {"reason": "unknown_queue", "detail": f"no queue named {to_queue!r}", "alternative_queue": fallback}
    alt = q.after_hours_alternative or fallback
    cal = BusinessCalendar(q)
    if not cal.is_open(at):
        reopens = cal.next_open(at)
        return {"reason": "queue_closed", "detail": f"{to_queue} is closed until {iso(reopens)}",
                "reopens_at": iso(reopens), "alternative_queue": alt}
    closes = cal.next_close(at)
    if closes is not None and closes - at < policy.handoff.min_open:
        reopens = cal.next_open(closes)
        deadlines = [dl for c in state.slas.values() if (dl := clock_deadline(c, policy)) is not None]
        sla_due = min(deadlines) if deadlines else None
        if sla_due is None or reopens > sla_due:
            return {"reason": "queue_closing", "detail": f"{to_queue} closes at {iso(closes)} and stays closed "
                    f"until {iso(reopens)}, past the SLA deadline", "closes_at": iso(closes),
                    "reopens_at": iso(reopens), "sla_deadline": iso(sla_due) if sla_due else None,
                    "alternative_queue": alt}
    return None


def _handoff_requested(state: CaseState, fact: Fact, policy: Policy, out: _Out) -> None:
    h = state.handoffs.get(fact.ref)
    if h is None or h.status != "pending":
        return
    refusal = handoff_assessment(state, h.to_queue, fact.time, policy)
    if refusal is not None:
        out.emit("handoff_refused", f"handoff-refused:{state.case_id}:{h.ref}", fact.time, handoff_ref=h.ref,
                 to_queue=h.to_queue, requested_by=h.by, owner=state.owner.id if state.owner else None, **refusal)
        return
    acceptance = SlaTarget(target=policy.handoff.accept_within, basis="calendar", pausable=False)
    out.start_sla(f"handoff:{h.ref}", acceptance, fact.time, h.ref)


def _handoff_responded(state: CaseState, fact: Fact, policy: Policy, out: _Out) -> None:
    d = fact.data
    h = state.handoffs.get(d.get("handoff_ref", ""))
    if h is None or h.status != "pending":
        return
    case = state.case_id
    if not d.get("accepted"):
        out.emit("handoff_refused", f"handoff-refused:{case}:{h.ref}", fact.time, handoff_ref=h.ref,
                 to_queue=h.to_queue, requested_by=h.by, reason="declined", detail=f"declined by {d.get('by')}",
                 alternative_queue=None, owner=state.owner.id if state.owner else None, cause_ref=fact.ref)
        return
    refusal = handoff_assessment(state, h.to_queue, fact.time, policy)
    if refusal is not None and refusal["reason"] in ("unknown_queue", "queue_closed"):
        # Never accept into a closed queue, even if someone there says yes.
        out.emit("handoff_refused", f"handoff-refused:{case}:{h.ref}", fact.time, handoff_ref=h.ref,
                 to_queue=h.to_queue, requested_by=h.by, owner=state.owner.id if state.owner else None,
                 cause_ref=fact.ref, **refusal)
        return
    q = policy.queues[h.to_queue]
    by = d.get("by", "")
    accountable = by if by in q.members or by == q.duty_owner else q.duty_owner
    owner = Owner("queue", h.to_queue, accountable, h.to_queue)
    out.emit("handoff_accepted", f"handoff-accepted:{case}:{h.ref}", fact.time, handoff_ref=h.ref,
             to_queue=h.to_queue, accepted_by=by, previous_owner=state.owner.id if state.owner else None,
             cause_ref=fact.ref)
    out.assign(owner, "handoff_accepted", h.ref, fact.ref, fact.time)


def approvers_for(action: str, amount: int, currency: str, policy: Policy) -> list[str]:
    """People with authority for the amount, smallest sufficient limit first, then by name."""
    able = [(lim, p) for p in policy.approvals.people
            if (lim := policy.limit(p, action, currency)) is not None and lim >= amount]
    return [p for _, p in sorted(able)]


def _approval_data(a: Approval, **extra: Any) -> dict[str, Any]:
    return {"approval_ref": a.approval_ref or a.request_ref, "request_ref": a.request_ref, "action": a.action,
            "amount_minor": a.amount_minor, "currency": a.currency, "requested_by": a.requested_by, **extra}


def _approval_requested(state: CaseState, a: Approval, policy: Policy, out: _Out, at: datetime) -> None:
    case = state.case_id
    own = policy.limit(a.requested_by, a.action, a.currency)
    if own is not None and own >= a.amount_minor:
        out.emit("approval_granted", f"approval-granted:{case}:{a.request_ref}", at,
                 **_approval_data(a, approver=a.requested_by, basis="own_authority", limit_minor=own))
        return
    approvers = approvers_for(a.action, a.amount_minor, a.currency, policy)
    if not approvers:
        out.emit("approval_denied", f"approval-denied:{case}:{a.request_ref}", at, **_approval_data(
            a, approver=None, final=True, reason="no_authority",
            detail=f"nobody may approve a {a.action} of {a.amount_minor} {a.currency}"))
        return
    due = clock_calendar(policy.approvals.sla, policy).add(at, policy.approvals.sla.target)
    out.emit("approval_requested", f"approval-request:{case}:{a.request_ref}", at, **_approval_data(
        a, approver=approvers[0], approver_role=policy.approvals.people[approvers[0]],
        requester_limit_minor=own, due=iso(due)))
    out.start_sla(f"approval:{a.request_ref}", policy.approvals.sla, at, a.request_ref)


def _approval_decided(state: CaseState, fact: Fact, policy: Policy, out: _Out) -> None:
    d = fact.data
    a = state.approval_by_ref(d.get("approval_ref", ""))
    if a is None or a.status not in ("new", "pending"):
        return
    case, approver, grant = state.case_id, d.get("approver", ""), bool(d.get("grant"))
    lim = policy.limit(approver, a.action, a.currency)
    if lim is None or lim < a.amount_minor:
        role = policy.approvals.people.get(approver, "no role")
        limit_text = "no authority" if lim is None else f"a limit of {lim} {a.currency}"
        # A decision by someone without authority is rejected; the request stays open.
        out.emit("approval_denied", f"approval-denied:{case}:{a.request_ref}:{fact.ref}", fact.time,
                 **_approval_data(a, approver=approver, final=False, reason="approver_lacks_authority",
                                  detail=f"{approver} ({role}) has {limit_text} for a {a.action} of "
                                         f"{a.amount_minor} {a.currency}", cause_ref=fact.ref))
        return
    if grant:
        out.emit("approval_granted", f"approval-granted:{case}:{a.request_ref}", fact.time,
                 **_approval_data(a, approver=approver, basis="approver_authority", limit_minor=lim,
                                  cause_ref=fact.ref))
    else:
        out.emit("approval_denied", f"approval-denied:{case}:{a.request_ref}", fact.time,
                 **_approval_data(a, approver=approver, final=True, reason="declined_by_approver",
                                  detail=f"declined by {approver}", cause_ref=fact.ref))


# ---- timers ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Timer:
    """A durable timer derived from state: what falls due, and when."""

    id: str
    kind: str  # sla_warning | sla_breach | promise_due
    at: datetime
    subject: str  # the SLA name or the promise ref


def due_timers(state: CaseState, policy: Policy) -> list[Timer]:
    """Every unresolved timer of the case, earliest first (business deadlines need the policy's calendars)."""
    case, timers = state.case_id, []
    for c in state.slas.values():
        if not c.running:
            continue
        key = f"{case}:{c.name}:{c.generation}"
        # Answered in time, with our decision on its way back: nothing more falls due.
        settled = state.settled_at(c.name)
        if not c.warned:
            warn = clock_deadline(c, policy, policy.sla.warn_at)
            if warn is not None and (settled is None or warn < settled):
                timers.append(Timer(f"sla-warn:{key}", "sla_warning", warn, c.name))
        deadline = clock_deadline(c, policy)
        if deadline is not None and (settled is None or deadline < settled):
            timers.append(Timer(f"sla-breach:{key}", "sla_breach", deadline, c.name))
    for p in state.promises.values():
        if p.status == "open" and (p.fulfilled_at is None or p.fulfilled_at > p.due):
            timers.append(Timer(f"promise-breach:{case}:{p.ref}", "promise_due", p.due, p.ref))
    return sorted(timers, key=lambda t: (t.at, t.id))


def fire(state: CaseState, now: datetime, policy: Policy) -> list[Decision]:
    """Decisions for every timer at or before `now` that state has not yet resolved."""
    out = _Out(state, policy)
    _fire(state, now, policy, out)
    return out.items


def _fire(state: CaseState, now: datetime, policy: Policy, out: _Out) -> None:
    for timer in due_timers(state, policy):
        if timer.at > now:
            continue
        if timer.kind == "sla_warning":
            c = state.slas[timer.subject]
            out.emit("sla_warned", timer.id, timer.at, sla=c.name, generation=c.generation, at=iso(timer.at),
                     deadline=iso(clock_deadline(c, policy)), warn_at=policy.sla.warn_at,
                     **(state.owner.as_data() if state.owner else {}))
        elif timer.kind == "sla_breach":
            c = state.slas[timer.subject]
            out.emit("sla_breached", timer.id, timer.at, sla=c.name, generation=c.generation, at=iso(timer.at),
                     target_seconds=int(c.target.total_seconds()), basis=c.basis, priority=state.priority,
                     **(state.owner.as_data() if state.owner else {}))
            out.escalate("sla_breached", f"sla-breach:{c.name}:{c.generation}", None, timer.at)
            if c.name.startswith("handoff:"):
                _handoff_expired(state, c.name.removeprefix("handoff:"), timer.at, policy, out)
        else:
            _promise_breached(state, state.promises[timer.subject], timer, out)


def _handoff_expired(state: CaseState, ref: str, at: datetime, policy: Policy, out: _Out) -> None:
    h = state.handoffs.get(ref)
    if h is None or h.status != "pending":
        return
    q = policy.queues.get(h.to_queue)
    alt = (q.after_hours_alternative if q else None) or policy.intake_queue
    out.emit("handoff_refused", f"handoff-refused:{state.case_id}:{h.ref}", at, handoff_ref=h.ref,
             to_queue=h.to_queue, requested_by=h.by, owner=state.owner.id if state.owner else None,
             reason="not_accepted_in_time", detail=f"no answer from {h.to_queue} within "
             f"{int(policy.handoff.accept_within.total_seconds() // 60)} minutes", alternative_queue=alt)


def _promise_breached(state: CaseState, p: Promise, timer: Timer, out: _Out) -> None:
    case, at = state.case_id, timer.at
    owner = state.owner.as_data() if state.owner else {}
    common = {"promise_ref": p.ref, "due": iso(p.due), "promised_by": p.promised_by, "what": p.what}
    out.emit("promise_breached", timer.id, at, **common, fulfilled_at=iso(p.fulfilled_at) if p.fulfilled_at else None,
             **owner)
    out.emit("follow_up_due", f"follow-up:{case}:{p.ref}", at, **common, **owner, audience="owner")
    # Customer-facing: no free text (it may hold PII); notify renders the wording from the ref.
    out.emit("customer_notice_due", f"customer-notice:{case}:{p.ref}", at, promise_ref=p.ref, due=iso(p.due),
             audience="customer")
    out.escalate("promise_breached", f"promise-breach:{p.ref}", None, at)


def merge(*batches: Iterable[Decision]) -> list[Decision]:
    """Concatenate decision batches, keeping the first of any repeated id."""
    seen, out = set(), []
    for batch in batches:
        for dec in batch:
            if dec.id not in seen:
                seen.add(dec.id)
                out.append(dec)
    return out
