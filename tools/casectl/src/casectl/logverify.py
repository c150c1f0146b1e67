"""`casectl log verify`: every case chain of the events topic, contiguous from cs_seq 1."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
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


def _check(v: ChainVerifier, r: Record) -> None:
    """One record, the exact way: the case must start at cs_seq 1, then the chain checks."""
    seq = r.header("cs_seq")
    case = r.header("ce_subject")
    if case is not None and case not in v.report.cases and seq != "1":
        raise ChainError(f"the case's first record has cs_seq {seq!r}, expected 1 (earlier events missing)",
                         record=r, index=v.report.records, case_id=case, seq=seq)
    v.add(r)


def verify_log(records: Iterable[Record]) -> LogReport:
    """Check the chains; stop at the first bad record and say where and why."""
    v = ChainVerifier()
    rep = LogReport()
    t0 = time.perf_counter()
    try:
        for r in records:
            _check(v, r)
            rep.partitions[r.partition] = rep.partitions.get(r.partition, 0) + 1
    except ChainError as e:
        _fail(rep, e)
    rep.seconds = time.perf_counter() - t0
    rep.records = v.report.records
    rep.cases = len(v.report.cases)
    return rep


def _fail(rep: LogReport, e: ChainError) -> None:
    rep.ok = False
    rep.first_bad = {"topic": e.record.topic, "partition": e.partition, "offset": e.offset, "case_id": e.case_id,
                     "cs_seq": e.seq, "reason": e.reason}


def verify_batches(batches: Iterable[list[Any]], topic: str) -> LogReport:
    """`verify_log` over batches of confluent_kafka.Message (as `kafka_io.scan_batches` yields them).

    Same checks, same report, same first bad record; well-formed records skip the Record
    object (`ChainVerifier.add_fast`), anything unusual goes the exact way.
    """
    from casectl.kafka_io import message_to_record

    v = ChainVerifier()
    cases = v.report.cases
    add_fast = v.add_fast
    rep = LogReport()
    t0 = time.perf_counter()
    done = 0
    p = -1
    try:
        for msgs in batches:
            p = msgs[0].partition()
            done = 0
            for m in msgs:
                hl = m.headers() or ()
                h = dict(hl)
                subj = h.get("ce_subject")
                if subj is not None and h.get("cs_seq") != b"1" and (
                        len(h) != len(hl) or not subj.isascii() or subj.decode() not in cases):
                    _check(v, message_to_record(m, topic))  # the exact way (raises if the case does not start at 1)
                else:
                    add_fast(m.key(), m.value() or b"", h, len(hl), lambda m=m: message_to_record(m, topic))
                done += 1
            rep.partitions[p] = rep.partitions.get(p, 0) + done
            done = 0
    except ChainError as e:
        if done:
            rep.partitions[p] = rep.partitions.get(p, 0) + done
        _fail(rep, e)
    rep.seconds = time.perf_counter() - t0
    rep.records = v.report.records
    rep.cases = len(v.report.cases)
    return rep


def verify(bootstrap: str, topic: str | None = None, partitions: list[int] | None = None, *,
           progress: Callable[[int], None] | None = None, span_: Any = None) -> LogReport:
    """`casectl log verify` without the CLI: read `topic` (default: the namespaced events topic)
    with the fast reader and check every chain. The report carries records, seconds, events_per_second."""
    from casectl import config, kafka_io

    t = topic or config.topics().events
    return verify_batches(kafka_io.scan_batches(bootstrap, t, partitions, span_=span_, progress=progress), t)
