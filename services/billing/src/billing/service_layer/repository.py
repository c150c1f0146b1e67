"""The Repository port for account states, and its in-memory implementation."""

from __future__ import annotations

from typing import Iterable, Protocol

from billing.domain.model import AccountState


class AccountRepository(Protocol):
    def get(self, account_id: str) -> AccountState | None: ...

    def save(self, state: AccountState) -> None: ...

    def account_ids(self) -> Iterable[str]: ...


class InMemoryAccountRepository:
    """Keeps every account's state in a dict; for tests and `simulate`."""

    def __init__(self) -> None:
        self._accounts: dict[str, AccountState] = {}

    def get(self, account_id: str) -> AccountState | None:
        return self._accounts.get(account_id)

    def save(self, state: AccountState) -> None:
        self._accounts[state.account_id] = state

    def account_ids(self) -> list[str]:
        return sorted(self._accounts)
