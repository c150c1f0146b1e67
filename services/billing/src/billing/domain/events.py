"""Event type names billing reads and writes (see casestream.catalogue)."""

from __future__ import annotations

from casestream.catalogue import DECISIONS

CHARGE_POSTED = "casestream.billing.charge_posted"
PAYMENT_RECEIVED = "casestream.billing.payment_received"
EVIDENCE_SUBMITTED = "casestream.billing.payment_evidence_submitted"
DISPUTE_OPENED = "casestream.billing.dispute_opened"
DISPUTE_RULED = "casestream.billing.dispute_ruled"
REFUND_REQUESTED = "casestream.billing.refund_requested"
ADJUSTMENT_REQUESTED = "casestream.billing.adjustment_requested"
HOLDER_CHANGED = "casestream.account.holder_changed"
CLOCK_TICKED = "casestream.clock.ticked"
APPROVAL_GRANTED = "casestream.escalation.approval_granted"
APPROVAL_DENIED = "casestream.escalation.approval_denied"

# billing's own decisions; they change state only when they come back as facts
HOLD_PLACED = "casestream.billing.dunning_hold_placed"
HOLD_RELEASED = "casestream.billing.dunning_hold_released"
NOTICE_ISSUED = "casestream.billing.dunning_notice_issued"
PAYMENT_MATCHED = "casestream.billing.payment_matched"
PAYMENT_UNMATCHED = "casestream.billing.payment_unmatched"
DISPUTE_RESOLVED = "casestream.billing.dispute_resolved"
REFUND_ISSUED = "casestream.billing.refund_issued"
ADJUSTMENT_APPLIED = "casestream.billing.adjustment_applied"
INVARIANT_VIOLATED = "casestream.billing.invariant_violated"

BILLING_DECISIONS: frozenset[str] = frozenset(f"casestream.billing.{n}" for n in DECISIONS["billing"])
assert {HOLD_PLACED, HOLD_RELEASED, NOTICE_ISSUED, PAYMENT_MATCHED, PAYMENT_UNMATCHED, DISPUTE_RESOLVED,
        REFUND_ISSUED, ADJUSTMENT_APPLIED, INVARIANT_VIOLATED} == BILLING_DECISIONS

# Every type whose fact changes an account's billing state or may trigger a decision.
RELEVANT: frozenset[str] = frozenset({
    CHARGE_POSTED, PAYMENT_RECEIVED, EVIDENCE_SUBMITTED, DISPUTE_OPENED, DISPUTE_RULED,
    REFUND_REQUESTED, ADJUSTMENT_REQUESTED, HOLDER_CHANGED, CLOCK_TICKED,
    APPROVAL_GRANTED, APPROVAL_DENIED,
}) | BILLING_DECISIONS
