"""Kafka helpers shared by every service: clients with safe settings, decision publishing,
reading a partition range, and waiting for the broker."""

from __future__ import annotations

import functools
import time
from typing import Any, Iterable, Iterator, Sequence

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.partitioner.default import murmur2

from casestream import cloudevents_codec, topics
from casestream.facts import Decision

MAX_REQUEST_BYTES = 4 * 1024 * 1024


@functools.lru_cache(maxsize=1)
def _security() -> dict[str, str]:
    from casestream.settings import CommonSettings

    return CommonSettings().kafka_security()


def producer(bootstrap: str, **overrides: Any) -> KafkaProducer:
    """A producer that waits for all in-sync replicas and never reorders on retry."""
    cfg: dict[str, Any] = dict(
        bootstrap_servers=bootstrap, acks="all", linger_ms=2, batch_size=256 * 1024,
        max_request_size=MAX_REQUEST_BYTES, enable_idempotence=True, retries=2**31 - 1, **_security(),
    )
    cfg.update(overrides)
    return KafkaProducer(**cfg)


def consumer(bootstrap: str, *, group_id: str | None = None, **overrides: Any) -> KafkaConsumer:
    """A consumer that never auto-commits and sees only committed transactions."""
    cfg: dict[str, Any] = dict(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False,
        auto_offset_reset="earliest", isolation_level="read_committed",
        fetch_max_wait_ms=20, max_partition_fetch_bytes=MAX_REQUEST_BYTES, **_security(),
    )
    cfg.update(overrides)
    return KafkaConsumer(**cfg)


def fast_consumer_config(bootstrap: str, **overrides: Any) -> dict[str, Any]:
    """librdkafka settings for reading committed records without joining a group or committing.

    kafka-python decodes records in pure Python; readers that see every event (replay, log
    verify, intake's projection) use librdkafka through confluent-kafka instead.
    """
    from casestream.settings import CommonSettings

    s = CommonSettings()
    cfg: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "group.id": "casestream-reader",  # required by the client; never joined (assign only), never committed
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
        "fetch.max.bytes": 64 * 1024 * 1024,
        "max.partition.fetch.bytes": 16 * 1024 * 1024,
        "queued.min.messages": 200_000,
        "fetch.wait.max.ms": 20,
        "fetch.queue.backoff.ms": 1,  # the default (1 s) stalls a reader whenever its local queue is full
        "log_level": 3,
    }
    if s.kafka_security_protocol == "SSL":
        cfg["security.protocol"] = "SSL"
        for key, value in (("ssl.ca.location", s.kafka_ssl_cafile), ("ssl.certificate.location", s.kafka_ssl_certfile),
                           ("ssl.key.location", s.kafka_ssl_keyfile)):
            if value:
                cfg[key] = value
    cfg.update(overrides)
    return cfg


PARTITION_EOF = -191  # confluent_kafka.KafkaError._PARTITION_EOF: a reader reached the end it can see


def fast_consumer(bootstrap: str, **overrides: Any) -> Any:
    """A confluent_kafka.Consumer configured by `fast_consumer_config`."""
    from confluent_kafka import Consumer

    return Consumer(fast_consumer_config(bootstrap, **overrides))


def consume_ready(consumer: Any, max_messages: int, timeout: float) -> list[Any]:
    """What a confluent_kafka.Consumer has ready now, up to `max_messages`; when nothing is,
    wait up to `timeout` for the first message and add whatever arrived with it.

    `consume(n, timeout)` alone blocks until n messages or the whole timeout: a reader at a
    few hundred records a second would hold every batch for the full timeout (100 ms here)."""
    msgs = consumer.consume(num_messages=max_messages, timeout=0)
    if msgs:
        return msgs
    msgs = consumer.consume(num_messages=1, timeout=timeout)
    if msgs and max_messages > 1:
        msgs += consumer.consume(num_messages=max_messages - 1, timeout=0)
    return msgs


@functools.lru_cache(maxsize=1 << 16)
def partition_for(key: bytes, partitions: int) -> int:
    """The partition the Java client (and kafka-python) picks for `key`: murmur2, positive, modulo.

    Cached: kafka-python's murmur2 is pure Python (~7 us) and intake asks once per record,
    mostly for the same busy accounts."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def wait_for_broker(bootstrap: str, timeout_s: float = 60.0) -> None:
    """Block until the broker answers a metadata request."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            c = KafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=5000, **_security())
            try:
                c.topics()
                return
            finally:
                c.close()
        except Exception as e:
            last = e
            time.sleep(0.5)
    raise TimeoutError(f"Kafka at {bootstrap} did not answer within {timeout_s}s: {last}")


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    c = consumer(bootstrap)
    try:
        parts = c.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        return {tp.partition: off for tp, off in c.end_offsets(tps).items()}
    finally:
        c.close()


def read_partition(
    bootstrap: str, topic: str, partition: int, start: int = 0, end: int | None = None,
    consumer_: KafkaConsumer | None = None,
) -> Iterator[Any]:
    """Yield committed records of one partition from `start` up to `end` (default: the current end)."""
    c = consumer_ or consumer(bootstrap)
    tp = TopicPartition(topic, partition)
    try:
        c.assign([tp])
        stop = c.end_offsets([tp])[tp] if end is None else end
        if start >= stop:
            return
        c.seek(tp, start)
        while True:
            batch = c.poll(timeout_ms=500, max_records=5000)
            for rec in batch.get(tp, []):
                if rec.offset >= stop:
                    return
                yield rec
            if c.position(tp) >= stop:
                return
    finally:
        if consumer_ is None:
            c.close()


def read_all(bootstrap: str, topic: str, partitions: Sequence[int] | None = None) -> Iterator[Any]:
    """Every committed record of a topic as it stands now, partition by partition."""
    ends = end_offsets(bootstrap, topic)
    c = consumer(bootstrap)
    try:
        for p in partitions if partitions is not None else sorted(ends):
            yield from read_partition(bootstrap, topic, p, 0, ends.get(p, 0), consumer_=c)
    finally:
        c.close()


class DecisionPublisher:
    """Submits a service's decisions to case.inbound.v1 as CloudEvents (binary mode).

    The case id travels in the `caseid` extension so intake appends the decision to
    the case that caused it; the deterministic decision id makes resubmission safe.
    """

    def __init__(self, producer_: KafkaProducer, source: str, topic: str = topics.INBOUND) -> None:
        self._producer = producer_
        self._source = source
        self._topic = topic

    def publish(self, decisions: Iterable[Decision], *, flush: bool = True) -> int:
        n = 0
        for d in decisions:
            key, value, headers = cloudevents_codec.to_kafka(
                id=d.id, source=self._source, type=d.type, subject=d.subject, time=d.time,
                data=d.data, extensions={"caseid": d.case_id},
            )
            self._producer.send(self._topic, key=key, value=value, headers=headers)
            n += 1
        if flush and n:
            self._producer.flush()
        return n
