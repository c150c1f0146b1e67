"""aiokafka paths for bulk I/O: its record batches are built and parsed in C (Cython), where
kafka-python does it in pure Python. Used to write the 1M-event log and to read it back."""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any, Iterable, Iterator

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from casestream import kafka as cskafka


def produce(bootstrap: str, topic: str, records: Iterable[tuple[int, bytes, bytes, list[tuple[str, bytes]]]],
            batch_bytes: int = 1024 * 1024, in_flight: int = 8) -> int:
    """(partition, key, value, headers) records, batched per partition, acks=all; returns the count."""

    async def run() -> int:
        p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_batch_size=batch_bytes,
                             max_request_size=4 * 1024 * 1024, linger_ms=5)
        await p.start()
        n = 0
        pending: list[Any] = []
        try:
            batches: dict[int, Any] = {}
            for part, key, value, headers in records:
                b = batches.get(part)
                if b is None:
                    b = batches[part] = p.create_batch()
                if b.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    pending.append(await p.send_batch(b, topic, partition=part))
                    b = batches[part] = p.create_batch()
                    b.append(key=key, value=value, timestamp=None, headers=headers)
                    if len(pending) >= in_flight:
                        await pending.pop(0)
                n += 1
            for part, b in batches.items():
                if b.record_count():
                    pending.append(await p.send_batch(b, topic, partition=part))
            for f in pending:
                await f
        finally:
            await p.stop()
        return n

    return asyncio.run(run())


def batches(bootstrap: str, topic: str, max_records: int = 20000) -> Iterator[list[Any]]:
    """Every committed record of `topic` from offset zero to its end now, one list per fetch.

    The aiokafka consumer runs on its own event loop in a thread; this plain generator hands
    its fetches to sync code (casectl's rebuild and verify_log take an iterable)."""
    q: queue.Queue = queue.Queue(maxsize=16)
    done = object()

    async def run() -> None:
        parts = sorted(cskafka.end_offsets(bootstrap, topic))
        c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             isolation_level="read_committed", fetch_max_bytes=64 * 1024 * 1024,
                             max_partition_fetch_bytes=16 * 1024 * 1024, fetch_max_wait_ms=50,
                             auto_offset_reset="earliest")
        await c.start()
        try:
            tps = [TopicPartition(topic, p) for p in parts]
            c.assign(tps)
            await c.seek_to_beginning(*tps)
            ends = await c.end_offsets(tps)
            remaining = {tp for tp in tps if ends[tp] > 0}
            while remaining:
                got = await c.getmany(*remaining, timeout_ms=500, max_records=max_records)
                for tp, recs in got.items():
                    end = ends[tp]
                    if recs and recs[-1].offset >= end:
                        recs = [r for r in recs if r.offset < end]
                    if recs:
                        while True:  # never block the loop on a full queue
                            try:
                                q.put_nowait(recs)
                                break
                            except queue.Full:
                                await asyncio.sleep(0.002)
                for tp in list(remaining):
                    if await c.position(tp) >= ends[tp]:
                        remaining.discard(tp)
        finally:
            await c.stop()

    def thread() -> None:
        try:
            asyncio.run(run())
            q.put(done)
        except BaseException as e:  # surfaced in the reader
            q.put(e)

    t = threading.Thread(target=thread, name="aiokafka-reader", daemon=True)
    t.start()
    while True:
        item = q.get()
        if item is done:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    t.join()


def records(bootstrap: str, topic: str) -> Iterator[Any]:
    for b in batches(bootstrap, topic):
        yield from b


def audit_records(bootstrap: str, topic: str) -> Iterator[Any]:
    """The topic as casectl audit Records (what casectl.kafka_io.scan yields, read with aiokafka)."""
    from casectl.audit.records import Record

    for b in batches(bootstrap, topic):
        for m in b:
            yield Record(m.topic, m.partition, m.offset, m.timestamp, m.key, m.value or b"",
                         tuple((k, v if v is not None else b"") for k, v in (m.headers or ())))
