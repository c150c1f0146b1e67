"""Builders for billing facts in tests: one account, one case, stream time in days."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

from casestream.facts import Decision, Fact

from billing.domain.policy import parse_policy

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
ACCOUNT = "ACC-1"

POLICY = parse_policy({
    "version": "test-1",
    "dunning": {"schedule": [
        {"days_past_due": 7, "level": 1}, {"days_past_due": 14, "level": 2}, {"days_past_due": 30, "level": 3},
    ]},
    "bereavement": {"grace_days": 60},
    "unmatched_evidence": {"task_owner": "evidence-desk"},
})


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


class Stream:
    """Makes facts with increasing sequences per case, like intake would."""

    def __init__(self, account: str = ACCOUNT, case_id: str = "CASE-1", source: str = "crm") -> None:
        self.account, self.case_id, self.source = account, case_id, source
        self._seq: dict[str, itertools.count] = {}
        self._ids = itertools.count(1)

    def fact(self, type_: str, at: datetime, data: dict[str, Any] | None = None, *, case_id: str | None = None,
             account: str | None = None, source: str | None = None, id_: str | None = None) -> Fact:
        case = case_id or self.case_id
        seq = next(self._seq.setdefault(case, itertools.count(1)))
        return Fact(case, seq, type_, source or self.source, id_ or f"{source or self.source}-{next(self._ids)}",
                    at, account or self.account, data or {})

    def charge(self, ref: str, amount: int, due: datetime, at: datetime | None = None, currency: str = "USD", **kw: Any) -> Fact:
        return self.fact("casestream.billing.charge_posted", at or due - timedelta(days=14),
                         {"reference": ref, "amount_minor": amount, "currency": currency, "due": due.isoformat()}, **kw)

    def payment(self, ref: str, amount: int, at: datetime, currency: str = "USD", **kw: Any) -> Fact:
        return self.fact("casestream.billing.payment_received", at,
                         {"reference": ref, "amount_minor": amount, "currency": currency}, **kw)

    def evidence(self, ref: str, amount: int, at: datetime, currency: str = "USD", kind: str = "cancelled_check", **kw: Any) -> Fact:
        return self.fact("casestream.billing.payment_evidence_submitted", at,
                         {"kind": kind, "reference": ref, "amount_minor": amount, "currency": currency, **kw.pop("extra", {})}, **kw)

    def dispute(self, ref: str, at: datetime, reason: str = "I paid this", **kw: Any) -> Fact:
        return self.fact("casestream.billing.dispute_opened", at, {"reference": ref, "reason": reason, **kw.pop("extra", {})}, **kw)

    def ruling(self, ref: str, outcome: str, at: datetime, by: str = "supervisor-3", **kw: Any) -> Fact:
        return self.fact("casestream.billing.dispute_ruled", at, {"reference": ref, "outcome": outcome, "by": by}, **kw)

    def holder(self, new_holder: str, reason: str, at: datetime, **kw: Any) -> Fact:
        return self.fact("casestream.account.holder_changed", at, {"new_holder": new_holder, "reason": reason}, **kw)

    def request(self, kind: str, ref: str, amount: int, at: datetime, currency: str = "USD", **kw: Any) -> Fact:
        return self.fact(f"casestream.billing.{kind}_requested", at, {
            "reference": ref, "amount_minor": amount, "currency": currency, "requested_by": "agent-7",
            "reason": "goodwill"}, **kw)

    def approval(self, granted: bool, request: Fact, at: datetime, amount: int | None = None, **kw: Any) -> Fact:
        data: dict[str, Any] = {"request_ref": request.ref, "approval_ref": f"appr-{request.ref}", "action": "refund",
                                "amount_minor": request.data["amount_minor"] if amount is None else amount,
                                "currency": request.data["currency"]}
        kind = "approval_granted" if granted else "approval_denied"
        return self.fact(f"casestream.escalation.{kind}", at, data, source="escalation", **kw)

    def tick(self, at: datetime, **kw: Any) -> Fact:
        return self.fact("casestream.clock.ticked", at, {}, **kw)

    def notice(self, ref: str, level: int, at: datetime, source: str = "legacy-dunning", **kw: Any) -> Fact:
        return self.fact("casestream.billing.dunning_notice_issued", at, {"reference": ref, "level": level}, source=source, **kw)

    def back(self, decision: Decision) -> Fact:
        """A decision as it comes back from intake: sequenced into its case."""
        seq = next(self._seq.setdefault(decision.case_id, itertools.count(1)))
        return Fact(decision.case_id, seq, decision.type, "billing", decision.id, decision.time, decision.subject, decision.data)


def types(decisions: list[Decision]) -> list[str]:
    return [d.type.removeprefix("casestream.billing.") for d in decisions]


class Harness:
    """A BillingService whose decisions come straight back as facts, as intake would sequence them."""

    def __init__(self, policy=POLICY, stream: Stream | None = None) -> None:
        from billing.service_layer import BillingService, InMemoryAccountRepository

        self.stream = stream or Stream()
        self.service = BillingService(InMemoryAccountRepository(), policy)
        self.log: list[Fact] = []
        self.sequenced: set[str] = set()  # intake's dedupe on (source, id)

    def feed(self, *facts: Fact) -> list[Decision]:
        out: list[Decision] = []
        for fact in facts:
            self.log.append(fact)
            for decision in self.service.handle(fact):
                if decision.id in self.sequenced:
                    continue
                self.sequenced.add(decision.id)
                out.append(decision)
                out += self.feed(self.stream.back(decision))
        return out

    def state(self, account: str = ACCOUNT):
        return self.service.repository.get(account)
