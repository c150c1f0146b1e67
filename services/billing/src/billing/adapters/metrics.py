"""Billing's Prometheus metrics."""

from __future__ import annotations

from typing import Iterable

from prometheus_client import Counter, Histogram

from casestream.facts import Decision

from billing.domain import events as ev

FACTS_FOLDED = Counter("casestream_billing_facts_folded_total", "Facts folded into the account ledger projection")
ACCOUNTS_REBUILT = Counter("casestream_billing_accounts_rebuilt_total",
                           "Account states rebuilt by folding account_to_facts (after a start or a rebalance)")
FACTS_SKIPPED = Counter("casestream_billing_facts_skipped_total", "Facts not folded", ["why"])
DECISIONS = Counter("casestream_billing_decisions_submitted_total", "Decisions acked by the broker", ["type"])
INVARIANT_VIOLATIONS = Counter(
    "casestream_billing_invariant_violations_total",
    "The watchdog: dunning notices (or approvals) that broke a billing rule", ["kind"],
)
DECISION_LATENCY = Histogram(
    "casestream_billing_decision_latency_seconds",
    "From the triggering event's sequencing to its decisions acked on case.inbound.v1",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def decisions_submitted(decisions: Iterable[Decision]) -> None:
    for d in decisions:
        DECISIONS.labels(d.type.removeprefix("casestream.billing.")).inc()
        if d.type == ev.INVARIANT_VIOLATED:
            for kind in d.data.get("breaches") or ["unspecified"]:
                INVARIANT_VIOLATIONS.labels(str(kind)).inc()
