"""The sequencer's Kafka loop: consume case.inbound.v1, append to case.events.v1 on the
same partition number, dead-letter bad input, and commit the inbound offsets in the same
Kafka transaction as the appends. Nothing is committed before the append is durable.

It runs on librdkafka (confluent-kafka): its transactional producer and consumer do the
per-record work in C, where kafka-python spent ~190 us a record in pure Python and
contended with the sequencer for the GIL.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from prometheus_client import Counter, Gauge, Histogram

from casestream import envelope, kafka as cskafka, topics
from casestream.clock import Clock

from intake.adapters.checkpoint import CheckpointStore
from intake.domain.sequencer import PartitionState
from intake.service_layer.sequencing import InboundRecord, SequencingService

SEQUENCED = Counter("casestream_intake_sequenced_total", "Events appended to case.events.v1")
DUPLICATES = Counter("casestream_intake_duplicates_total", "Inbound events dropped as duplicates of (source, id)")
DEAD_LETTERS = Counter("casestream_intake_dead_letters_total", "Inbound records sent to the DLQ", ["code"])
FORWARDED = Counter("casestream_intake_forwarded_total", "Inbound records re-sent to their account's partition")
BATCH_SECONDS = Histogram("casestream_intake_batch_seconds", "Time to sequence and commit one batch")
BATCH_RECORDS = Histogram("casestream_intake_batch_records", "Inbound records per batch (one transaction each)",
                          buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000))
PHASE_SECONDS = Histogram("casestream_intake_phase_seconds", "Time per batch in each phase", ["phase"])
RESTORED = Gauge("casestream_intake_restored_events", "Events folded from the log at the last restore", ["partition"])
GROUP_ID = topics.group("casestream-intake")
TXN_TIMEOUT_S = 30.0
CHECKPOINT_INTERVAL_S = 1.0


def restore(checkpoints: CheckpointStore, bootstrap: str, partition: int, reader: Any = None) -> PartitionState:
    """Checkpoint plus the committed tail of this partition of case.events.v1.

    Read with the shared librdkafka reader (`reader`, or one made here): a rebalance restores
    every partition it assigns, and kafka-python took ~300 ms a partition just to connect."""
    st = checkpoints.load(partition)
    c = reader or cskafka.fast_consumer(bootstrap)
    n = 0
    try:
        _, end = c.get_watermark_offsets(TopicPartition(topics.EVENTS, partition), timeout=10, cached=False)
        if st.events_offset > end:  # the topic was recreated: this checkpoint describes another log
            st = PartitionState(partition)
        if st.events_offset < end:
            c.assign([TopicPartition(topics.EVENTS, partition, st.events_offset)])
            done = False
            while not done:
                for m in c.consume(num_messages=5000, timeout=1.0):
                    err = m.error()
                    if err is not None:
                        if err.code() == cskafka.PARTITION_EOF:  # at the last stable offset: all that is committed
                            done = True
                            break
                        raise KafkaException(err)
                    ev = envelope.decode(m.value())
                    st.apply(ev, bytes.fromhex(dict(m.headers())["cs_hash"].decode()))
                    st.events_offset = m.offset() + 1
                    n += 1
                    if st.events_offset >= end:
                        done = True
                        break
            c.unassign()
    finally:
        if reader is None:
            c.close()
    st.events_offset = max(st.events_offset, end)
    RESTORED.labels(str(partition)).set(n)
    checkpoints.save(st)
    return st


class SequencerLoop:
    def __init__(
        self, *, bootstrap: str, instance_id: str, service: SequencingService,
        checkpoints: CheckpointStore, clock: Clock, log: Any,
        on_committed: Callable[[], None] | None = None, max_batch: int = 2000, session_timeout_s: float = 10.0,
        txn_interval_s: float = 0.0,
    ) -> None:
        self.bootstrap = bootstrap
        self.service = service
        self.checkpoints = checkpoints
        self.clock = clock
        self.log = log
        self.ready = threading.Event()
        self._txn_id = topics.group(f"casestream-intake-{instance_id}")
        self._on_committed = on_committed
        self._max_batch = max_batch
        self._session_timeout_s = session_timeout_s
        self._saved_at = 0.0
        self._txn_interval_s = txn_interval_s
        self._txn_started = 0.0

    # -- rebalance callbacks (librdkafka calls them from inside consume) --

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        self._restore(partitions)
        self.ready.set()

    def _restore(self, partitions: list[Any]) -> None:
        """Restore and take over each partition, through one reader for all of them."""
        reader = cskafka.fast_consumer(self.bootstrap)
        try:
            for tp in partitions:
                st = restore(self.checkpoints, self.bootstrap, tp.partition, reader)
                self.service.assign(st)
                self.log.info("partition_restored", partition=tp.partition, cases=len(st.cases),
                              events_offset=st.events_offset)
        finally:
            reader.close()

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        self._checkpoint(force=True)  # the next owner restores from here
        for tp in partitions:
            self.service.revoke(tp.partition)

    def _checkpoint(self, force: bool = False) -> None:
        """Save the partitions' state at most every CHECKPOINT_INTERVAL_S (and on revoke and stop).

        Only ever called between batches, so the state is exactly the committed one. A later
        checkpoint only means a longer tail to fold at restore; per batch it cost ~20% of the
        sequencer's time."""
        now = time.monotonic()
        if not force and now - self._saved_at < CHECKPOINT_INTERVAL_S:
            return
        states = [s.state for s in self.service.sequencers.values()]
        if states:
            self.checkpoints.save(*states)
        self._saved_at = now

    def run(self, stop: threading.Event) -> None:
        base = cskafka.fast_consumer_config(self.bootstrap)
        security = {k: v for k, v in base.items() if k.startswith(("security.", "ssl."))}
        producer = Producer({
            "bootstrap.servers": self.bootstrap, "transactional.id": self._txn_id, "enable.idempotence": True,
            "acks": "all", "linger.ms": 1, "message.max.bytes": cskafka.MAX_REQUEST_BYTES,
            "transaction.timeout.ms": int(TXN_TIMEOUT_S * 1000), "log_level": 3,
            # Right after a commit the coordinator is still writing the markers and answers the
            # next transaction's AddOffsets/AddPartitions with CONCURRENT_TRANSACTIONS; at the
            # default 100 ms backoff every batch waited ~100 ms for that retry (measured).
            "retry.backoff.ms": 5, "retry.backoff.max.ms": 50, **security,
        })
        producer.init_transactions(TXN_TIMEOUT_S)  # fences a previous incarnation, aborts its open transaction
        consumer = Consumer({
            **base, "group.id": GROUP_ID, "enable.partition.eof": False, "fetch.wait.max.ms": 100,
            "session.timeout.ms": int(self._session_timeout_s * 1000), "heartbeat.interval.ms": 1000,
            "max.poll.interval.ms": 300_000, "partition.assignment.strategy": "range",
        })
        consumer.subscribe([topics.INBOUND], on_assign=self._on_assign, on_revoke=self._on_revoke)
        try:
            while not stop.is_set():
                msgs = cskafka.consume_ready(consumer, self._max_batch, 0.1)
                # Transactions no closer together than txn_interval_s: each costs the broker
                # ~5 ms of CPU whatever its size, and at a few thousand records a second the
                # loop would otherwise commit a handful of records at a time. An idle loop
                # starts at once; a full batch never waits.
                wait = self._txn_started + self._txn_interval_s - time.monotonic()
                if msgs and wait > 0 and len(msgs) < self._max_batch:
                    msgs += consumer.consume(num_messages=self._max_batch - len(msgs), timeout=wait)
                batch = [m for m in msgs if m.error() is None]
                for m in msgs:
                    if m.error() is not None:
                        self.log.warning("consume_error", error=str(m.error()))
                if batch:
                    self._process(batch, producer, consumer)
        finally:
            self.log.info("sequencer_stopping")
            self._checkpoint(force=True)
            consumer.close()
            producer.flush(5)

    def _process(self, batch: list[Any], producer: Any, consumer: Any) -> None:
        started = time.perf_counter()
        self._txn_started = time.monotonic()
        mine = self.service.sequencers
        records = []
        last: dict[int, int] = {}  # the last inbound offset per partition (a batch is in offset order)
        for m in batch:
            p, o = m.partition(), m.offset()
            last[p] = o
            if p in mine:
                records.append(InboundRecord(p, o, m.key(), m.value(), m.headers() or []))
        result = self.service.process(records, now=self.clock.now())
        processed = time.perf_counter()
        PHASE_SECONDS.labels("sequence").observe(processed - started)
        BATCH_RECORDS.observe(len(records))
        appended: dict[int, int] = {}

        def delivered(err: Any, msg: Any) -> None:
            if err is None:
                appended[msg.partition()] = max(appended.get(msg.partition(), -1), msg.offset())

        try:
            producer.begin_transaction()
            produce = producer.produce
            for partition, recs in result.appends.items():
                for r in recs[:-1]:
                    produce(topics.EVENTS, key=r.key, value=r.value, headers=r.headers, partition=partition)
                # The idempotent producer keeps a partition's order: the last record's offset says it all.
                last_rec = recs[-1]
                produce(topics.EVENTS, key=last_rec.key, value=last_rec.value, headers=last_rec.headers,
                        partition=partition, on_delivery=delivered)
            for dl in result.dead_letters:
                producer.produce(topics.DLQ, key=dl.key, value=dl.value, headers=dl.headers)
            for fw in result.forwards:
                r = fw.record
                producer.produce(topics.INBOUND, key=r.key, value=r.value, partition=fw.partition,
                                 headers=r.headers + [("cs_forwarded_from", f"{r.partition}:{r.offset}".encode())])
            offsets = [TopicPartition(topics.INBOUND, p, o + 1) for p, o in last.items()]
            producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), TXN_TIMEOUT_S)
            producer.commit_transaction(TXN_TIMEOUT_S)
        except KafkaException as e:
            err = e.args[0]
            self.log.error("transaction_failed", error=str(err), abortable=err.txn_requires_abort(),
                           fatal=err.fatal())
            if err.fatal():
                raise  # fenced or unrecoverable: the process exits and a new incarnation takes over
            try:
                producer.abort_transaction(TXN_TIMEOUT_S)
            except KafkaException:
                pass
            self._rewind(consumer)
            return
        committed = time.perf_counter()
        PHASE_SECONDS.labels("transaction").observe(committed - processed)
        for partition, offset in appended.items():
            st = self.service.sequencers[partition].state
            st.events_offset = max(st.events_offset, offset + 1)
        self._checkpoint()
        PHASE_SECONDS.labels("checkpoint").observe(time.perf_counter() - committed)
        SEQUENCED.inc(sum(len(v) for v in result.appends.values()))
        DUPLICATES.inc(result.duplicates)
        FORWARDED.inc(len(result.forwards))
        for dl in result.dead_letters:
            DEAD_LETTERS.labels(dict(dl.headers)["cs_error_code"].decode()).inc()
        BATCH_SECONDS.observe(time.perf_counter() - started)
        if self._on_committed:
            self._on_committed()

    def _rewind(self, consumer: Any) -> None:
        """After a failed transaction, the in-memory state ran ahead: rebuild it and re-read."""
        assigned = consumer.assignment()
        self._restore(assigned)
        for tp in consumer.committed(assigned, timeout=10):
            consumer.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else 0))
