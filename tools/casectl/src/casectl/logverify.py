"""`casectl log verify`: every case chain of the events topic, contiguous from cs_seq 1."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from casectl.audit.chain import ChainError, ChainVerifier
from casectl.audit.records import Record


@dataclass
class LogReport:
    ok: bool = True
    records: int = 0
    cases: int = 0
    partitions: dict[int, int] = field(default_factory=dict)  # partition -> records checked
    seconds: float = 0.0
    first_bad: dict[str, Any] | None = None

    @property
    def events_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "records": self.records, "cases": self.cases, "partitions": self.partitions,
                "seconds": round(self.seconds, 3), "events_per_second": round(self.events_per_second, 1),
                "first_bad": self.first_bad}


def verify_log(records: Iterable[Record]) -> LogReport:
    """Check the chains; stop at the first bad record and say where and why."""
    v = ChainVerifier()
    rep = LogReport()
    t0 = time.perf_counter()
    try:
        for r in records:
            seq = r.header("cs_seq")
            case = r.header("ce_subject")
            if case is not None and case not in v.report.cases and seq != "1":
                raise ChainError(f"the case's first record has cs_seq {seq!r}, expected 1 (earlier events missing)",
                                 record=r, index=v.report.records, case_id=case, seq=seq)
            v.add(r)
            rep.partitions[r.partition] = rep.partitions.get(r.partition, 0) + 1
    except ChainError as e:
        rep.ok = False
        rep.first_bad = {"topic": e.record.topic, "partition": e.partition, "offset": e.offset, "case_id": e.case_id,
                         "cs_seq": e.seq, "reason": e.reason}
    rep.seconds = time.perf_counter() - t0
    rep.records = v.report.records
    rep.cases = len(v.report.cases)
    return rep
