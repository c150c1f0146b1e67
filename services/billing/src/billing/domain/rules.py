"""Billing's decisions: what to say after a fact is folded, when to dun, and the watchdog.

Everything here reads an `AccountState` and returns `Decision`s; nothing mutates state.
Decision ids are derived from the facts that caused them, so a replay repeats them and
intake's (source, id) dedupe drops the copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from casestream.facts import Decision, Fact

from billing.domain import events as ev
from billing.domain.model import AccountState, Charge, Dispute, days_between
from billing.domain.policy import BillingPolicy


def _decision(
    type_: str, id_: str, state: AccountState, policy: BillingPolicy, case_id: str, time: datetime, **data: Any,
) -> Decision:
    return Decision(type_, id_, case_id, state.account_id, time, {**data, "policy_version": policy.version})


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


# ---- decide ------------------------------------------------------------------------------

def decide(state: AccountState, fact: Fact, policy: BillingPolicy) -> list[Decision]:
    """Decisions caused by `fact`, given `state` with `fact` already folded into it."""
    rule = _RULES.get(fact.type)
    return rule(state, fact, policy) if rule else []


def _on_dispute_opened(state: AccountState, fact: Fact, policy: BillingPolicy) -> list[Decision]:
    dispute = state.disputes.get(fact.ref)
    if dispute is None:
        return []  # a repeat of an open dispute: its hold already stands
    hold = state.holds.get(dispute.hold_ref)
    if hold is None:
        return []
    return [_decision(
        ev.HOLD_PLACED, hold.ref, state, policy, fact.case_id, fact.time,
        hold_ref=hold.ref, scope=hold.scope, dispute_ref=dispute.dispute_ref, reason=hold.reason,
    )]


def _release(state: AccountState, policy: BillingPolicy, fact: Fact, dispute: Dispute, why: str) -> Decision:
    hold = state.holds[dispute.hold_ref]
    # One id per hold, whoever releases it: a second release is deduped, never doubled.
    return _decision(
        ev.HOLD_RELEASED, f"hold-released:{state.account_id}:{dispute.dispute_ref}", state, policy,
        fact.case_id, fact.time, hold_ref=hold.ref, scope=hold.scope, dispute_ref=dispute.dispute_ref, reason=why,
    )


def _on_dispute_ruled(state: AccountState, fact: Fact, policy: BillingPolicy) -> list[Decision]:
    dispute = next((d for d in state.disputes.values() if d.ruling_ref == fact.ref), None)
    if dispute is None:
        return []
    account = state.account_id
    out = [_decision(
        ev.DISPUTE_RESOLVED, f"dispute-resolved:{account}:{dispute.dispute_ref}", state, policy, fact.case_id, fact.time,
        reference=dispute.reference, dispute_ref=dispute.dispute_ref, outcome=dispute.status, ruled_by=dispute.ruled_by,
        credit_minor=dispute.credit_minor, currency=dispute.currency, hold_ref=dispute.hold_ref,
    )]
    if dispute.credit_minor > 0 and dispute.currency:
        out.append(_decision(
            ev.ADJUSTMENT_APPLIED, f"adjustment:{account}:{dispute.dispute_ref}", state, policy, fact.case_id, fact.time,
            reference=dispute.reference, amount_minor=dispute.credit_minor, currency=dispute.currency,
            cause="dispute_upheld", cause_ref=dispute.dispute_ref, authorised_by=dispute.ruled_by,
        ))
    if dispute.hold_ref in state.holds:
        out.append(_release(state, policy, fact, dispute, f"dispute {dispute.status}"))
    return out


def _on_evidence(state: AccountState, fact: Fact, policy: BillingPolicy) -> list[Decision]:
    evidence = state.evidence.get(fact.ref)
    if evidence is None:
        return []
    account = state.account_id
    common = dict(
        evidence_ref=evidence.evidence_ref, kind=evidence.kind, reference=evidence.reference,
        evidence_amount_minor=evidence.amount_minor, currency=evidence.currency, reason=evidence.reason,
    )
    if not evidence.matched:
        return [_decision(
            ev.PAYMENT_UNMATCHED, f"payment-unmatched:{account}:{fact.ref}", state, policy, fact.case_id, fact.time,
            task_owner=policy.unmatched_evidence.task_owner, **common,
        )]
    out = [_decision(
        ev.PAYMENT_MATCHED, f"payment-matched:{account}:{fact.ref}", state, policy, fact.case_id, fact.time,
        amount_minor=evidence.claim_minor, settled=state.unsettled(evidence.reference) <= 0, **common,
    )]
    if state.unsettled(evidence.reference) <= 0:
        # The deficiency is closed: a hold kept for it has nothing left to protect.
        for hold in state.holds.values():
            if hold.scope == evidence.reference:
                out.append(_release(state, policy, fact, state.disputes[hold.dispute_ref], "payment matched"))
    return out


def _on_approval_granted(state: AccountState, fact: Fact, policy: BillingPolicy) -> list[Decision]:
    request = state.requests.get(str(fact.data.get("request_ref", "")))
    if request is None or request.approval_ref not in (fact.data.get("approval_ref"), fact.ref):
        return []
    account = state.account_id
    if request.status == "mismatch":
        return [_decision(
            ev.INVARIANT_VIOLATED, f"invariant:{account}:{fact.ref}", state, policy, fact.case_id, fact.time,
            invariant="approval_matches_request", breaches=["approval_mismatch"], details=[request.problem],
            request_ref=request.request_ref, approval_ref=request.approval_ref, notice_ref=fact.ref,
        )]
    if request.status != "granted":
        return []
    type_, prefix = (ev.REFUND_ISSUED, "refund") if request.kind == "refund" else (ev.ADJUSTMENT_APPLIED, "adjustment")
    return [_decision(
        type_, f"{prefix}:{account}:{request.request_ref}", state, policy, fact.case_id, fact.time,
        reference=request.reference, amount_minor=request.amount_minor, currency=request.currency,
        cause=f"{request.kind}_approved", cause_ref=request.request_ref, request_ref=request.request_ref,
        approval_ref=request.approval_ref, requested_by=request.requested_by, reason=request.reason,
    )]


# ---- dunning -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DunningAssessment:
    """Whether a notice is due for one charge at `at`, and every reason why or why not."""

    account_id: str
    reference: str
    at: datetime
    would_send: bool
    level: int | None
    days_past_due: int | None
    outstanding_minor: int
    currency: str | None
    reasons: tuple[str, ...]
    notices_sent: tuple[str, ...]


def assess_dunning(state: AccountState, policy: BillingPolicy, reference: str, now: datetime) -> DunningAssessment:
    """The one evaluation both dunning and `explain_dunning` use, so they cannot disagree."""
    charge = state.charges.get(reference)
    sent = state.levels_sent(reference)
    sent_text = tuple(f"level {n.level} at {n.at.isoformat()} ({n.notice_ref})" for n in sent)
    if charge is None:
        return DunningAssessment(
            state.account_id, reference, now, False, None, None, 0, None,
            (f"no charge {reference!r} on account {state.account_id}",), sent_text,
        )
    blockers: list[str] = []
    unsettled = state.unsettled(reference)
    if unsettled <= 0:
        waiting = ", ".join(s.cause for s in state.pending_for(reference))
        blockers.append("paid" + (f" (posting pending for {waiting})" if waiting and state.outstanding(reference) > 0 else ""))
    days = days_between(charge.due, now)
    step = policy.dunning.level_due(days)
    if step is None:
        first = policy.dunning.schedule[0].days_past_due
        blockers.append(f"not yet due for a notice: {days} days past due on {charge.due.isoformat()}, first notice at {first}")
    for hold in state.holds_covering(reference):
        blockers.append(f"held by dispute {hold.dispute_ref} (hold {hold.ref}, scope {hold.scope}) since {hold.placed_at.isoformat()}")
    grace_until = state.grace_until(policy.bereavement.grace_days)
    if grace_until is not None and now < grace_until:
        blockers.append(f"bereavement grace until {grace_until.isoformat()}")
    highest = max((n for n in sent), key=lambda n: n.level, default=None)
    if step is not None and highest is not None and highest.level >= step.level:
        blockers.append(f"already sent level {highest.level} at {highest.at.isoformat()}")
    if blockers:
        reasons = tuple(blockers)
    else:
        reasons = (f"level {step.level} due: {days} days past due, {unsettled} {charge.currency} outstanding",)  # type: ignore[union-attr]
    return DunningAssessment(
        state.account_id, reference, now, not blockers, step.level if step else None, days,
        max(0, unsettled), charge.currency, reasons, sent_text,
    )


def explain_dunning(
    state: AccountState, policy: BillingPolicy, now: datetime, reference: str | None = None,
) -> tuple[DunningAssessment, ...]:
    """Why a notice would or would not be sent at `now`, for one charge or every charge."""
    refs = [reference] if reference is not None else list(state.charges)
    return tuple(assess_dunning(state, policy, ref, now) for ref in refs)


def dunning_notices(
    state: AccountState, policy: BillingPolicy, now: datetime, case_id: str | None = None,
) -> list[Decision]:
    """Notices due at `now`: one per charge, the highest level reached and not yet sent."""
    out = []
    for charge in state.charges.values():
        a = assess_dunning(state, policy, charge.reference, now)
        if a.would_send:
            out.append(_notice(state, policy, charge, a, case_id or charge.case_id))
    return out


def _notice(state: AccountState, policy: BillingPolicy, charge: Charge, a: DunningAssessment, case_id: str) -> Decision:
    return _decision(
        ev.NOTICE_ISSUED, f"dunning:{state.account_id}:{charge.reference}:{a.level}", state, policy, case_id, a.at,
        reference=charge.reference, level=a.level, days_past_due=a.days_past_due,
        outstanding_minor=a.outstanding_minor, currency=charge.currency, due=charge.due.isoformat(),
        reason=a.reasons[0],
    )


# ---- watchdog --------------------------------------------------------------------------------

def notice_breaches(state: AccountState, policy: BillingPolicy, fact: Fact) -> list[tuple[str, str]]:
    """(kind, detail) for every rule a folded dunning notice broke; empty when it was legitimate."""
    reference = str(fact.data.get("reference", ""))
    level = fact.data.get("level")
    breaches: list[tuple[str, str]] = []
    if reference not in state.charges:
        breaches.append(("unknown_charge", f"no charge {reference!r} on account {state.account_id}"))
    for hold in state.holds_covering(reference):
        breaches.append(("during_hold", f"hold {hold.ref} for dispute {hold.dispute_ref} active since {hold.placed_at.isoformat()}"))
    grace_until = state.grace_until(policy.bereavement.grace_days)
    if grace_until is not None and fact.time < grace_until:
        breaches.append(("during_grace", f"bereavement grace until {grace_until.isoformat()}"))
    if reference in state.charges and state.unsettled(reference) <= 0:
        breaches.append(("after_payment", f"charge {reference} was already paid"))
    earlier = [n for n in state.notices if n.reference == reference and n.level == level and n.notice_ref != fact.ref]
    if earlier:
        breaches.append(("duplicate_level", f"level {level} already sent at {earlier[0].at.isoformat()} ({earlier[0].notice_ref})"))
    return breaches


def _on_notice(state: AccountState, fact: Fact, policy: BillingPolicy) -> list[Decision]:
    breaches = notice_breaches(state, policy, fact)
    if not breaches:
        return []
    return [_decision(
        ev.INVARIANT_VIOLATED, f"invariant:{state.account_id}:{fact.ref}", state, policy, fact.case_id, fact.time,
        invariant="no_dunning_while_blocked", breaches=[k for k, _ in breaches], details=[d for _, d in breaches],
        notice_ref=fact.ref, notice_id=f"{fact.source}/{fact.id}", reference=fact.data.get("reference"),
        level=fact.data.get("level"),
    )]


_RULES: dict[str, Callable[[AccountState, Fact, BillingPolicy], list[Decision]]] = {
    ev.DISPUTE_OPENED: _on_dispute_opened,
    ev.DISPUTE_RULED: _on_dispute_ruled,
    ev.EVIDENCE_SUBMITTED: _on_evidence,
    ev.APPROVAL_GRANTED: _on_approval_granted,
    ev.NOTICE_ISSUED: _on_notice,
}
