"""The Repository port and its in-memory implementation."""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterator, Protocol

from ..domain.state import CaseState


class CaseRepository(Protocol):
    """Where case states live. `save` must be durable before offsets are committed."""

    def get(self, case_id: str) -> CaseState | None: ...

    def save(self, state: CaseState) -> None: ...

    def all(self) -> Iterator[CaseState]: ...

    def forget(self, gone: Callable[[CaseState], bool]) -> int: ...

    def stream_time(self) -> datetime | None: ...

    def advance_stream_time(self, at: datetime) -> datetime: ...


class InMemoryCaseRepository:
    def __init__(self) -> None:
        self._cases: dict[str, CaseState] = {}
        self._stream_time: datetime | None = None

    def get(self, case_id: str) -> CaseState | None:
        return self._cases.get(case_id)

    def save(self, state: CaseState) -> None:
        self._cases[state.case_id] = state

    def all(self) -> Iterator[CaseState]:
        return iter(list(self._cases.values()))

    def forget(self, gone: Callable[[CaseState], bool]) -> int:
        """Drop every case `gone` is true of; how many."""
        dropped = [case_id for case_id, state in self._cases.items() if gone(state)]
        for case_id in dropped:
            del self._cases[case_id]
        return len(dropped)

    def stream_time(self) -> datetime | None:
        return self._stream_time

    def advance_stream_time(self, at: datetime) -> datetime:
        if self._stream_time is None or at > self._stream_time:
            self._stream_time = at
        return self._stream_time
