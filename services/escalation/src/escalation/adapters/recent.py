"""Decision ids the broker has acknowledged recently, so timers do not flood intake."""

from __future__ import annotations

import time
from typing import Iterable

from casestream.facts import Decision


class RecentlySubmitted:
    """Drops a decision whose id was acknowledged less than `ttl` seconds ago.

    Safe because an acknowledged decision is durable on case.inbound.v1 and intake will
    sequence it; after `ttl` it is sent again (intake dedupes) in case it was rejected.
    """

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._at: dict[str, float] = {}

    def fresh(self, decisions: Iterable[Decision]) -> list[Decision]:
        now = time.monotonic()
        if len(self._at) > 50_000:
            self._at = {k: t for k, t in self._at.items() if now - t < self._ttl}
        return [d for d in decisions if now - self._at.get(d.id, -1e18) >= self._ttl]

    def acked(self, decisions: Iterable[Decision]) -> None:
        now = time.monotonic()
        for d in decisions:
            self._at[d.id] = now
