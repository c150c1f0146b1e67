"""The replay fold: the column-wise fold and the multi-process merge give, row for row (rowids
included), the store that the record-by-record fold of earlier releases gave."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from casestream import chain, envelope
from casestream.v1 import events_pb2

from casectl import kafka_io, parallel_replay, projection
from casectl.projection import STATUS, _account_marker

TOPIC = "t.case.events.v1"
BASE = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


class Msg:
    """Stands in for a confluent_kafka.Message."""

    def __init__(self, partition: int, offset: int, value: bytes | None, headers: list[tuple[str, Any]] | None):
        self._p, self._o, self._v, self._h = partition, offset, value, headers

    def partition(self) -> int:
        return self._p

    def offset(self) -> int:
        return self._o

    def value(self) -> bytes | None:
        return self._v

    def headers(self) -> list[tuple[str, Any]] | None:
        return None if self._h is None else list(self._h)

    def error(self) -> None:
        return None


def sealed(case: str, seq: int, *, account: str = "", typ: str = "casestream.note.added", minute: int = 0,
           body_case: str | None = None) -> envelope.Record:
    ev = envelope.build_event(
        case_id=body_case or case, sequence=seq, prev_hash=chain.ZERO_HASH, event_id=f"{case}-{seq}-{minute}",
        source="test", type=typ, account_id=account or f"ACC-{case}", time=BASE + timedelta(minutes=minute),
        sequenced_at=BASE, data={"text": f"{case} {seq} {minute}" * (1 + seq % 3)},
    )
    return envelope.seal(ev)


def canonical() -> list[tuple[int, list[tuple[str, Any]], bytes | None]]:
    """(partition, headers, value) in log order: interleaved and bursty cases, status changes."""
    out = []
    minute = 0
    for rnd in range(1, 9):
        for p in range(3):
            for c in range(4):
                case = f"C{p}-{c}"
                burst = 3 if c == 1 else 1  # C*-1 comes in bursts
                for k in range(burst):
                    seq = (rnd - 1) * burst + k + 1
                    typ = ("casestream.case.opened" if seq == 1 else "casestream.case.closed" if seq == 5
                           else "casestream.case.reopened" if seq == 7 else "casestream.note.added")
                    minute += 1
                    r = sealed(case, seq, typ=typ, minute=minute)
                    out.append((p, list(r.headers), r.value))
    return out


def odd() -> list[tuple[int, list[tuple[str, Any]], bytes | None]]:
    """Records the column-wise fold must hand to the record-by-record one, or fold the same anyway."""
    log = canonical()

    def rec(p, case, seq, **kw):
        r = sealed(case, seq, minute=500 + seq, **kw)
        return [p, list(r.headers), r.value]

    extra = [
        rec(0, "C0-0", 4),  # a (case, seq) again: the table gets keyed, REPLACE from then on
        rec(0, "C0-2", 3),  # and again
        rec(1, "C1-1", 0),  # a seq below the case's last one, not seen before
        rec(1, "C1-3", 9, account="ACC-moved"),  # the body's account changes within the case
        rec(2, "C2-0", 9),
        rec(2, "C2-1", 25),
        rec(2, "C2-1", 26),
    ]
    extra[4][1] = [(k, v) for k, v in extra[4][1] if k not in ("ce_type", "ce_time")]  # headers missing: body decode
    extra[5][1] = [(k, b"\xff\xfe" if k == "ce_type" else v) for k, v in extra[5][1]]  # not UTF-8: body decode
    extra[6][1] = ([(k, None if k == "content-type" else v) for k, v in extra[6][1]]
                   + [("cs_hash", b"f" * 64)])  # a null header; a name twice: the last one counts
    new = [rec(1, "C1-9", 1), rec(1, "C1-9", 2)]
    new[1][1] = list(reversed(new[1][1]))  # another header order
    new.append(rec(1, "C1-9", 3))
    new[2][2] = None  # no body
    new.append(rec(1, "C1-9", 4))
    new[3][1] = [(k, b" 4 " if k == "cs_seq" else v) for k, v in new[3][1]]  # int() takes it
    return log + [tuple(x) for x in extra + new]


def messages(log) -> dict[int, list[Msg]]:
    parts: dict[int, list[Msg]] = {}
    for p, headers, value in log:
        q = parts.setdefault(p, [])
        q.append(Msg(p, len(q) * 2 + 5, value, headers))  # offsets with gaps (transaction markers)
    return parts


def batches(log, size: int) -> list[list[Msg]]:
    parts = messages(log)
    return [q[i:i + size] for p in sorted(parts) for q in [parts[p]] for i in range(0, len(q), size)]


def dump(path: Path) -> dict[str, Any]:
    db = sqlite3.connect(path)
    try:
        out = {"master": db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid").fetchall()}
        for t in ("events", "cases", "offsets"):
            out[t] = db.execute(f"SELECT rowid, *, typeof(partition) FROM {t} ORDER BY rowid").fetchall()
        return out
    finally:
        db.close()


# The fold as it was before the column-wise and multi-process ways, kept verbatim as the oracle.
def legacy_rebuild_batches(batches, store: Path, topic: str) -> None:
    tmp = store.with_name(f".{store.name}.legacy.tmp")
    db = sqlite3.connect(tmp, isolation_level=None)
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + projection._EVENTS_NOKEY)
    cases: dict[str, list[Any]] = {}
    accounts: dict[str, tuple[str, bytes]] = {}
    offsets: dict[int, int] = {}
    keyed = False
    insert = "INSERT INTO events VALUES (?,?,?,?,?,?,?,?)"
    batch: list[tuple[Any, ...]] = []
    ev = events_pb2.CaseEvent()
    db.execute("BEGIN")
    for msgs in batches:
        p = msgs[0].partition()
        for m in msgs:
            value = m.value() or b""
            h = dict(m.headers() or ())
            try:
                case_id = h["ce_subject"].decode()
                seq = int(h["cs_seq"])
                typ = h["ce_type"].decode()
                t = h["ce_time"].decode()
                hh = h["cs_hash"].decode()
                acc = accounts.get(case_id)
                if acc is None or acc[1] not in value:
                    ev.ParseFromString(value)
                    acc = accounts[case_id] = (ev.account_id, _account_marker(ev.account_id))
                account = acc[0]
            except (KeyError, ValueError):
                ev.ParseFromString(value)
                case_id, seq, typ, account = ev.case_id, ev.sequence, ev.type, ev.account_id
                t = ev.time.ToJsonString()
                hh = (h.get("cs_hash") or b"").decode()
            c = cases.get(case_id)
            if c is None:
                cases[case_id] = [case_id, account, p, 1, seq, hh, t, t, STATUS.get(typ)]
            else:
                if seq <= c[4] and not keyed:
                    db.executemany(insert, batch)
                    batch.clear()
                    db.execute(projection._EVENTS_KEY)
                    keyed = True
                    insert = "INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?,?)"
                c[3] += 1
                c[4], c[5], c[7] = seq, hh, t
                c[8] = STATUS.get(typ, c[8])
            batch.append((case_id, seq, typ, t, account, hh, p, m.offset()))
        offsets[p] = msgs[-1].offset() + 1
        db.executemany(insert, batch)
        batch.clear()
    if not keyed:
        db.execute(projection._EVENTS_KEY)
    db.executemany("INSERT INTO cases VALUES (?,?,?,?,?,?,?,?,?)", [tuple(c) for c in cases.values()])
    db.executemany("INSERT INTO offsets VALUES (?,?,?)", [(topic, p, o) for p, o in offsets.items()])
    db.execute("CREATE INDEX cases_by_account ON cases(account_id)")
    db.execute("COMMIT")
    db.close()
    os.replace(tmp, store)


def legacy(log, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "legacy.sqlite"
    legacy_rebuild_batches(batches(log, 7), path, TOPIC)
    return dump(path)


@pytest.mark.parametrize("data", [canonical, odd])
@pytest.mark.parametrize("size", [1, 4, 7, 50, 1000])
def test_fold_gives_the_legacy_store(tmp_path, data, size):
    log = data()
    store = tmp_path / "cases.sqlite"
    res = projection.rebuild_batches(batches(log, size), store, TOPIC)
    assert dump(store) == legacy(log, tmp_path)
    assert res.events == len(log)
    assert sorted(os.listdir(tmp_path)) == ["cases.sqlite", "legacy.sqlite"]


def test_odd_records_do_take_the_other_paths(tmp_path, monkeypatch):
    seen = {"batch": 0, "columns": 0, "records": 0}
    for name, attr in (("batch", "_add_batch"), ("columns", "_add_columns"), ("records", "_add_records")):
        orig = getattr(projection._Fold, attr)

        def spy(self, *a, _orig=orig, _name=name):
            seen[_name] += 1
            return _orig(self, *a)

        monkeypatch.setattr(projection._Fold, attr, spy)
    projection.rebuild_batches(batches(odd(), 50), tmp_path / "s.sqlite", TOPIC)
    assert seen["records"] and seen["columns"] and seen["batch"] > seen["columns"]


def test_fold_matches_the_plain_rebuild_on_canonical_records(tmp_path):
    """Headers agree with bodies: the fast fold and the body-decoding `rebuild` give the same rows."""
    from casectl.audit.records import Record

    log = canonical()
    parts = messages(log)
    recs = [Record(TOPIC, p, m.offset(), 1, b"k", m.value(), tuple(m.headers()))
            for p in sorted(parts) for m in parts[p]]
    projection.rebuild(recs, tmp_path / "plain.sqlite")
    projection.rebuild_batches(batches(log, 9), tmp_path / "fast.sqlite", TOPIC)
    plain, fast = dump(tmp_path / "plain.sqlite"), dump(tmp_path / "fast.sqlite")
    assert {k: v for k, v in plain.items() if k != "master"} == {k: v for k, v in fast.items() if k != "master"}


@pytest.mark.parametrize("data", [canonical, odd])
def test_parts_merged_give_the_single_pass_store(tmp_path, data):
    """One part per partition, folded in any order, merged: the same store, rowids included
    (in `odd` a (case, seq) repeats, which leaves gaps in the rowids)."""
    log = data()
    parts = messages(log)
    infos = []
    for p in sorted(parts, reverse=True):
        q = parts[p]
        infos.append(projection.fold_part([q[i:i + 5] for i in range(0, len(q), 5)], tmp_path / f"p{p}.part", TOPIC, p))
    res = projection.merge_parts(infos, tmp_path / "merged.sqlite", TOPIC)
    assert dump(tmp_path / "merged.sqlite") == legacy(log, tmp_path)
    assert (res.events, res.cases) == (len(log), len(dump(tmp_path / "merged.sqlite")["cases"]))
    if data is odd:
        assert any(i.rows < i.max_rowid for i in infos)


def test_merge_refuses_a_case_on_two_partitions(tmp_path):
    log = canonical() + [(2, list(sealed("C0-0", 9).headers), sealed("C0-0", 9).value)]
    parts = messages(log)
    infos = [projection.fold_part([parts[p]], tmp_path / f"p{p}.part", TOPIC, p) for p in sorted(parts)]
    with pytest.raises(projection.CaseSpansPartitions):
        projection.merge_parts(infos, tmp_path / "merged.sqlite", TOPIC)
    assert not (tmp_path / "merged.sqlite").exists()
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_assign_balances_partitions_over_workers():
    assert parallel_replay.assign({0: 10, 1: 10, 2: 10}, 3) == [[0], [1], [2]]
    assert parallel_replay.assign({0: 10, 1: 10, 2: 10}, 2) == [[0, 2], [1]]
    groups = parallel_replay.assign({p: 100 - p for p in range(8)}, 3)
    assert sorted(p for g in groups for p in g) == list(range(8))
    assert max(map(len, groups)) - min(map(len, groups)) <= 1


def test_default_workers(monkeypatch):
    monkeypatch.delenv(parallel_replay.WORKERS_ENV, raising=False)
    monkeypatch.setattr(parallel_replay, "cpus", lambda: 2)
    assert parallel_replay.default_workers(3) == 3
    assert parallel_replay.default_workers(12) == 4
    assert parallel_replay.default_workers(1) == 1
    monkeypatch.setattr(parallel_replay, "cpus", lambda: 1)
    assert parallel_replay.default_workers(3) == 1
    monkeypatch.setenv(parallel_replay.WORKERS_ENV, "2")
    assert parallel_replay.default_workers(3) == 2


# --------------------------------------------------------------------------- the worker processes
# Workers are forked, so a fake reader patched in here is the one they use.

def fake_reader(monkeypatch, log, fail_partition: int | None = None):
    parts = messages(log)

    def scan_batches(bootstrap, topic, partitions=None, *, span_=None, progress=None, batch=1000, timeout=0.02):
        for p in sorted(span_.end):
            if p == fail_partition:
                raise LookupError(f"no partition {p}")
            q = [m for m in parts.get(p, []) if span_.begin[p] <= m.offset() < span_.end[p]]
            for i in range(0, len(q), 3):
                if progress is not None:
                    progress(len(q[i:i + 3]))
                yield q[i:i + 3]

    monkeypatch.setattr(kafka_io, "scan_batches", scan_batches)
    return kafka_io.Span({p: 0 for p in parts}, {p: parts[p][-1].offset() + 1 for p in parts})


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fake reader reaches the workers through fork")
@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_rebuild_gives_the_legacy_store(tmp_path, monkeypatch, workers):
    log = odd()
    span = fake_reader(monkeypatch, log)
    got: list[int] = []
    res = parallel_replay.rebuild("unused:9092", TOPIC, span, tmp_path / "cases.sqlite", workers=workers,
                                  progress=got.append)
    assert dump(tmp_path / "cases.sqlite") == legacy(log, tmp_path)
    assert res.events == len(log) and sum(got) == len(log)
    assert sorted(os.listdir(tmp_path)) == ["cases.sqlite", "legacy.sqlite"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fake reader reaches the workers through fork")
def test_a_failing_worker_fails_the_rebuild_and_leaves_nothing(tmp_path, monkeypatch):
    span = fake_reader(monkeypatch, canonical(), fail_partition=1)
    (tmp_path / "cases.sqlite").write_text("the old store")
    with pytest.raises(LookupError, match="no partition 1"):
        parallel_replay.rebuild("unused:9092", TOPIC, span, tmp_path / "cases.sqlite", workers=3)
    assert os.listdir(tmp_path) == ["cases.sqlite"]
    assert (tmp_path / "cases.sqlite").read_text() == "the old store"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fake reader reaches the workers through fork")
def test_replay_folds_in_one_pass_when_a_case_spans_partitions(tmp_path, monkeypatch):
    from casectl import replay

    r = sealed("C0-0", 9)
    log = canonical() + [(2, list(r.headers), r.value)]
    span = fake_reader(monkeypatch, log)
    res = replay.rebuild("unused:9092", tmp_path / "cases.sqlite", topic=TOPIC, span_=span, workers=3)
    assert dump(tmp_path / "cases.sqlite") == legacy(log, tmp_path)
    assert res.events == len(log)
    assert sorted(os.listdir(tmp_path)) == ["cases.sqlite", "legacy.sqlite"]

