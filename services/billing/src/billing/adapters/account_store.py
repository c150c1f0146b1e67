"""The AccountRepository over the `account_to_facts` faust table.

The table (changelog-backed) is the durable truth: the facts handled per account. An
account's state is cached in memory and rebuilt on first use by folding its facts
without deciding, so after a restart nothing is decided twice. gRPC threads read it
while the faust loop writes, hence the lock.
"""

from __future__ import annotations

import threading
from typing import Callable

from casestream.streaming import FactLog

from billing.adapters import metrics
from billing.domain.model import AccountState
from billing.service_layer.services import rebuild_account


class FactLogAccounts:
    """AccountRepository: states cached in memory, rebuilt from a FactLog on a miss."""

    def __init__(self, fact_log: FactLog, recovered: Callable[[], bool] = lambda: True,
                 owns: Callable[[str], bool] = lambda account_id: True) -> None:
        self._log = fact_log
        # While the table is still recovering, a rebuilt state would miss facts: don't keep it.
        self._recovered = recovered
        # The in-memory table keeps the keys of partitions given up to another instance,
        # frozen at the hand-over: a global tick or the dunning timer must not act on them.
        self._owns = owns
        self._states: dict[str, AccountState] = {}
        self._lock = threading.Lock()

    def get(self, account_id: str) -> AccountState | None:
        with self._lock:
            state = self._states.get(account_id)
            if state is None:
                state = rebuild_account(account_id, self._log.facts(account_id))
                if state is not None:
                    metrics.ACCOUNTS_REBUILT.inc()
                    if self._recovered():
                        self._states[account_id] = state
            return state

    def save(self, state: AccountState) -> None:
        with self._lock:
            self._states[state.account_id] = state

    def account_ids(self) -> list[str]:
        """The accounts of this instance's partitions."""
        with self._lock:
            cached = set(self._states)
        return sorted(a for a in cached | set(self._log.keys()) if self._owns(a))

    def forget(self) -> None:
        """Drop the cache (partitions were revoked: another worker may now change these accounts)."""
        with self._lock:
            self._states.clear()
