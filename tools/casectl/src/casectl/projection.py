"""The case projection: a disposable SQLite store of cases and events, rebuilt from the log.

`rebuild` always writes a FRESH store (a temporary file renamed over the target at the
end), so a half-built store is never seen and an old one is never patched.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter, le, methodcaller
from pathlib import Path
from typing import Any

from casestream.v1 import events_pb2

from casectl.audit.records import Record

SCHEMA = """
CREATE TABLE events (
    case_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, time TEXT NOT NULL,
    account_id TEXT NOT NULL, hash TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
    PRIMARY KEY (case_id, seq)
);
CREATE TABLE cases (
    case_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, partition INTEGER NOT NULL, events INTEGER NOT NULL,
    last_seq INTEGER NOT NULL, last_hash TEXT NOT NULL, first_time TEXT NOT NULL, last_time TEXT NOT NULL,
    status TEXT
);
CREATE TABLE offsets (topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition));
"""
STATUS = {"casestream.case.opened": "open", "casestream.case.reopened": "open", "casestream.case.closed": "closed"}
BATCH = 5000


def default_store() -> Path:
    return Path(os.environ.get("CASESTREAM_RUN_DIR", ".run")) / "casectl" / "cases.sqlite"


@dataclass
class RebuildResult:
    store: str
    events: int
    cases: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "events": self.events, "cases": self.cases, "seconds": round(self.seconds, 3),
                "events_per_second": round(self.events_per_second, 1)}


def rebuild(records: Iterable[Record], store: Path) -> RebuildResult:
    """Fold every record into a new store at `store`, replacing any old one atomically."""
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.with_name(f".{store.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    t0 = time.perf_counter()
    db = sqlite3.connect(tmp)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        cases: dict[str, list[Any]] = {}
        offsets: dict[tuple[str, int], int] = {}
        batch: list[tuple[Any, ...]] = []
        n = 0
        ev = events_pb2.CaseEvent()
        for r in records:
            ev.ParseFromString(r.value)
            case_id, seq, typ = ev.case_id, ev.sequence, ev.type
            t = ev.time.ToJsonString()
            h = r.header("cs_hash") or ""
            batch.append((case_id, seq, typ, t, ev.account_id, h, r.partition, r.offset))
            c = cases.get(case_id)
            if c is None:
                cases[case_id] = [case_id, ev.account_id, r.partition, 1, seq, h, t, t, STATUS.get(typ)]
            else:
                c[3] += 1
                c[4], c[5], c[7] = seq, h, t
                c[8] = STATUS.get(typ, c[8])
            offsets[(r.topic, r.partition)] = r.offset + 1
            n += 1
            if len(batch) >= BATCH:
                db.executemany("INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?,?)", batch)
                batch.clear()
        db.executemany("INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?,?)", batch)
        db.executemany("INSERT INTO cases VALUES (?,?,?,?,?,?,?,?,?)", [tuple(c) for c in cases.values()])
        db.executemany("INSERT INTO offsets VALUES (?,?,?)", [(t, p, o) for (t, p), o in offsets.items()])
        db.execute("CREATE INDEX cases_by_account ON cases(account_id)")
        db.commit()
    except BaseException:
        db.close()
        tmp.unlink(missing_ok=True)
        raise
    db.close()
    os.replace(tmp, store)
    return RebuildResult(str(store), n, len(cases), time.perf_counter() - t0)


# --------------------------------------------------------------------------- fast rebuild
#
# The same store from batches of confluent_kafka.Message. What the projection needs is in
# the headers intake writes with every record (ce_subject = case id, cs_seq, ce_type,
# ce_time = Timestamp.ToJsonString() of the body's time, cs_hash); only the account id
# needs the body. It is decoded once per case; later records of the case keep it when
# the body still carries the same field 7 (its exact tag+length+bytes), and are decoded
# otherwise. A record without those headers is decoded in full, like `rebuild`.
# Events are bulk-loaded into a table without its key, and the unique (case_id, seq)
# index is built once at the end; if a (case, seq) repeats, the index is built then and
# the rest is inserted with INSERT OR REPLACE, as `rebuild` does.
#
# A batch is folded column-wise when every record of it carries the same header names
# with the five above among them (what intake writes): the headers are transposed into
# columns, each column is decoded at once, and cases are updated with dict operations
# that run in C. Anything else (a missing or null header, a value that is not UTF-8 or
# not a number, mixed layouts; a seq that does not rise, a body without its case's
# account) folds that batch record by record, exactly as before, so all ways give the
# same rows. The cycle collector is paused while folding (the fold makes no cycles).
#
# The store can also be built from several processes: each folds whole partitions into a
# part file of its own (`fold_part`), and `merge_parts` joins the parts in partition
# order in C (ATTACH + INSERT ... SELECT), keeping the rowids a single pass would give.
# Cases never span partitions (the record key is the case id); when one does anyway,
# `merge_parts` raises `CaseSpansPartitions` and the caller folds in a single pass.

_EVENTS_NOKEY = SCHEMA.replace(",\n    PRIMARY KEY (case_id, seq)\n);", "\n);", 1)
_EVENTS_KEY = "CREATE UNIQUE INDEX events_case_seq ON events(case_id, seq)"
_CASES_BY_ACCOUNT = "CREATE INDEX cases_by_account ON cases(account_id)"
_PRAGMAS = "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;"
_INSERT = "INSERT INTO events VALUES (?,?,?,?,?,?,?,?)"
_REPLACE = "INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?,?)"
_EVENT_COLUMNS = "case_id, seq, type, time, account_id, hash, partition, offset"
FAST_TXN = 50_000
FOLD_BATCH = 1_000  # messages per fold step to ask the reader for: a batch's objects stay in cache
_NEEDED = ("ce_subject", "cs_seq", "ce_type", "ce_time", "cs_hash")

_headers = methodcaller("headers")
_value = methodcaller("value")
_offset = methodcaller("offset")
_name = itemgetter(0)
_hvalue = itemgetter(1)
_NEW = (float("-inf"), None, None, None, None)  # `_Fold.last` of a case not seen yet: below every seq
_account_id = itemgetter(3)
_marker = itemgetter(4)


def _account_marker(account_id: str) -> bytes:
    raw = account_id.encode()
    n, out = len(raw), bytearray(b"\x3a")  # field 7, wire type 2
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            break
    return bytes(out) + raw


def _texts(column: Sequence[bytes], n: int) -> list[str]:
    """`[v.decode() for v in column]` in one decode; ValueError when it would not be exactly that."""
    out = b"\x00".join(column).decode().split("\x00")
    if len(out) != n:  # a value held a NUL
        raise ValueError("NUL in a header value")
    return out


class _Fold:
    """The fast fold's state over one open store: events go in as batches arrive, cases and
    offsets at `finish`.

    A case's summary row is kept in a few dicts (first-seen facts, count, last record, last
    status) so that a batch can update it with dict operations that run in C.
    """

    def __init__(self, db: sqlite3.Connection, topic: str) -> None:
        self.db, self.topic = db, topic
        self.first: dict[str, tuple[str, int, str]] = {}  # case -> (account id, partition, first time), in order
        self.count: Counter[str] = Counter()
        # case -> (last seq, last hash, last time, account id, its field-7 bytes); the account
        # is the one kept for the case's bodies (None, None before a record with good headers)
        self.last: dict[str, tuple[int, str, str, str | None, bytes | None]] = {}
        self.status: dict[str, str] = {}  # cases with an event that sets it
        self.offsets: dict[int, int] = {}
        self.keyed = False
        self.insert = _INSERT
        self.n = self.pending = 0
        self.ev = events_pb2.CaseEvent()
        self._layouts: dict[tuple[str, ...], Any] = {}
        db.execute("BEGIN")

    @property
    def cases(self) -> int:
        return len(self.first)

    def _key(self, batch: list[tuple[Any, ...]]) -> None:
        """A (case, seq) may repeat: key the table now, and replace from here on."""
        self.db.executemany(self.insert, batch)
        self.db.execute(_EVENTS_KEY)
        self.keyed = True
        self.insert = _REPLACE

    def add(self, msgs: list[Any]) -> None:
        p = msgs[0].partition()
        try:
            cols = self._columns(msgs)
        except (TypeError, ValueError, KeyError):
            cols = None
        if cols is None:
            self._add_records(msgs, p)
        elif not self._add_batch(p, *cols):
            self._add_columns(p, *cols)
        self.offsets[p] = msgs[-1].offset() + 1
        self.n += len(msgs)
        self.pending += len(msgs)
        if self.pending >= FAST_TXN:
            self.db.execute("COMMIT")
            self.db.execute("BEGIN")
            self.pending = 0

    def _columns(self, msgs: list[Any]) -> tuple[list[Any], ...]:
        """The batch as columns, or an exception when a record needs the record-by-record fold.

        Every record must carry the header names of the first, in the same order (checked from
        the first needed position on: a name before it cannot change what dict(headers) gives).
        """
        n = len(msgs)
        hs = list(map(_headers, msgs))
        names0 = tuple(map(_name, hs[0]))
        layout = self._layouts.get(names0)
        if layout is None:
            last = {k: i for i, k in enumerate(names0)}  # dict(headers) keeps the last of a name
            pos = tuple(last[k] for k in _NEEDED)
            layout = self._layouts[names0] = (pos, [(j, names0[j]) for j in range(min(pos), len(names0))])
        pos, checks = layout
        if list(map(len, hs)).count(len(names0)) != n:
            raise ValueError("header counts differ within the batch")
        col = list(zip(*hs))  # col[j]: every record's j-th header
        for j, name in checks:
            if list(map(_name, col[j])).count(name) != n:
                raise ValueError("header names differ within the batch")
        case_ids = _texts(list(map(_hvalue, col[pos[0]])), n)
        seqs = list(map(int, map(_hvalue, col[pos[1]])))
        types = _texts(list(map(_hvalue, col[pos[2]])), n)
        times = _texts(list(map(_hvalue, col[pos[3]])), n)
        hashes = _texts(list(map(_hvalue, col[pos[4]])), n)
        values = list(map(_value, msgs))
        if None in values:
            values = [v or b"" for v in values]
        return case_ids, seqs, types, times, hashes, values, list(map(_offset, msgs))

    def _add_batch(self, p: int, case_ids: list[str], seqs: list[int], types: list[str], times: list[str],
                   hashes: list[str], values: list[bytes], offsets: list[int]) -> bool:
        """The whole batch in C-level steps when that gives what `_add_columns` would: every
        record keeps its case's account (or is the first with good headers), and each case's
        sequence only rises. False, with nothing changed, when not."""
        n = len(case_ids)
        prev = list(map(self.last.get, case_ids, repeat(_NEW)))  # each case as it was before the batch
        if any(map(le, seqs, map(_name, prev))):
            return False  # a seq at or below the case's last one
        first_i = dict(zip(reversed(case_ids), range(n - 1, -1, -1)))  # first index of each case
        if len(first_i) < n:  # a case more than once: its seqs must rise within the batch too
            pairs = list(zip(case_ids, seqs))
            if len(set(pairs)) < n or (sorted(range(n), key=pairs.__getitem__)
                                       != sorted(range(n), key=case_ids.__getitem__)):
                return False
        account_ids = list(map(_account_id, prev))
        markers = list(map(_marker, prev))
        if None in markers:  # the case's first record with good headers: decode its body
            ev, fresh = self.ev, {}
            for i in [i for i, m in enumerate(markers) if m is None]:
                acc = fresh.get(case_ids[i])
                if acc is None:
                    ev.ParseFromString(values[i])
                    acc = fresh[case_ids[i]] = (ev.account_id, _account_marker(ev.account_id))
                account_ids[i], markers[i] = acc
        if -1 in list(map(bytes.find, values, markers)):  # (find: faster than `in`, same answer)
            return False  # a body without its case's account marker: decode it record by record
        if _NEW in prev:  # new cases, in the order they first appear
            first = self.first
            for i in sorted(map(first_i.__getitem__, first_i.keys() - first.keys())):
                first[case_ids[i]] = (account_ids[i], p, times[i])
        self.count.update(case_ids)
        self.last.update(zip(case_ids, zip(seqs, hashes, times, account_ids, markers)))
        self.status.update(filter(_hvalue, zip(case_ids, map(STATUS.get, types))))
        self.db.executemany(self.insert, zip(case_ids, seqs, types, times, account_ids, hashes, repeat(p), offsets))
        return True

    def _add_columns(self, p: int, case_ids: list[str], seqs: list[int], types: list[str], times: list[str],
                     hashes: list[str], values: list[bytes], offsets: list[int]) -> None:
        """A batch with good headers, record by record."""
        last = self.last
        rows: list[tuple[Any, ...]] = []
        for case_id, seq, typ, t, hh, value, off in zip(case_ids, seqs, types, times, hashes, values, offsets):
            prev = last.get(case_id)
            acc = self._account(prev, value)
            self._case(case_id, seq, typ, t, acc[0], hh, p, rows, prev, acc)
            rows.append((case_id, seq, typ, t, acc[0], hh, p, off))
        self.db.executemany(self.insert, rows)

    def _account(self, prev: tuple[Any, ...] | None, value: bytes) -> tuple[str, bytes]:
        """(account id, its field-7 bytes) of a record: the case's last ones while the body still
        carries them, else decoded from the body."""
        if prev is None or prev[4] is None or prev[4] not in value:
            self.ev.ParseFromString(value)
            return self.ev.account_id, _account_marker(self.ev.account_id)
        return prev[3], prev[4]

    def _case(self, case_id: str, seq: int, typ: str, t: str, account: str, hh: str, p: int,
              rows: list[tuple[Any, ...]], prev: tuple[Any, ...] | None, acc: tuple[Any, Any]) -> None:
        """One record into its case's summary (`rows`: the batch's rows not inserted yet;
        `prev`: the case's last record; `acc`: the account kept for its bodies from now on)."""
        if prev is None:
            self.first[case_id] = (account, p, t)
        elif seq <= prev[0] and not self.keyed:
            self._key(rows)
            rows.clear()
        self.count[case_id] += 1
        self.last[case_id] = (seq, hh, t, acc[0], acc[1])
        st = STATUS.get(typ)
        if st is not None:
            self.status[case_id] = st

    def _add_records(self, msgs: list[Any], p: int) -> None:
        """Record by record from the messages: what the fold did for every record before."""
        last, ev = self.last, self.ev
        rows: list[tuple[Any, ...]] = []
        for m in msgs:
            value = m.value() or b""
            h = dict(m.headers() or ())
            try:
                case_id = h["ce_subject"].decode()
                seq = int(h["cs_seq"])
                typ = h["ce_type"].decode()
                t = h["ce_time"].decode()
                hh = h["cs_hash"].decode()
                prev = last.get(case_id)
                acc = self._account(prev, value)
                account = acc[0]
            except (KeyError, ValueError):
                ev.ParseFromString(value)
                case_id, seq, typ, account = ev.case_id, ev.sequence, ev.type, ev.account_id
                t = ev.time.ToJsonString()
                hh = (h.get("cs_hash") or b"").decode()
                prev = last.get(case_id)
                acc = (None, None) if prev is None else (prev[3], prev[4])  # the kept account stays
            self._case(case_id, seq, typ, t, account, hh, p, rows, prev, acc)
            rows.append((case_id, seq, typ, t, account, hh, p, m.offset()))
        self.db.executemany(self.insert, rows)

    def case_rows(self) -> list[tuple[Any, ...]]:
        """The cases table's rows, in the order the cases were first seen."""
        count, last, status = self.count, self.last, self.status
        return [(c, a, p, count[c], last[c][0], last[c][1], ft, last[c][2], status.get(c))
                for c, (a, p, ft) in self.first.items()]

    def finish(self, *, indexes: bool = True) -> None:
        """Write cases and offsets; with `indexes`, the events key and the account index too."""
        db = self.db
        if indexes and not self.keyed:
            db.execute(_EVENTS_KEY)
        db.executemany("INSERT INTO cases VALUES (?,?,?,?,?,?,?,?,?)", self.case_rows())
        db.executemany("INSERT INTO offsets VALUES (?,?,?)", [(self.topic, p, o) for p, o in self.offsets.items()])
        if indexes:
            db.execute(_CASES_BY_ACCOUNT)
        db.execute("COMMIT")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The fold makes no reference cycles, but millions of short-lived tuples (headers, rows)
    would set off the cycle collector again and again, each time walking every live object:
    a third of the fold's time. Paused while folding, back as it was after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _open_tmp(path: Path) -> sqlite3.Connection:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(_PRAGMAS + _EVENTS_NOKEY)
    return db


def _tmp_for(store: Path) -> Path:
    return store.with_name(f".{store.name}.{os.getpid()}.tmp")


def _fold_all(db: sqlite3.Connection, batches: Iterable[list[Any]], topic: str, indexes: bool) -> "_Fold":
    """Every batch through one `_Fold` into `db`, with the cycle collector paused."""
    with _gc_paused():
        fold = _Fold(db, topic)
        for msgs in batches:
            fold.add(msgs)
        fold.finish(indexes=indexes)
    return fold


def rebuild_batches(batches: Iterable[list[Any]], store: Path, topic: str) -> RebuildResult:
    """`rebuild` over batches of confluent_kafka.Message (see `kafka_io.scan_batches`)."""
    assert _EVENTS_NOKEY != SCHEMA
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_for(store)
    t0 = time.perf_counter()
    db = _open_tmp(tmp)
    try:
        fold = _fold_all(db, batches, topic, indexes=True)
    except BaseException:
        db.close()
        tmp.unlink(missing_ok=True)
        raise
    db.close()
    os.replace(tmp, store)
    return RebuildResult(str(store), fold.n, fold.cases, time.perf_counter() - t0)


# --------------------------------------------------------------------------- parts and merge


@dataclass
class PartInfo:
    """One partition folded into a part file by `fold_part`."""

    partition: int
    path: str
    events: int  # records folded
    rows: int  # rows in its events table (fewer than `events` when a (case, seq) repeated)
    max_rowid: int
    cases: int


class CaseSpansPartitions(Exception):
    """A case has records in more than one partition: the parts cannot simply be joined."""


def fold_part(batches: Iterable[list[Any]], path: Path, topic: str, partition: int) -> PartInfo:
    """Fold the batches of ONE partition into a part file for `merge_parts` (no indexes unless
    a (case, seq) repeated)."""
    db = _open_tmp(path)
    try:
        fold = _fold_all(db, batches, topic, indexes=False)
        rows, max_rowid = db.execute("SELECT count(*), coalesce(max(rowid), 0) FROM events").fetchone()
    except BaseException:
        db.close()
        path.unlink(missing_ok=True)
        raise
    db.close()
    return PartInfo(partition, str(path), fold.n, rows, max_rowid, fold.cases)


class Merge:
    """Joins part files into a fresh store: `add` them in partition order (each as soon as it
    is ready), then `finish`; `close` drops a store not finished. The first part's file becomes
    the store (its rows are not copied); the others are copied in (ATTACH + INSERT ... SELECT,
    rowids numbered on as one pass over the partitions in order numbers them)."""

    def __init__(self, store: Path, topic: str) -> None:
        self.store, self.topic = store, topic
        self.tmp = _tmp_for(store)
        self.db: sqlite3.Connection | None = None
        self.partition = -1
        self.base = self.events = self.cases = 0
        self.keyed = False

    def add(self, part: PartInfo) -> None:
        if part.partition <= self.partition:
            raise ValueError(f"part {part.partition} after part {self.partition}: add them in partition order")
        self.partition = part.partition
        if self.db is None:
            self.store.parent.mkdir(parents=True, exist_ok=True)
            self.tmp.unlink(missing_ok=True)
            os.replace(part.path, self.tmp)
            self.db = sqlite3.connect(self.tmp, isolation_level=None)
            self.db.executescript(_PRAGMAS)
            keyed = self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'events_case_seq'").fetchone()
            self.keyed = keyed is not None
        else:
            self._copy(self.db, part)
        self.base += part.max_rowid
        self.events += part.events
        self.cases += part.cases

    def _copy(self, db: sqlite3.Connection, part: PartInfo) -> None:
        db.execute("ATTACH DATABASE ? AS part", (part.path,))
        try:
            db.execute("BEGIN")
            try:
                db.execute("INSERT INTO cases SELECT * FROM part.cases")
            except sqlite3.IntegrityError as e:
                raise CaseSpansPartitions(f"a case of partition {part.partition} is in an earlier partition too") from e
            if part.rows == part.max_rowid:  # rowids 1..rows: a plain copy numbers them on from `base`
                db.execute("INSERT INTO events SELECT * FROM part.events")
            else:  # gaps left by INSERT OR REPLACE: keep them
                db.execute(f"INSERT INTO events (rowid, {_EVENT_COLUMNS}) SELECT rowid + ?, {_EVENT_COLUMNS} "
                           "FROM part.events ORDER BY rowid", (self.base,))
            db.execute("INSERT INTO offsets SELECT * FROM part.offsets")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.execute("DETACH DATABASE part")

    def finish(self, t0: float) -> RebuildResult:
        db = self.db
        if db is None:  # no parts: an empty store
            self.store.parent.mkdir(parents=True, exist_ok=True)
            db = self.db = _open_tmp(self.tmp)
        db.execute("BEGIN")
        if not self.keyed:
            db.execute(_EVENTS_KEY)
        db.execute(_CASES_BY_ACCOUNT)
        db.execute("COMMIT")
        db.close()
        self.db = None
        os.replace(self.tmp, self.store)
        return RebuildResult(str(self.store), self.events, self.cases, time.perf_counter() - t0)

    def close(self) -> None:
        """Drop the store being made, if any (after `finish`, nothing to do)."""
        if self.db is not None:
            self.db.close()
            self.db = None
            self.tmp.unlink(missing_ok=True)


def merge_parts(parts: Sequence[PartInfo], store: Path, topic: str, t0: float | None = None) -> RebuildResult:
    """Join part files (one per partition, any order) into a fresh store at `store`: the rows,
    rowids included, that one pass over the partitions in order gives. The part files are
    used up (the first becomes the store)."""
    t0 = time.perf_counter() if t0 is None else t0
    merge = Merge(store, topic)
    try:
        for part in sorted(parts, key=lambda x: x.partition):
            merge.add(part)
        return merge.finish(t0)
    finally:
        merge.close()
