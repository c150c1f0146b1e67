"""Counterfactual replay: run a history through a policy in memory."""

from __future__ import annotations

from collections import deque
from typing import Iterable

from casestream.facts import Decision, Fact

from billing.domain import events as ev
from billing.domain.policy import BillingPolicy
from billing.service_layer.repository import InMemoryAccountRepository
from billing.service_layer.services import BillingService

SIMULATED_SOURCE = "billing"


def simulate_log(facts: Iterable[Fact], policy: BillingPolicy, billing_source: str = SIMULATED_SOURCE) -> list[Fact]:
    """The stream as it would be: the input facts with billing's decisions sequenced in.

    Billing's own decisions in `facts` (billing types from `billing_source`) are dropped,
    so they are re-decided under `policy`; a billing type from anyone else stays, for
    the watchdog. Each decision comes back as a fact at once, after the fact that caused it,
    numbered above every input sequence of its case so that input refs stay valid.
    """
    history = [f for f in facts if not (f.type in ev.BILLING_DECISIONS and f.source == billing_source)]
    next_seq = {}
    for f in history:
        next_seq[f.case_id] = max(next_seq.get(f.case_id, 0), f.sequence)
    service = BillingService(InMemoryAccountRepository(), policy)
    sequenced: set[str] = set()  # decision ids, deduped as intake does on (source, id)
    log: list[Fact] = []
    for fact in history:
        queue: deque[Fact] = deque([fact])
        while queue:
            current = queue.popleft()
            log.append(current)
            for decision in service.handle(current):
                if decision.id in sequenced:
                    continue
                sequenced.add(decision.id)
                next_seq[decision.case_id] = next_seq.get(decision.case_id, 0) + 1
                queue.append(_as_fact(decision, next_seq[decision.case_id]))
    return log


def simulate(facts: Iterable[Fact], policy: BillingPolicy) -> list[Decision]:
    """Billing's decisions for a history under `policy`, in the order they were taken."""
    return [
        Decision(f.type, f.id, f.case_id, f.subject, f.time, f.data)
        for f in simulate_log(facts, policy)
        if f.source == SIMULATED_SOURCE and f.type in ev.BILLING_DECISIONS
    ]


def _as_fact(decision: Decision, sequence: int) -> Fact:
    return Fact(
        case_id=decision.case_id, sequence=sequence, type=decision.type, source=SIMULATED_SOURCE,
        id=decision.id, time=decision.time, subject=decision.subject, data=decision.data,
    )
