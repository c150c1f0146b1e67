"""Kafka adapter for casectl: read a topic as audit `Record`s, committed records only."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import methodcaller
from typing import Any

from casestream import kafka as cskafka

from casectl.audit.records import Record


def to_record(msg: Any) -> Record:
    """A kafka-python ConsumerRecord as the audit library's Record (bytes untouched)."""
    return Record(
        topic=msg.topic, partition=msg.partition, offset=msg.offset,
        timestamp=msg.timestamp, key=msg.key, value=msg.value or b"",
        headers=tuple((k, v if v is not None else b"") for k, v in (msg.headers or [])),
    )


@dataclass
class Span:
    """The offsets a scan will cover, for progress bars."""

    begin: dict[int, int]
    end: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.end[p] - self.begin[p] for p in self.end)


FAST_BATCH = 5_000
_error = methodcaller("error")


def confluent_config(bootstrap: str, **overrides: Any) -> dict[str, Any]:
    """librdkafka settings for a read-only, committed-only scan (the shared reader's)."""
    return cskafka.fast_consumer_config(bootstrap, **{"group.id": "casectl-scan", **overrides})


def fast_consumer(bootstrap: str, **overrides: Any) -> Any:
    return cskafka.fast_consumer(bootstrap, **{"group.id": "casectl-scan", **overrides})


def fast_span(bootstrap: str, topic: str, partitions: Sequence[int] | None = None, *, consumer_: Any = None,
              timeout: float = 10.0) -> Span:
    """Like `span`, through librdkafka (low/high watermarks per partition)."""
    from confluent_kafka import TopicPartition as CTP

    c = consumer_ or fast_consumer(bootstrap)
    try:
        md = c.list_topics(topic, timeout=timeout).topics.get(topic)
        parts = sorted(md.partitions) if md is not None and md.error is None else []
        if not parts:
            raise LookupError(f"topic {topic!r} does not exist on {bootstrap}")
        if partitions is not None:
            missing = sorted(set(partitions) - set(parts))
            if missing:
                raise LookupError(f"topic {topic!r} has no partition {missing[0]} (it has 0..{parts[-1]})")
            parts = sorted(partitions)
        begin, end = {}, {}
        for p in parts:
            lo, hi = c.get_watermark_offsets(CTP(topic, p), timeout=timeout, cached=False)
            begin[p], end[p] = lo, hi
        return Span(begin, end)
    finally:
        if consumer_ is None:
            c.close()


def scan_batches(
    bootstrap: str, topic: str, partitions: Sequence[int] | None = None, *,
    span_: Span | None = None, progress: Callable[[int], None] | None = None,
    batch: int = FAST_BATCH, timeout: float = 0.02,
) -> Iterator[list[Any]]:
    """Every committed record of `topic` up to its end now, as lists of confluent_kafka.Message.

    Partition by partition, each list in offset order; a list never mixes partitions.
    `progress(n)` gets offsets consumed since the last call, once per batch (markers count).
    """
    from confluent_kafka import KafkaException
    from confluent_kafka import TopicPartition as CTP

    c = fast_consumer(bootstrap)
    try:
        s = span_ or fast_span(bootstrap, topic, partitions, consumer_=c)
        for p in sorted(s.end):
            start, stop = s.begin[p], s.end[p]
            if start >= stop:
                continue
            c.assign([CTP(topic, p, start)])
            pos, last = start, stop - 1
            done = False
            while not done:
                msgs = c.consume(num_messages=batch, timeout=timeout)
                if not msgs:
                    continue
                # the common case, checked in C: no error and the whole batch before the end
                if msgs[-1].offset() < last and list(map(_error, msgs)).count(None) == len(msgs):
                    if progress is not None:
                        nxt = msgs[-1].offset() + 1
                        progress(nxt - pos)
                        pos = nxt
                    yield msgs
                    continue
                out: list[Any] = []
                for m in msgs:
                    e = m.error()
                    if e is not None:
                        if e.code() == cskafka.PARTITION_EOF:
                            done = True
                            break
                        raise KafkaException(e)
                    o = m.offset()
                    if o > last:
                        done = True
                        break
                    out.append(m)
                    if o == last:
                        done = True
                        break
                if out:
                    if progress is not None:
                        nxt = out[-1].offset() + 1
                        progress(nxt - pos)
                        pos = nxt
                    yield out
            if progress is not None and stop > pos:
                progress(stop - pos)
            c.unassign()
    finally:
        c.close()


def message_to_record(m: Any, topic: str | None = None) -> Record:
    """A confluent_kafka.Message as the audit library's Record (bytes untouched)."""
    ts = m.timestamp()
    hdrs = m.headers()
    return Record(
        topic=topic if topic is not None else m.topic(), partition=m.partition(), offset=m.offset(),
        timestamp=ts[1] if ts[0] else None, key=m.key(), value=m.value() or b"",
        headers=tuple((k, v if v is not None else b"") for k, v in hdrs) if hdrs else (),
    )


def fast_scan(
    bootstrap: str, topic: str, partitions: Sequence[int] | None = None, *,
    span_: Span | None = None, progress: Callable[[int], None] | None = None,
) -> Iterator[Record]:
    """`scan` through librdkafka: the same records, in the same order, as `Record`s."""
    for msgs in scan_batches(bootstrap, topic, partitions, span_=span_, progress=progress):
        for m in msgs:
            yield message_to_record(m, topic)
