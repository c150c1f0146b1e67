"""`casectl replay` against the real broker: the store from worker processes (one per partition)
is the store of a single pass, and both hold the rows the body-decoding fold gives. Aborted
transactions leave offset gaps and records that read_committed never shows."""

from __future__ import annotations

import sqlite3
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

from casestream import chain, envelope

from casectl import kafka_io, projection, replay

pytestmark = pytest.mark.kafka

BASE = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
PARTITIONS = 3


def sealed(case: str, seq: int, prev: bytes, minute: int) -> envelope.Record:
    typ = ("casestream.case.opened" if seq == 1 else "casestream.case.closed" if seq % 7 == 0
           else "casestream.note.added")
    return envelope.seal(envelope.build_event(
        case_id=case, sequence=seq, prev_hash=prev, event_id=f"{case}-{seq}-{minute}", source="test", type=typ,
        account_id=f"ACC-{case}", time=BASE + timedelta(minutes=minute), sequenced_at=BASE,
        data={"text": f"note {minute}"}))


def produce(bootstrap: str, topic: str, records: list[tuple[int, envelope.Record]], *, abort_every: int = 0) -> int:
    """Write (partition, record)s in transactions of 100; with `abort_every`, every n-th
    transaction is aborted. Returns how many records were committed."""
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"replay-test-{uuid.uuid4().hex[:8]}"})
    p.init_transactions(30)
    committed = 0
    for i in range(0, len(records), 100):
        chunk = records[i:i + 100]
        p.begin_transaction()
        for part, r in chunk:
            p.produce(topic, key=r.key, value=r.value, headers=r.headers, partition=part)
        if abort_every and (i // 100) % abort_every == abort_every - 1:
            p.abort_transaction(30)
        else:
            p.commit_transaction(30)
            committed += len(chunk)
    p.flush(30)
    # a commit returns before its markers are on every partition; until then read_committed stops short
    deadline = time.monotonic() + 30
    while sum(1 for _ in kafka_io.fast_scan(bootstrap, topic)) < committed:
        assert time.monotonic() < deadline, "the committed records never became readable"
        time.sleep(0.2)
    return committed


def story(cases: int = 60, rounds: int = 30) -> list[tuple[int, envelope.Record]]:
    """Interleaved cases with valid chains, a case on one partition, some in bursts."""
    heads = {c: chain.ZERO_HASH for c in range(cases)}
    seqs = dict.fromkeys(range(cases), 0)
    out, minute = [], 0
    for _ in range(rounds):
        for c in range(cases):
            for _ in range(3 if c % 5 == 0 else 1):
                minute += 1
                seqs[c] += 1
                r = sealed(f"C-{c:03d}", seqs[c], heads[c], minute)
                heads[c] = r.hash
                out.append((c % PARTITIONS, r))
    return out


@pytest.fixture
def topic(kafka_bootstrap: str) -> Iterator[str]:
    from kafka.admin import KafkaAdminClient, NewTopic

    name = f"it-{uuid.uuid4().hex[:10]}.case.events.v1"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(name, PARTITIONS, 1)])
    try:
        yield name
    finally:
        admin.delete_topics([name])
        admin.close()


def dump(path: Path, master: bool = True) -> dict[str, Any]:
    db = sqlite3.connect(path)
    try:
        out = {t: db.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid").fetchall()
               for t in ("events", "cases", "offsets")}
        if master:
            out["master"] = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY rowid").fetchall()
        return out
    finally:
        db.close()


def test_replay_in_workers_gives_the_single_pass_store(kafka_bootstrap, topic, tmp_path):
    records = story()
    committed = produce(kafka_bootstrap, topic, records, abort_every=4)
    seen: list[int] = []
    span = kafka_io.fast_span(kafka_bootstrap, topic)
    res = replay.rebuild(kafka_bootstrap, tmp_path / "par.sqlite", topic=topic, workers=3, span_=span,
                         progress=seen.append)
    one = replay.rebuild(kafka_bootstrap, tmp_path / "one.sqlite", topic=topic, workers=1)
    assert dump(tmp_path / "par.sqlite") == dump(tmp_path / "one.sqlite")
    assert sum(seen) == span.total  # progress counts offsets, markers and aborted records included
    assert res.events == one.events == committed < span.total
    # and the fold that decodes every body agrees on every row
    projection.rebuild(kafka_io.fast_scan(kafka_bootstrap, topic), tmp_path / "plain.sqlite")
    assert dump(tmp_path / "plain.sqlite", master=False) == dump(tmp_path / "par.sqlite", master=False)


def test_replay_with_a_case_on_two_partitions_folds_in_one_pass(kafka_bootstrap, topic, tmp_path):
    records = story(cases=12, rounds=10)
    case_0 = [r for p, r in records if r.key == b"C-000"]
    last = envelope.decode(case_0[-1].value)
    moved = sealed("C-000", last.sequence + 1, case_0[-1].hash, 9999)
    produce(kafka_bootstrap, topic, records + [(1, moved)])  # C-000 lives on partition 0
    res = replay.rebuild(kafka_bootstrap, tmp_path / "par.sqlite", topic=topic, workers=3)
    replay.rebuild(kafka_bootstrap, tmp_path / "one.sqlite", topic=topic, workers=1)
    assert dump(tmp_path / "par.sqlite") == dump(tmp_path / "one.sqlite")
    assert res.events == len(records) + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.sqlite", "par.sqlite"]
