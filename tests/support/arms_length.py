"""Reading and checking case.events.v1 the way an outside system would: plain kafka-python
and hashlib, importing nothing from Casestream."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from kafka import KafkaConsumer, TopicPartition

ZERO = "0" * 64


def read_topic(bootstrap: str, topic: str) -> list:
    c = KafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed", enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or [])]
        c.assign(tps)
        ends = c.end_offsets(tps)
        c.seek_to_beginning(*tps)
        out = []
        while any(c.position(tp) < ends[tp] for tp in tps):
            for recs in c.poll(timeout_ms=500).values():
                out.extend(recs)
        return sorted(out, key=lambda r: (r.partition, r.offset))
    finally:
        c.close()


def check_chains(records: list) -> dict[str, list]:
    """Group by case; assert cs_seq is 1..n and cs_hash = sha256(prev || value) for every record."""
    cases: dict[str, list] = defaultdict(list)
    for r in records:
        h = {k: v.decode() for k, v in r.headers}
        cases[h["ce_subject"]].append((r, h))
    for case_id, items in cases.items():
        prev = ZERO
        for i, (r, h) in enumerate(items, start=1):
            assert r.key.decode() == case_id, f"{case_id}: key {r.key!r} is not the case id"
            assert int(h["cs_seq"]) == i, f"{case_id}: expected cs_seq {i}, got {h['cs_seq']} at offset {r.offset}"
            assert h["cs_prev_hash"] == prev, f"{case_id} seq {i}: prev hash does not link"
            digest = hashlib.sha256(bytes.fromhex(prev) + r.value).hexdigest()
            assert digest == h["cs_hash"], f"{case_id} seq {i}: cs_hash does not match sha256(prev || value)"
            prev = digest
    return cases
