"""The auditor: tails case.events.v1 and publishes a signed checkpoint per partition.

A checkpoint is an RFC 6962 tree head over the partition's committed records in
offset order (leaf data = the canonical events.jsonl line an export writes), signed
with Ed25519 as a `SignedTreeHead` with origin `<events topic>/<partition>`. Because
the leaves depend on the stored record only, anyone who reads the partition from
offset 0 recomputes the same root, and can prove any exported event is in it.

It keeps only a compact range (one hash per set bit of the tree size) per partition,
so memory does not grow with the log; after a restart it re-reads from offset 0.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from casectl.audit import keys as keymod
from casectl.audit.merkle import EMPTY_ROOT, leaf_hash, node_hash
from casectl.audit.records import leaf_bytes
from casectl.audit.treehead import SignedTreeHead, TreeHead, sign_tree_head


class CompactRange:
    """The RFC 6962 root of a growing list of leaves, from the perfect-subtree peaks."""

    def __init__(self) -> None:
        self.size = 0
        self._peaks: list[bytes] = []  # left to right, sizes strictly decreasing powers of two

    def append(self, leaf: bytes) -> None:
        self._peaks.append(leaf)
        n = self.size
        while n & 1:  # merge equal-size peaks, as binary addition carries
            right = self._peaks.pop()
            self._peaks[-1] = node_hash(self._peaks[-1], right)
            n >>= 1
        self.size += 1

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        acc = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            acc = node_hash(peak, acc)
        return acc


@dataclass
class PartitionLog:
    origin: str
    tree: CompactRange = field(default_factory=CompactRange)
    last_offset: int = -1
    published_size: int = 0
    published_at: float = field(default_factory=time.monotonic)

    def due(self, now: float, every_events: int, every_seconds: float) -> bool:
        new = self.tree.size - self.published_size
        return new > 0 and (new >= every_events or now - self.published_at >= every_seconds)


def checkpoint(key: Ed25519PrivateKey, log: PartitionLog) -> dict[str, Any]:
    """The JSON document published to case.audit.v1 (the signed part is the tree head text)."""
    sth = sign_tree_head(key, TreeHead(log.tree.size, log.tree.root(), origin=log.origin))
    doc = sth.to_dict()
    # Unsigned hints: where the tree ends in the partition, and who signed it.
    doc.update(last_offset=log.last_offset, public_key_sha256=keymod.public_key_fingerprint(key),
               published_at=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"))
    return doc


def latest_checkpoints(docs: list[dict[str, Any]]) -> dict[str, SignedTreeHead]:
    """The largest checkpoint per origin (signatures are checked by the caller)."""
    best: dict[str, tuple[dict[str, Any], SignedTreeHead]] = {}
    for d in docs:
        sth = SignedTreeHead.from_dict(d)
        o = sth.head.origin
        if o is not None and (o not in best or sth.tree_size > best[o][1].tree_size):
            best[o] = (d, sth)
    return {o: v[1] for o, v in best.items()}


def run(
    bootstrap: str, events_topic: str, audit_topic: str, key: Ed25519PrivateKey, stop: threading.Event, *,
    every_events: int = 1000, every_seconds: float = 10.0, log: Any = None,
    on_publish: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Tail `events_topic` until `stop` is set; publish checkpoints to `audit_topic`."""
    from kafka import TopicPartition

    from casestream import kafka as cskafka

    from casectl.kafka_io import to_record

    consumer = cskafka.consumer(bootstrap)
    producer = cskafka.producer(bootstrap)
    try:
        parts: list[int] = []
        while not stop.is_set() and not parts:
            parts = sorted(consumer.partitions_for_topic(events_topic) or [])
            if not parts:
                stop.wait(1.0)
        tps = [TopicPartition(events_topic, p) for p in parts]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        logs = {p: PartitionLog(f"{events_topic}/{p}") for p in parts}
        while not stop.is_set():
            batch = consumer.poll(timeout_ms=200, max_records=5000)
            for tp, msgs in batch.items():
                pl = logs[tp.partition]
                for m in msgs:
                    pl.tree.append(leaf_hash(leaf_bytes(to_record(m))))
                    pl.last_offset = m.offset
            now = time.monotonic()
            for pl in logs.values():
                if pl.due(now, every_events, every_seconds):
                    doc = checkpoint(key, pl)
                    producer.send(audit_topic, key=pl.origin.encode(), value=json.dumps(doc, sort_keys=True).encode())
                    producer.flush()
                    pl.published_size, pl.published_at = pl.tree.size, now
                    if log is not None:
                        log.info("checkpoint_published", origin=pl.origin, tree_size=doc["tree_size"],
                                 root_hash=doc["root_hash"], last_offset=pl.last_offset)
                    if on_publish is not None:
                        on_publish(doc)
    finally:
        producer.flush()
        producer.close()
        consumer.close()
