"""The case projection behind CaseService: built from case.events.v1 (and the DLQ, so a
waiting Submit learns about a rejection). It is disposable: it rebuilds from the log at
start. Readers wait on it for `min_sequence` to read their own writes."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from kafka import TopicPartition

from casestream import kafka as cskafka, topics

CONTACT = "casestream.contact.logged"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    case_id: str
    sequence: int
    type: str
    source: str
    id: str
    time: str
    hash: str
    prev_hash: str
    partition: int
    offset: int
    value: bytes
    timestamp_ms: int


@dataclass(slots=True)
class CaseView:
    case_id: str
    account: str
    partition: int
    opened_at: str = ""
    closed_at: str = ""
    open: bool = True
    contacts: int = 0
    events: list[StoredEvent] = field(default_factory=list)

    @property
    def last(self) -> StoredEvent:
        return self.events[-1]


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """What became of an inbound (source, id): sequenced at a position, or rejected."""

    case_id: str = ""
    sequence: int = 0
    hash: str = ""
    partition: int = -1
    offset: int = -1
    rejected_code: str = ""
    rejected_reason: str = ""


class CaseProjection:
    def __init__(self) -> None:
        self.cases: dict[str, CaseView] = {}
        self.by_account: dict[str, list[str]] = {}
        self.by_key: dict[tuple[str, str], KeyStatus] = {}
        self.cond = threading.Condition()
        self.events = 0

    def apply_event(self, rec: Any) -> None:
        h = {k: v.decode() for k, v in rec.headers}
        case_id, seq, type_ = h["ce_subject"], int(h["cs_seq"]), h["ce_type"]
        ev = StoredEvent(case_id, seq, type_, h["ce_source"], h["ce_id"], h.get("ce_time", ""), h["cs_hash"],
                         h["cs_prev_hash"], rec.partition, rec.offset, rec.value, rec.timestamp)
        with self.cond:
            view = self.cases.get(case_id)
            if view is None:
                from casestream import envelope

                account = envelope.decode(rec.value).account_id
                view = self.cases[case_id] = CaseView(case_id, account, rec.partition, opened_at=ev.time)
                self.by_account.setdefault(account, []).append(case_id)
            if view.events and seq <= view.last.sequence:
                return
            view.events.append(ev)
            if type_ == CONTACT:
                view.contacts += 1
            elif type_ == "casestream.case.closed":
                view.open, view.closed_at = False, ev.time
            elif type_ == "casestream.case.reopened":
                view.open, view.closed_at = True, ""
            self.by_key[(ev.source, ev.id)] = KeyStatus(case_id, seq, ev.hash, rec.partition, rec.offset)
            self.events += 1
            self.cond.notify_all()

    def apply_dead_letter(self, rec: Any) -> None:
        h = {k: v for k, v in rec.headers}
        if b"cs_ce_source" not in h and "cs_ce_source" not in h:
            return
        key = (h["cs_ce_source"].decode(), h["cs_ce_id"].decode())
        with self.cond:
            if key not in self.by_key:
                self.by_key[key] = KeyStatus(rejected_code=h["cs_error_code"].decode(),
                                             rejected_reason=h["cs_error"].decode())
                self.cond.notify_all()

    def wait_case(self, case_id: str, min_sequence: int, timeout: float) -> CaseView | None:
        """The case once it has reached `min_sequence` (None if it has not within `timeout`)."""
        with self.cond:
            ok = self.cond.wait_for(
                lambda: case_id in self.cases and self.cases[case_id].last.sequence >= min_sequence, timeout)
            return self.cases.get(case_id) if ok else None

    def wait_key(self, key: tuple[str, str], timeout: float) -> KeyStatus | None:
        with self.cond:
            self.cond.wait_for(lambda: key in self.by_key, timeout)
            return self.by_key.get(key)

    def events_after(self, case_id: str, after: int) -> list[StoredEvent]:
        with self.cond:
            view = self.cases.get(case_id)
            return [e for e in view.events if e.sequence > after] if view else []


class ProjectionFeeder:
    """Tails case.events.v1 and the DLQ from offset zero into a CaseProjection."""

    def __init__(self, bootstrap: str, projection: CaseProjection, log: Any) -> None:
        self.bootstrap = bootstrap
        self.projection = projection
        self.log = log
        self.caught_up = threading.Event()

    def run(self, stop: threading.Event) -> None:
        c = cskafka.consumer(self.bootstrap, max_poll_records=5000)
        tps = [TopicPartition(t, p) for t in (topics.EVENTS, topics.DLQ)
               for p in sorted(c.partitions_for_topic(t) or [])]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        ends = c.end_offsets(tps)
        try:
            while not stop.is_set():
                batch = c.poll(timeout_ms=100)
                for tp, recs in batch.items():
                    apply = self.projection.apply_event if tp.topic == topics.EVENTS else self.projection.apply_dead_letter
                    for r in recs:
                        try:
                            apply(r)
                        except Exception as e:  # a malformed record must not stop the read side
                            self.log.error("projection_skip", topic=tp.topic, partition=tp.partition,
                                           offset=r.offset, error=repr(e))
                if not self.caught_up.is_set() and all(c.position(tp) >= ends[tp] for tp in tps):
                    self.caught_up.set()
                    self.log.info("projection_caught_up", events=self.projection.events)
        finally:
            c.close()

