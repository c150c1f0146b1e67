"""The faust table glue: `case_to_facts` holds every fact notify has folded, per case.

After a restart the service layer's state is rebuilt from the recovered table by
folding, case by case, without sending anything (`NotifyService.rehydrate`).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Callable

from casestream.facts import Decision, Fact
from casestream.streaming import FactLog

from notify.service_layer.service import NotifyService


class CaseFacts(FactLog):
    """A FactLog of case id -> facts, which knows how far each case has been folded."""

    def last_sequence(self, case_id: str) -> int:
        facts = self._table.get(case_id) or []
        return int(facts[-1]["sequence"]) if facts else 0

    def is_folded(self, fact: Fact) -> bool:
        """True if `fact` was folded before (a redelivery after a restart or a rebalance)."""
        return fact.sequence <= self.last_sequence(fact.case_id)


class Rehydrator:
    """Folds each case's recovered facts into the service once, the first time it is needed.

    Not thread-safe by itself: callers run it on the service's single worker thread.
    Decisions it finds pending (sent before a crash, never sequenced) wait in `outbox`.
    """

    def __init__(self, cases: CaseFacts, service: NotifyService, now: Callable[[list[Fact]], datetime]) -> None:
        self._cases, self._service, self._now = cases, service, now
        self._done: set[str] = set()
        self._lock = threading.Lock()
        self.outbox: list[Decision] = []

    def ensure(self, case_id: str) -> int:
        """Fold `case_id`'s recovered facts if not done yet; returns how many were folded."""
        if case_id in self._done:
            return 0
        self._done.add(case_id)
        facts = self._cases.facts(case_id)
        if not facts:
            return 0
        pending = self._service.rehydrate(facts, self._now(facts))
        with self._lock:
            self.outbox.extend(pending)
        return len(facts)

    def ensure_all(self, owns: Callable[[str], bool] = lambda subject: True) -> int:
        """Fold every recorded case whose subject `owns` says is this instance's."""
        return sum(self.ensure(k) for k in self._cases.keys() if owns(self._cases.subject(k)))

    def release(self, owns: Callable[[str], bool]) -> list[str]:
        """Forget the cases whose subject is no longer this instance's (partitions moved):
        their state, deferred messages and reminders now belong to another instance."""
        gone = [k for k in self._done if not owns(self._cases.subject(k))]
        self._service.forget(gone)
        self._done.difference_update(gone)
        return gone

    def take_outbox(self) -> list[Decision]:
        with self._lock:
            out, self.outbox = self.outbox, []
        return out
