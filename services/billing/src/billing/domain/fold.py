"""The billing projection: `fold(state, fact)` is the only way an account's state changes.

Facts from internal systems are validated against the catalogue. Billing's own
decisions change state only when they come back as facts. Two things take effect as
soon as their fact is folded, before billing has said anything, because a notice must
never race them: a dispute's hold, and money billing has decided to post (`pending`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Callable, Mapping

from pydantic import ValidationError

from casestream.catalogue import validate_data
from casestream.facts import Fact

from billing.domain import events as ev
from billing.domain.model import (
    ACCOUNT_SCOPE, AccountState, Charge, Dispute, DunningHold, Evidence, HolderChange, LedgerEntry,
    MoneyRequest, NoticeSent, Settlement, Violation,
)


class MalformedFact(ValueError):
    """A fact's data does not match the catalogue; the message names the field."""


def hold_ref_for(account_id: str, dispute_ref: str) -> str:
    return f"hold:{account_id}:{dispute_ref}"


def dedupe_key(fact: Fact) -> str:
    # (source, id) is the idempotency key intake dedupes on, so it names one fact.
    return f"{fact.source}/{fact.id}"


def fold(state: AccountState, fact: Fact) -> AccountState:
    """Return the state after `fact`; a fact already folded (redelivery) changes nothing."""
    key = dedupe_key(fact)
    if key in state.seen:
        return state
    clock = fact.time if state.clock is None or fact.time > state.clock else state.clock
    state = replace(state, events_folded=state.events_folded + 1, clock=clock, seen=state.seen | {key})
    apply = _APPLY.get(fact.type)
    return apply(state, fact) if apply else state


# ---- helpers --------------------------------------------------------------------------

def _data(fact: Fact) -> Any:
    try:
        return validate_data(fact.type, dict(fact.data))
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "data"
        raise MalformedFact(f"{fact.type} {fact.ref}: data.{where}: {err['msg']}") from None


def _with(mapping: Mapping, key: str, value: Any) -> Mapping:
    new = dict(mapping)
    new[key] = value
    return MappingProxyType(new)


def _without(mapping: Mapping, key: str) -> Mapping:
    if key not in mapping:
        return mapping
    new = dict(mapping)
    del new[key]
    return MappingProxyType(new)


def _entry(state: AccountState, fact: Fact, kind: str, reference: str, amount: int, currency: str) -> AccountState:
    if amount <= 0:
        return state
    entry = LedgerEntry(fact.time, kind, reference, int(amount), currency, fact.case_id, fact.sequence, fact.ref)  # type: ignore[arg-type]
    return replace(state, entries=state.entries + (entry,))


def _str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


def _int(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ---- facts from internal systems -----------------------------------------------------

def _charge_posted(state: AccountState, fact: Fact) -> AccountState:
    d = _data(fact)
    if d.reference not in state.charges:
        charge = Charge(d.reference, d.currency, d.due, fact.time, fact.case_id, fact.ref)
        state = replace(state, charges=_with(state.charges, d.reference, charge))
    # A second charge with the same reference adds to it: a reference names one charge.
    return _entry(state, fact, "charge", d.reference, d.amount_minor, d.currency)


def _payment_received(state: AccountState, fact: Fact) -> AccountState:
    d = _data(fact)
    return _entry(state, fact, "payment", d.reference, d.amount_minor, d.currency)


def _evidence_submitted(state: AccountState, fact: Fact) -> AccountState:
    d = _data(fact)
    # Matching is by this account and the charge reference only: the holder's name
    # changes (bereavement, rename) and must never decide whether a payment counts.
    charge = state.charges.get(d.reference)
    if charge is None:
        matched, claim, reason = False, 0, f"no charge with reference {d.reference!r} on account {state.account_id}"
    elif charge.currency != d.currency:
        matched, claim, reason = False, 0, f"currency {d.currency} does not match charge {d.reference} in {charge.currency}"
    else:
        claim = min(d.amount_minor, max(0, state.unsettled(d.reference)))
        matched, reason = True, (
            f"matched charge {d.reference} on account {state.account_id}"
            + ("" if claim == d.amount_minor else f"; {d.amount_minor - claim} {d.currency} beyond what was owed is not posted")
        )
    evidence = Evidence(fact.ref, d.kind, d.reference, d.amount_minor, d.currency, fact.time, matched, claim, reason)
    state = replace(state, evidence=_with(state.evidence, fact.ref, evidence))
    if claim > 0:
        settlement = Settlement(d.reference, claim, d.currency, fact.ref)
        state = replace(state, pending=_with(state.pending, fact.ref, settlement))
    return state


def _dispute_opened(state: AccountState, fact: Fact) -> AccountState:
    d = _data(fact)
    if state.open_dispute(d.reference) is not None:
        return state  # the same complaint again: one dispute, one hold
    charge = state.charges.get(d.reference)
    hold_ref = hold_ref_for(state.account_id, fact.ref)
    dispute = Dispute(
        reference=d.reference, dispute_ref=fact.ref, reason=d.reason, opened_at=fact.time,
        case_id=fact.case_id, hold_ref=hold_ref,
        currency=charge.currency if charge else _str(fact.data, "currency") or None,
        amount_minor=_int(fact.data, "amount_minor"),
    )
    scope = ACCOUNT_SCOPE if d.reference == ACCOUNT_SCOPE else d.reference
    hold = DunningHold(hold_ref, scope, f"dispute: {d.reason}", fact.ref, fact.time)
    return replace(
        state,
        disputes=_with(state.disputes, fact.ref, dispute),
        holds=_with(state.holds, hold_ref, hold),
    )


def _dispute_ruled(state: AccountState, fact: Fact) -> AccountState:
    d = _data(fact)
    dispute = state.open_dispute(d.reference)
    if dispute is None:
        return state
    credit = 0
    if d.outcome == "upheld":
        if d.reference in state.charges:
            owed = max(0, state.unsettled(d.reference))
            credit = owed if dispute.amount_minor is None else min(dispute.amount_minor, owed)
        elif dispute.currency and dispute.amount_minor:
            credit = dispute.amount_minor
    ruled = replace(dispute, status=d.outcome, ruling_ref=fact.ref, ruled_by=d.by, ruled_at=fact.time, credit_minor=credit)
    state = replace(state, disputes=_with(state.disputes, dispute.dispute_ref, ruled))
    if credit > 0 and ruled.currency:
        settlement = Settlement(d.reference, credit, ruled.currency, dispute.dispute_ref)
        state = replace(state, pending=_with(state.pending, dispute.dispute_ref, settlement))
    return state


def _holder_changed(state: AccountState, fact: Fact) -> AccountState:
    d = _data(fact)
    change = HolderChange(d.new_holder, d.reason, fact.time, fact.ref)
    state = replace(state, holders=state.holders + (change,))
    if d.reason == "bereavement":
        state = replace(state, bereavements=state.bereavements + (fact.time,))
    return state


def _money_requested(kind: str) -> Callable[[AccountState, Fact], AccountState]:
    def apply(state: AccountState, fact: Fact) -> AccountState:
        d = _data(fact)
        request = MoneyRequest(
            fact.ref, kind, d.reference, d.amount_minor, d.currency, d.requested_by, d.reason,  # type: ignore[arg-type]
            fact.time, fact.case_id,
        )
        return replace(state, requests=_with(state.requests, fact.ref, request))
    return apply


# ---- escalation's decisions ------------------------------------------------------------

def _approval_granted(state: AccountState, fact: Fact) -> AccountState:
    request = state.requests.get(_str(fact.data, "request_ref"))
    if request is None or request.status != "pending":
        return state
    amount, currency = _int(fact.data, "amount_minor"), _str(fact.data, "currency")
    approval_ref = _str(fact.data, "approval_ref") or fact.ref
    if (amount is not None and amount != request.amount_minor) or (currency and currency != request.currency):
        problem = (
            f"approval {approval_ref} is for {amount} {currency or request.currency}, "
            f"but request {request.request_ref} asks for {request.amount_minor} {request.currency}"
        )
        decided = replace(request, status="mismatch", approval_ref=approval_ref, decided_at=fact.time, problem=problem)
        return replace(state, requests=_with(state.requests, request.request_ref, decided))
    decided = replace(request, status="granted", approval_ref=approval_ref, decided_at=fact.time)
    settlement = Settlement(request.reference, request.amount_minor, request.currency, request.request_ref)
    return replace(
        state,
        requests=_with(state.requests, request.request_ref, decided),
        pending=_with(state.pending, request.request_ref, settlement),
    )


def _approval_denied(state: AccountState, fact: Fact) -> AccountState:
    request = state.requests.get(_str(fact.data, "request_ref"))
    if request is None or request.status != "pending":
        return state
    decided = replace(
        request, status="denied", approval_ref=_str(fact.data, "approval_ref") or fact.ref, decided_at=fact.time,
    )
    return replace(state, requests=_with(state.requests, request.request_ref, decided))


# ---- billing's own decisions, back as facts ----------------------------------------------

def _hold_released(state: AccountState, fact: Fact) -> AccountState:
    return replace(state, holds=_without(state.holds, _str(fact.data, "hold_ref")))


def _payment_matched(state: AccountState, fact: Fact) -> AccountState:
    data = fact.data
    state = _entry(state, fact, "payment", _str(data, "reference"), _int(data, "amount_minor") or 0, _str(data, "currency"))
    return replace(state, pending=_without(state.pending, _str(data, "evidence_ref")))


def _dispute_resolved(state: AccountState, fact: Fact) -> AccountState:
    dispute = state.disputes.get(_str(fact.data, "dispute_ref"))
    if dispute is None or dispute.resolved_at is not None:
        return state
    return replace(state, disputes=_with(state.disputes, dispute.dispute_ref, replace(dispute, resolved_at=fact.time)))


def _credit(kind: str) -> Callable[[AccountState, Fact], AccountState]:
    def apply(state: AccountState, fact: Fact) -> AccountState:
        data = fact.data
        cause = _str(data, "cause_ref")
        state = _entry(state, fact, kind, _str(data, "reference"), _int(data, "amount_minor") or 0, _str(data, "currency"))
        state = replace(state, pending=_without(state.pending, cause))
        request = state.requests.get(cause)
        if request is not None and request.status == "granted":
            state = replace(state, requests=_with(state.requests, cause, replace(request, status="applied")))
        return state
    return apply


def _notice_issued(state: AccountState, fact: Fact) -> AccountState:
    notice = NoticeSent(_str(fact.data, "reference"), _int(fact.data, "level") or 0, fact.time, fact.ref)
    return replace(state, notices=state.notices + (notice,))


def _invariant_violated(state: AccountState, fact: Fact) -> AccountState:
    breaches = fact.data.get("breaches") or ()
    violation = Violation(_str(fact.data, "notice_ref") or fact.ref, tuple(str(b) for b in breaches), fact.time)
    return replace(state, violations=state.violations + (violation,))


_APPLY: dict[str, Callable[[AccountState, Fact], AccountState]] = {
    ev.CHARGE_POSTED: _charge_posted,
    ev.PAYMENT_RECEIVED: _payment_received,
    ev.EVIDENCE_SUBMITTED: _evidence_submitted,
    ev.DISPUTE_OPENED: _dispute_opened,
    ev.DISPUTE_RULED: _dispute_ruled,
    ev.HOLDER_CHANGED: _holder_changed,
    ev.REFUND_REQUESTED: _money_requested("refund"),
    ev.ADJUSTMENT_REQUESTED: _money_requested("adjustment"),
    ev.APPROVAL_GRANTED: _approval_granted,
    ev.APPROVAL_DENIED: _approval_denied,
    ev.HOLD_RELEASED: _hold_released,
    ev.PAYMENT_MATCHED: _payment_matched,
    ev.DISPUTE_RESOLVED: _dispute_resolved,
    ev.REFUND_ISSUED: _credit("refund"),
    ev.ADJUSTMENT_APPLIED: _credit("adjustment"),
    ev.NOTICE_ISSUED: _notice_issued,
    ev.INVARIANT_VIOLATED: _invariant_violated,
}
