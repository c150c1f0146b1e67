"""How far each case has been folded, so a read with min_sequence can wait for it."""

from __future__ import annotations

import threading
import time


class FoldProgress:
    """Per-case folded sequence, shared by the faust loop (writer) and gRPC threads (readers)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._folded: dict[str, int] = {}

    def folded(self, case_id: str, sequence: int) -> None:
        with self._cond:
            if sequence > self._folded.get(case_id, 0):
                self._folded[case_id] = sequence
                self._cond.notify_all()

    def sequence(self, case_id: str) -> int:
        with self._cond:
            return self._folded.get(case_id, 0)

    def wait(self, case_id: str, min_sequence: int, timeout: float) -> bool:
        """True once `case_id` is folded up to `min_sequence`; False if `timeout` runs out first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._folded.get(case_id, 0) < min_sequence:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True
