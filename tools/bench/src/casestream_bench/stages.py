"""The measurements. Each returns a dict of figures (rates in events/s, latencies in ms)."""

from __future__ import annotations

import os
import random
import shutil
import socket
import time
from pathlib import Path
from typing import Any, Callable

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from casestream import envelope, kafka as cskafka, procs, topics

from casestream_bench import workloads

MAX_REQUEST = 4 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def create_topic(bootstrap: str, name: str, partitions: int, config: dict[str, str] | None = None) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="casestream-bench")
    try:
        admin.create_topics([NewTopic(name, partitions, 1, topic_configs=config or {})])
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


def delete_namespace(bootstrap: str, ns: str) -> int:
    """Delete every topic whose name starts with `ns`; how many."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(ns)]
    if names:
        for f in admin.delete_topics(names, operation_timeout=30).values():
            f.result()
    return len(names)


def set_log_append_time(bootstrap: str, topic: str) -> None:
    """Broker timestamps (LogAppendTime) on the bench's events topic, so record timestamps are append times."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="casestream-bench")
    try:
        admin.incremental_alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                        configs={"message.timestamp.type": "LogAppendTime"})])
    except Exception:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={
            **topics.TOPIC_CONFIGS[topics.EVENTS], "message.timestamp.type": "LogAppendTime"})])
    finally:
        admin.close()


def end_total(bootstrap: str, topic: str) -> int:
    return sum(cskafka.end_offsets(bootstrap, topic).values())


# ----------------------------------------------------------------------------- 1. the limit


def raw_produce(bootstrap: str, topic: str, partitions: int, n: int) -> dict[str, Any]:
    """kafka-python, acks=all, 1 KiB values, explicit partitions, one producer: records/s until flushed."""
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, batch_size=512 * 1024,
                      max_request_size=MAX_REQUEST)
    value = os.urandom(workloads.RECORD_BYTES)
    keys = [workloads.account(i).encode() for i in range(1000)]
    try:
        for i in range(2000):  # warm-up: connections, metadata
            p.send(topic, key=keys[i % 1000], value=value, partition=i % partitions)
        p.flush()
        t0 = time.perf_counter()
        for i in range(n):
            p.send(topic, key=keys[i % 1000], value=value, partition=i % partitions)
        p.flush()
        dt = time.perf_counter() - t0
    finally:
        p.close()
    return {"records": n, "seconds": dt, "rate": n / dt, "mib_s": n * len(value) / dt / 2**20}


# ----------------------------------------------------------------------------- 2. sequencing


def preload_inbound(bootstrap: str, topic: str, run: str, n: int, accounts: int) -> float:
    p = cskafka.producer(bootstrap, linger_ms=5)
    t0 = time.perf_counter()
    try:
        for i in range(n):
            acct = workloads.account(i % accounts)
            p.send(topic, key=acct.encode(), value=workloads.inbound_json(run, i, acct))
        p.flush()
    finally:
        p.close()
    return time.perf_counter() - t0


def read_events(bootstrap: str, topic: str, start: dict[int, int] | None = None,
                on_record: Callable[[Any], None] | None = None) -> tuple[int, int, int]:
    """Read `topic` from `start` (default zero) to its current end; (count, min ts, max ts)."""
    c = cskafka.consumer(bootstrap, max_poll_records=10000, fetch_max_bytes=64 * 1024 * 1024)
    try:
        parts = sorted(c.partitions_for_topic(topic) or [])
        tps = [TopicPartition(topic, p) for p in parts]
        c.assign(tps)
        ends = c.end_offsets(tps)
        for tp in tps:
            c.seek(tp, (start or {}).get(tp.partition, 0))
        n, lo, hi = 0, None, None
        remaining = {tp for tp in tps if c.position(tp) < ends[tp]}
        while remaining:
            batch = c.poll(timeout_ms=500)
            for tp, recs in batch.items():
                for r in recs:
                    if r.offset >= ends[tp]:
                        break
                    n += 1
                    lo = r.timestamp if lo is None or r.timestamp < lo else lo
                    hi = r.timestamp if hi is None or r.timestamp > hi else hi
                    if on_record:
                        on_record(r)
            remaining = {tp for tp in remaining if c.position(tp) < ends[tp]}
        return n, lo or 0, hi or 0
    finally:
        c.close()


def wait_total(bootstrap: str, topic: str, target: int, timeout: float, progress: Callable[[int], None] | None = None,
               ) -> int:
    deadline = time.monotonic() + timeout
    while True:
        got = end_total(bootstrap, topic)
        if progress:
            progress(got)
        if got >= target or time.monotonic() > deadline:
            return got
        time.sleep(0.25)


# ----------------------------------------------------------------------------- 3. latency


def paced(rate: float, seconds: float, fn: Callable[[int, int], None]) -> tuple[int, float]:
    """Open loop: call fn(i, intended_ns) at t0 + i/rate whatever happened before; returns (n, max lag s)."""
    n = int(rate * seconds)
    t0 = time.perf_counter()
    wall0 = time.time_ns()
    max_lag = 0.0
    for i in range(n):
        due = t0 + i / rate
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        else:
            max_lag = max(max_lag, now - due)
        fn(i, wall0 + int((due - t0) * 1e9))
    return n, max_lag


def submit_latency(bootstrap: str, inbound: str, events: str, run: str, accounts: int, rate: float,
                   seconds: float, warmup_s: float = 10.0) -> dict[str, Any]:
    from confluent_kafka import Producer

    start = cskafka.end_offsets(bootstrap, events)
    # The publishing system on librdkafka: kafka-python's per-record Python cost made the
    # producer itself fall ~100 ms behind its schedule on these 2 cores, and the latency is
    # taken from the schedule. murmur2 keeps each account on the partition intake expects.
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 0,
                  "partitioner": "murmur2_random", "log_level": 3})

    def send(i: int, intended_ns: int) -> None:
        acct = workloads.account(i % accounts)
        p.produce(inbound, key=acct.encode(), value=workloads.inbound_json(run, i, acct, sent_ns=intended_ns))
        p.poll(0)

    # Warm up first, unmeasured (no send time in the events): a new client spends ~600 ms on
    # metadata, connections and its producer id, and a freshly started broker's JIT needs a
    # few thousand transactions before its per-transaction cost settles (measured: ~640 us of
    # broker CPU per event in the first run after a start, ~420 us from the third).
    acct0 = workloads.account(0)
    p.produce(inbound, key=acct0.encode(), value=workloads.inbound_json(f"{run}-warm", 0, acct0))
    if p.flush(30):
        raise RuntimeError("the paced producer could not reach the broker in 30 s")

    def send_unmeasured(i: int, _intended_ns: int) -> None:
        acct = workloads.account(i % accounts)
        p.produce(inbound, key=acct.encode(), value=workloads.inbound_json(f"{run}-warm", i + 1, acct))
        p.poll(0)

    warm, _ = paced(rate, warmup_s, send_unmeasured)
    n, max_lag = paced(rate, seconds, send)
    if p.flush(30):
        raise RuntimeError("the paced producer could not deliver every record in 30 s")
    timeout = max(30.0, seconds * 6)
    deadline = time.monotonic() + timeout
    # end offsets count transaction markers too: they only say when to start reading
    got = wait_total(bootstrap, events, sum(start.values()) + n + warm + 1, timeout=timeout)  # + the warm-up
    while True:
        lat_ts: list[float] = []
        lat_seq: list[float] = []

        def on(r: Any) -> None:
            ev = envelope.decode(r.value)
            sent = ev.extensions.get(workloads.SENT_EXT)
            if sent is None:
                return
            sent_ns = int(sent)
            lat_ts.append((r.timestamp * 1_000_000 - sent_ns) / 1e6)
            lat_seq.append((ev.sequenced_at.ToNanoseconds() - sent_ns) / 1e6)

        read_events(bootstrap, events, start, on)
        if len(lat_ts) >= n or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return {"sent": n, "appended": len(lat_ts), "offered_rate": rate, "seconds": seconds, "warmup_events": warm,
            "max_send_lag_ms": max_lag * 1e3,
            "p50_ms": pct(lat_ts, 50), "p99_ms": pct(lat_ts, 99), "max_ms": max(lat_ts) if lat_ts else float("nan"),
            "sequenced_at_p50_ms": pct(lat_seq, 50), "sequenced_at_p99_ms": pct(lat_seq, 99),
            "missing": n - len(lat_ts), "events_end_total": got}


# ----------------------------------------------------------------------------- 6. gRPC GetCase


def grpc_getcase(addr: str, case_ids: list[str], qps: float, seconds: float, warmup: int = 500) -> dict[str, Any]:
    """Open loop at `qps` from one thread: a grpc.aio client sends each call at its scheduled
    time whether or not earlier ones have returned (one channel, calls multiplexed on it).

    p50/p99/max: every successful call, from its actual send to its response. from_schedule:
    from its intended send time, so a client or server falling behind shows there too.
    achieved_qps: successful calls / (the last response - the first scheduled send).
    """
    import asyncio

    return asyncio.run(_grpc_getcase(addr, case_ids, qps, seconds, warmup))


async def _grpc_getcase(addr: str, case_ids: list[str], qps: float, seconds: float, warmup: int) -> dict[str, Any]:
    import asyncio
    import gc
    from functools import partial

    import grpc

    from casestream.v1 import case_pb2, case_pb2_grpc

    rnd = random.Random(7)
    reqs = [case_pb2.GetCaseRequest(case_id=rnd.choice(case_ids)) for _ in range(1024)]
    n = int(qps * seconds)
    interval = 1.0 / qps
    sent = [0.0] * n
    done = [0.0] * n
    calls: list[Any] = [None] * n
    clock = time.perf_counter

    def finished(i: int, _call: Any) -> None:
        done[i] = clock()

    async with grpc.aio.insecure_channel(addr) as ch:
        get = case_pb2_grpc.CaseServiceStub(ch).GetCase
        await ch.channel_ready()
        for k in range(0, warmup, 50):  # connection, server caches, both sides' code paths
            await asyncio.gather(*(get(reqs[(k + j) & 1023], timeout=5) for j in range(50)))
        gc.collect()
        gc.disable()  # the client's own collections must not show up as server latency
        try:
            t0 = clock() + 0.01
            max_lag = 0.0
            i = 0
            while i < n:
                now = clock()
                due = t0 + i * interval
                if due > now:
                    await asyncio.sleep(due - now)  # wakes at ms granularity: the calls due by then go out together
                    continue
                max_lag = max(max_lag, now - due)
                while i < n and t0 + i * interval <= now:
                    sent[i] = clock()
                    calls[i] = get(reqs[i & 1023], timeout=2)
                    calls[i].add_done_callback(partial(finished, i))  # no task of our own per call
                    i += 1
            await asyncio.gather(*calls, return_exceptions=True)
        finally:
            gc.enable()
        status = [(await c.code()) for c in calls]
    codes: dict[str, int] = {}
    for st in status:
        if st != grpc.StatusCode.OK:
            codes[st.name] = codes.get(st.name, 0) + 1
    good = [i for i in range(n) if status[i] == grpc.StatusCode.OK]
    lat = [(done[i] - sent[i]) * 1e3 for i in good]
    sched = [(done[i] - (t0 + i * interval)) * 1e3 for i in good]
    span = max(done) - t0 if n else float("nan")
    return {"qps_target": qps, "calls": len(lat), "scheduled": n, "errors": n - len(lat), "error_codes": codes,
            "achieved_qps": len(lat) / span, "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
            "max_ms": max(lat) if lat else float("nan"), "from_schedule_p50_ms": pct(sched, 50),
            "from_schedule_p99_ms": pct(sched, 99), "max_send_lag_ms": max_lag * 1e3,
            "client": "grpc.aio, 1 thread, open loop"}


# ----------------------------------------------------------------------------- intake


class Intake:
    def __init__(self, run_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.proc = procs.Process(procs.SERVICES["intake"], run_dir, env, grpc_port=self.port, metrics_port=0)

    def start(self) -> "Intake":
        self.proc.start()
        return self

    def wait_serving(self, timeout: float = 120.0) -> None:
        self.proc.wait_serving(timeout)

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.stop()


def rmtree(p: Path) -> None:
    shutil.rmtree(p, ignore_errors=True)
