"""The case projection behind CaseService: built from case.events.v1 (and the DLQ, so a
waiting Submit learns about a rejection). It is disposable: it rebuilds from the log at
start. Readers wait on it for `min_sequence` to read their own writes."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from casestream import envelope, kafka as cskafka, topics

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

    def apply_event(self, partition: int, offset: int, timestamp_ms: int, value: bytes,
                    headers: list[tuple[str, bytes]]) -> None:
        h = {k: v.decode() for k, v in headers}
        case_id, seq, type_ = h["ce_subject"], int(h["cs_seq"]), h["ce_type"]
        ev = StoredEvent(case_id, seq, type_, h["ce_source"], h["ce_id"], h.get("ce_time", ""), h["cs_hash"],
                         h["cs_prev_hash"], partition, offset, value, timestamp_ms)
        with self.cond:
            view = self.cases.get(case_id)
            if view is None:
                account = envelope.decode(value).account_id
                view = self.cases[case_id] = CaseView(case_id, account, partition, opened_at=ev.time)
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
            self.by_key[(ev.source, ev.id)] = KeyStatus(case_id, seq, ev.hash, partition, offset)
            self.events += 1
            self.cond.notify_all()

    def apply_dead_letter(self, headers: list[tuple[str, bytes]]) -> None:
        h = dict(headers)
        if "cs_ce_source" not in h:
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
    """Tails case.events.v1 and the DLQ from offset zero into a CaseProjection.

    It reads every event, so it uses the shared librdkafka reader rather than kafka-python.
    """

    def __init__(self, bootstrap: str, projection: CaseProjection, log: Any) -> None:
        self.bootstrap = bootstrap
        self.projection = projection
        self.log = log
        self.caught_up = threading.Event()

    def run(self, stop: threading.Event) -> None:
        from confluent_kafka import OFFSET_BEGINNING, KafkaException, TopicPartition as CTP

        c = cskafka.fast_consumer(self.bootstrap, **{"enable.partition.eof": False, "fetch.wait.max.ms": 100})
        try:
            while True:  # right after a broker (re)start, leaders may not be elected yet
                try:
                    tps = []
                    for t in (topics.EVENTS, topics.DLQ):
                        md = c.list_topics(t, timeout=10).topics[t]
                        tps += [CTP(t, p, OFFSET_BEGINNING) for p in sorted(md.partitions)]
                    ends = {(tp.topic, tp.partition): c.get_watermark_offsets(tp, timeout=10)[1] for tp in tps}
                    break
                except KafkaException as e:
                    self.log.warning("projection_waiting_for_broker", error=str(e))
                    if stop.wait(1.0):
                        return
            c.assign(tps)
            seen = {k: 0 for k in ends}
            while not stop.is_set():
                for m in cskafka.consume_ready(c, 5000, 0.1):
                    if m.error() is not None:
                        continue
                    topic, partition, offset = m.topic(), m.partition(), m.offset()
                    seen[(topic, partition)] = offset + 1
                    try:
                        if topic == topics.EVENTS:
                            self.projection.apply_event(partition, offset, m.timestamp()[1], m.value(), m.headers() or [])
                        else:
                            self.projection.apply_dead_letter(m.headers() or [])
                    except Exception as e:  # a malformed record must not stop the read side
                        self.log.error("projection_skip", topic=topic, partition=partition, offset=offset, error=repr(e))
                if not self.caught_up.is_set() and all(
                        seen[k] >= end or self._at_end(c, k, end) for k, end in ends.items()):
                    self.caught_up.set()
                    self.log.info("projection_caught_up", events=self.projection.events)
        finally:
            c.close()

    @staticmethod
    def _at_end(c: Any, key: tuple[str, int], end: int) -> bool:
        # A partition whose last offsets are transaction markers never yields a record at end - 1.
        from confluent_kafka import TopicPartition as CTP

        (pos,) = c.position([CTP(key[0], key[1])])
        return pos.offset >= end
