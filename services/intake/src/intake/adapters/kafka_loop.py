"""The sequencer's Kafka loop: consume case.inbound.v1, append to case.events.v1 on the
same partition number, dead-letter bad input, and commit the inbound offsets in the same
Kafka transaction as the appends. Nothing is committed before the append is durable."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from kafka import ConsumerRebalanceListener, TopicPartition
from kafka.structs import OffsetAndMetadata
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
RESTORED = Gauge("casestream_intake_restored_events", "Events folded from the log at the last restore", ["partition"])
GROUP_ID = topics.group("casestream-intake")


def restore(checkpoints: CheckpointStore, bootstrap: str, partition: int) -> PartitionState:
    """Checkpoint plus the committed tail of this partition of case.events.v1."""
    st = checkpoints.load(partition)
    n = 0
    for rec in cskafka.read_partition(bootstrap, topics.EVENTS, partition, st.events_offset):
        ev = envelope.decode(rec.value)
        digest = bytes.fromhex(dict(rec.headers)["cs_hash"].decode())
        st.apply(ev, digest)
        st.events_offset = rec.offset + 1
        n += 1
    end = cskafka.end_offsets(bootstrap, topics.EVENTS).get(partition, 0)
    st.events_offset = max(st.events_offset, end)
    RESTORED.labels(str(partition)).set(n)
    checkpoints.save(st)
    return st


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, loop: "SequencerLoop") -> None:
        self.loop = loop

    def on_partitions_revoked(self, revoked: Any) -> None:
        for tp in revoked:
            self.loop.service.revoke(tp.partition)

    def on_partitions_assigned(self, assigned: Any) -> None:
        for tp in assigned:
            st = restore(self.loop.checkpoints, self.loop.bootstrap, tp.partition)
            self.loop.service.assign(st)
            self.loop.log.info("partition_restored", partition=tp.partition, cases=len(st.cases),
                               events_offset=st.events_offset)
        self.loop.ready.set()


class SequencerLoop:
    def __init__(
        self, *, bootstrap: str, instance_id: str, service: SequencingService,
        checkpoints: CheckpointStore, clock: Clock, log: Any,
        on_committed: Callable[[], None] | None = None, max_batch: int = 2000, session_timeout_s: float = 10.0,
    ) -> None:
        self.session_timeout_s = session_timeout_s
        self.bootstrap = bootstrap
        self.service = service
        self.checkpoints = checkpoints
        self.clock = clock
        self.log = log
        self.ready = threading.Event()
        self._txn_id = topics.group(f"casestream-intake-{instance_id}")
        self._on_committed = on_committed
        self._max_batch = max_batch

    def run(self, stop: threading.Event) -> None:
        producer = cskafka.producer(self.bootstrap, transactional_id=self._txn_id, linger_ms=0)
        producer.init_transactions()  # fences a previous incarnation and aborts its open transaction
        consumer = cskafka.consumer(self.bootstrap, group_id=GROUP_ID, max_poll_records=self._max_batch,
                                    session_timeout_ms=int(self.session_timeout_s * 1000), heartbeat_interval_ms=1000)
        consumer.subscribe([topics.INBOUND], listener=_Rebalance(self))
        try:
            while not stop.is_set():
                batch = consumer.poll(timeout_ms=100, max_records=self._max_batch)
                if batch:
                    self._process(batch, producer, consumer)
                elif not self.ready.is_set() and consumer.assignment():
                    self.ready.set()
        finally:
            self.log.info("sequencer_stopping")
            consumer.close(autocommit=False)
            producer.close(timeout=5)

    def _process(self, batch: dict, producer: Any, consumer: Any) -> None:
        started = time.perf_counter()
        records = [
            InboundRecord(tp.partition, r.offset, r.key, r.value, list(r.headers or []))
            for tp, recs in batch.items() for r in recs
            if tp.partition in self.service.sequencers
        ]
        result = self.service.process(records, now=self.clock.now())
        try:
            producer.begin_transaction()
            sent = []
            for partition, recs in result.appends.items():
                for r in recs:
                    sent.append((partition, producer.send(topics.EVENTS, key=r.key, value=r.value,
                                                          headers=r.headers, partition=partition)))
            for dl in result.dead_letters:
                producer.send(topics.DLQ, key=dl.key, value=dl.value, headers=dl.headers)
            for fw in result.forwards:
                r = fw.record
                producer.send(topics.INBOUND, key=r.key, value=r.value, partition=fw.partition,
                              headers=r.headers + [("cs_forwarded_from", f"{r.partition}:{r.offset}".encode())])
            offsets = {tp: OffsetAndMetadata(recs[-1].offset + 1, "", -1) for tp, recs in batch.items() if recs}
            producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
            producer.commit_transaction()
        except Exception as e:
            self.log.error("transaction_failed", error=repr(e))
            try:
                producer.abort_transaction()
            except Exception:
                pass
            self._rewind(consumer)
            return
        for partition, fut in sent:
            st = self.service.sequencers[partition].state
            st.events_offset = max(st.events_offset, fut.get().offset + 1)
        touched = (self.service.sequencers.get(tp.partition) for tp in batch)
        self.checkpoints.save(*(s.state for s in touched if s is not None))
        n = sum(len(v) for v in result.appends.values())
        SEQUENCED.inc(n)
        FORWARDED.inc(len(result.forwards))
        DUPLICATES.inc(result.duplicates)
        for dl in result.dead_letters:
            DEAD_LETTERS.labels(dict(dl.headers)["cs_error_code"].decode()).inc()
        BATCH_SECONDS.observe(time.perf_counter() - started)
        if self._on_committed:
            self._on_committed()

    def _rewind(self, consumer: Any) -> None:
        """After a failed transaction, the in-memory state ran ahead: rebuild it and re-read."""
        for tp in consumer.assignment():
            self.service.assign(restore(self.checkpoints, self.bootstrap, tp.partition))
            committed = consumer.committed(tp)
            consumer.seek(tp, committed if committed is not None else 0)
