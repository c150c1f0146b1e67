"""The Clock port: wall time in production, stream (event) time in tests and replays."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class WallClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class StreamClock:
    """Time as far as the stream has got: the latest event time seen, never going back."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(1970, 1, 1, tzinfo=timezone.utc)
        self._lock = threading.Lock()

    def advance(self, to: datetime) -> datetime:
        with self._lock:
            if to > self._now:
                self._now = to
            return self._now

    def now(self) -> datetime:
        return self._now


def make_clock(kind: str) -> WallClock | StreamClock:
    return StreamClock() if kind == "stream" else WallClock()
