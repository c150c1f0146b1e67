"""Shared helpers: the default policy, New York times, and a fact-script builder."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from casestream.facts import Decision, Fact
from escalation.domain.policy import Policy, load_policy
from escalation.service_layer import EscalationService, InMemoryCaseRepository, simulate

NY = ZoneInfo("America/New_York")
POLICY = load_policy()


def ny(*args: int) -> datetime:
    """A New York wall time (Nov 2026: 1st Sun (DST ends), 6th Fri, 11th Veterans Day, 26th Thanksgiving)."""
    return datetime(*args, tzinfo=NY)


class Script:
    """Builds a case history; sequences are 1..n in the order facts are added."""

    def __init__(self, case_id: str = "C-1", subject: str = "ACC-1") -> None:
        self.case_id, self.subject, self.facts = case_id, subject, []

    def add(self, at: datetime, type_: str, source: str = "crm", **data: Any) -> Fact:
        n = len(self.facts) + 1
        fact = Fact(self.case_id, n, "casestream." + type_, source, f"{source}-{self.case_id}-{n}", at,
                    self.subject, data)
        self.facts.append(fact)
        return fact

    def open(self, at: datetime, **extra: Any) -> Fact:
        return self.add(at, "case.opened", source="intake", account=self.subject, opened_by="crm/1", **extra)

    def contact(self, at: datetime, direction: str = "inbound", agent: str = "a-01") -> Fact:
        return self.add(at, "contact.logged", channel="phone", direction=direction, agent=agent, summary="call")

    def promise(self, at: datetime, due: datetime, by: str = "a-01") -> Fact:
        return self.add(at, "promise.made", promised_by=by, what="restore service", due=due.isoformat())

    def tick(self, at: datetime) -> Fact:
        return self.add(at, "clock.ticked", source="clock")

    def run(self, policy: Policy = POLICY) -> "Run":
        service = EscalationService(InMemoryCaseRepository(), policy)
        return Run(service, simulate(self.facts, policy, service), self.case_id)


class Run:
    def __init__(self, service: EscalationService, decisions: list[Decision], case_id: str) -> None:
        self.service, self.decisions, self.case_id = service, decisions, case_id

    def of(self, name: str) -> list[Decision]:
        return [d for d in self.decisions if d.type == "casestream.escalation." + name]

    def names(self) -> list[str]:
        return [d.type.rsplit(".", 1)[1] for d in self.decisions]

    @property
    def state(self):
        return self.service.state(self.case_id)
