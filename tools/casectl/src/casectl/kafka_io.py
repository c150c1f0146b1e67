"""Kafka adapter for casectl: read a topic as audit `Record`s, committed records only."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import TopicPartition

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


def span(bootstrap: str, topic: str, partitions: Sequence[int] | None = None) -> Span:
    c = cskafka.consumer(bootstrap)
    try:
        parts = sorted(c.partitions_for_topic(topic) or [])
        if not parts:
            raise LookupError(f"topic {topic!r} does not exist on {bootstrap}")
        if partitions is not None:
            missing = sorted(set(partitions) - set(parts))
            if missing:
                raise LookupError(f"topic {topic!r} has no partition {missing[0]} (it has 0..{parts[-1]})")
            parts = sorted(partitions)
        tps = [TopicPartition(topic, p) for p in parts]
        begin = {tp.partition: o for tp, o in c.beginning_offsets(tps).items()}
        end = {tp.partition: o for tp, o in c.end_offsets(tps).items()}
        return Span(begin, end)
    finally:
        c.close()


def scan(
    bootstrap: str, topic: str, partitions: Sequence[int] | None = None, *,
    span_: Span | None = None, progress: Callable[[int], None] | None = None,
) -> Iterator[Record]:
    """Every committed record of `topic` up to its end now, partition by partition in offset order.

    `progress(n)` is called with the number of offsets consumed since the last call
    (transaction markers count, so the total matches `Span.total`).
    """
    s = span_ or span(bootstrap, topic, partitions)
    c = cskafka.consumer(bootstrap)
    try:
        for p in sorted(s.end):
            pos = s.begin[p]
            for msg in cskafka.read_partition(bootstrap, topic, p, s.begin[p], s.end[p], consumer_=c):
                if progress is not None:
                    progress(msg.offset + 1 - pos)
                    pos = msg.offset + 1
                yield to_record(msg)
            if progress is not None and s.end[p] > pos:
                progress(s.end[p] - pos)
    finally:
        c.close()
