"""Escalation use cases: fold a fact, decide, fire due timers; and the read-side queries."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Callable, Iterable, Literal

from casestream.facts import Decision, Fact

from ..domain.policy import Policy
from ..domain.rules import SOURCE, clock_deadline, clock_elapsed, fire, merge, react
from ..domain.state import ESC, Breach, CaseState, Owner, OwnerSpell, Promise, evolve
from .repository import CaseRepository, InMemoryCaseRepository


class UnknownCase(KeyError):
    """No fact of this case has been handled."""

    def __str__(self) -> str:
        return f"case_id: no case {self.args[0]!r} is known to escalation"


@dataclass(frozen=True)
class Ownership:
    case_id: str
    current: Owner | None
    history: tuple[OwnerSpell, ...]  # one spell per owner_assigned (and case.opened), in sequence order
    as_of_sequence: int

    def owner_at(self, sequence: int) -> Owner | None:
        found = None
        for spell in self.history:
            if spell.sequence > sequence:
                break
            found = spell.owner
        return found


@dataclass(frozen=True)
class SlaView:
    name: str
    generation: int
    state: Literal["running", "paused", "met", "breached", "stopped"]
    basis: str
    target: timedelta
    elapsed: timedelta
    remaining: timedelta
    deadline: datetime | None  # None unless running
    warned: bool
    as_of: datetime | None
    started_at: datetime | None = None
    calendar: str | None = None


class EscalationService:
    """Handles one case fact at a time; idempotent on redelivery (by sequence)."""

    def __init__(self, repository: CaseRepository, policy: Policy) -> None:
        self.repository = repository
        self.policy = policy

    def handle(self, fact: Fact) -> list[Decision]:
        """Fold `fact`, decide on it and fire this case's timers due by the stream time."""
        state = self.repository.get(fact.case_id) or CaseState(fact.case_id)
        if fact.sequence <= state.last_sequence:
            return []  # redelivered: its effects are already in state
        now = self.repository.advance_stream_time(fact.time)
        after = evolve(state, fact, self.policy)
        decisions = react(state, after, fact, now, self.policy)
        self.repository.save(after)
        return decisions

    def rehydrate(self, facts: Iterable[Fact]) -> int:
        """Fold already-handled facts into state without deciding anything (a restart's recovery).

        Facts at or below a case's folded sequence are skipped, so rehydrating twice is
        harmless. Returns how many facts were folded.
        """
        folded = 0
        for fact in facts:
            state = self.repository.get(fact.case_id) or CaseState(fact.case_id)
            if fact.sequence <= state.last_sequence:
                continue
            self.repository.advance_stream_time(fact.time)
            self.repository.save(evolve(state, fact, self.policy))
            folded += 1
        return folded

    def release(self, owns: Callable[[str], bool]) -> int:
        """Forget every case whose subject (the account its events are partitioned by) `owns`
        says is no longer this instance's; how many.

        After partitions move, another instance folds those cases and fires their
        timers; a copy kept here would go stale and fire them again."""
        return self.repository.forget(lambda state: not owns(state.subject))

    def last_sequence(self, case_id: str) -> int:
        """The highest sequence of `case_id` folded so far (0 if the case is unknown)."""
        state = self.repository.get(case_id)
        return state.last_sequence if state is not None else 0

    def advance(self, now: datetime) -> list[Decision]:
        """Advance the stream clock (a tick or wall time) and fire every case's due timers."""
        now = self.repository.advance_stream_time(now)
        return merge(*(fire(s, now, self.policy) for s in self.repository.all()))

    # ---- queries ----------------------------------------------------------------------
    def _state(self, case_id: str) -> CaseState:
        state = self.repository.get(case_id)
        if state is None:
            raise UnknownCase(case_id)
        return state

    def ownership(self, case_id: str) -> Ownership:
        s = self._state(case_id)
        return Ownership(case_id, s.owner, s.owner_history, s.last_sequence)

    def open_promises(self, case_id: str) -> list[Promise]:
        return sorted((p for p in self._state(case_id).promises.values() if p.status == "open"),
                      key=lambda p: (p.due, p.ref))

    def promises(self, case_id: str) -> list[Promise]:
        return sorted(self._state(case_id).promises.values(), key=lambda p: (p.made_at, p.ref))

    def breaches(self, case_id: str) -> list[Breach]:
        return list(self._state(case_id).breaches)

    def sla(self, case_id: str) -> list[SlaView]:
        s = self._state(case_id)
        now = self.repository.stream_time() or s.clock
        views = []
        for c in s.slas.values():
            if c.breached:
                st = "breached"
            elif c.met_at is not None:
                st = "met"
            elif c.stopped_at is not None:
                st = "stopped"
            else:
                st = "running" if c.running else "paused"
            elapsed = clock_elapsed(c, now, self.policy) if now is not None else timedelta(0)
            views.append(SlaView(c.name, c.generation, st, c.basis, c.target, elapsed,
                                 max(c.target - elapsed, timedelta(0)), clock_deadline(c, self.policy), c.warned, now,
                                 c.started_at, c.calendar))
        return sorted(views, key=lambda v: v.name)

    def state(self, case_id: str) -> CaseState:
        return self._state(case_id)


def decision_fact(decision: Decision, sequence: int, source: str = SOURCE) -> Fact:
    """A decision as intake would sequence it."""
    return Fact(decision.case_id, sequence, decision.type, source, decision.id, decision.time, decision.subject,
                decision.data)


_REF_FIELDS = ("promise_ref", "handoff_ref", "approval_ref")


def simulate(facts: Iterable[Fact], policy: Policy, service: EscalationService | None = None) -> list[Decision]:
    """Run a history's non-escalation facts through `policy`, sequencing each decision at once.

    Facts are re-sequenced per case in the given order with decisions interleaved as an
    in-memory intake would, deduping decision ids; refs inside fact data are rewritten
    to the new sequences. Returns every decision that was sequenced, in order.
    """
    service = service or EscalationService(InMemoryCaseRepository(), policy)
    next_seq: dict[str, int] = {}
    ref_map: dict[str, str] = {}
    seen: set[str] = set()
    emitted: list[Decision] = []

    def sequence(case_id: str) -> int:
        next_seq[case_id] = next_seq.get(case_id, 0) + 1
        return next_seq[case_id]

    for original in facts:
        if original.type.startswith(ESC):
            if original.type == ESC + "approval_requested" and "request_ref" in original.data:
                ref_map[original.ref] = ref_map.get(original.data["request_ref"], original.data["request_ref"])
            continue
        data = {k: (ref_map.get(v, v) if k in _REF_FIELDS and isinstance(v, str) else v)
                for k, v in original.data.items()}
        fact = replace(original, sequence=sequence(original.case_id), data=data)
        ref_map[original.ref] = fact.ref
        queue = deque([fact])
        while queue:
            for decision in service.handle(queue.popleft()):
                if decision.id in seen:
                    continue
                seen.add(decision.id)
                emitted.append(decision)
                queue.append(decision_fact(decision, sequence(decision.case_id)))
    return emitted
