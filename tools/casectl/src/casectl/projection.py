"""The case projection: a disposable SQLite store of cases and events, rebuilt from the log.

`rebuild` always writes a FRESH store (a temporary file renamed over the target at the
end), so a half-built store is never seen and an old one is never patched.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
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

_EVENTS_NOKEY = SCHEMA.replace(",\n    PRIMARY KEY (case_id, seq)\n);", "\n);", 1)
_EVENTS_KEY = "CREATE UNIQUE INDEX events_case_seq ON events(case_id, seq)"
FAST_TXN = 50_000


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


def rebuild_batches(batches: Iterable[list[Any]], store: Path, topic: str) -> RebuildResult:
    """`rebuild` over batches of confluent_kafka.Message (see `kafka_io.scan_batches`)."""
    assert _EVENTS_NOKEY != SCHEMA
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.with_name(f".{store.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    t0 = time.perf_counter()
    db = sqlite3.connect(tmp, isolation_level=None)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;"
                         + _EVENTS_NOKEY)
        cases: dict[str, list[Any]] = {}
        accounts: dict[str, tuple[str, bytes]] = {}  # case -> (account id, its field-7 bytes)
        offsets: dict[int, int] = {}
        keyed = False
        insert = "INSERT INTO events VALUES (?,?,?,?,?,?,?,?)"
        batch: list[tuple[Any, ...]] = []
        n = pending = 0
        ev = events_pb2.CaseEvent()
        status = STATUS
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
                    cases[case_id] = [case_id, account, p, 1, seq, hh, t, t, status.get(typ)]
                else:
                    if seq <= c[4] and not keyed:  # a (case, seq) may repeat: key the table now
                        db.executemany(insert, batch)
                        batch.clear()
                        db.execute(_EVENTS_KEY)
                        keyed = True
                        insert = "INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?,?)"
                    c[3] += 1
                    c[4], c[5], c[7] = seq, hh, t
                    c[8] = status.get(typ, c[8])
                batch.append((case_id, seq, typ, t, account, hh, p, m.offset()))
            offsets[p] = msgs[-1].offset() + 1
            n += len(msgs)
            pending += len(msgs)
            db.executemany(insert, batch)
            batch.clear()
            if pending >= FAST_TXN:
                db.execute("COMMIT")
                db.execute("BEGIN")
                pending = 0
        if not keyed:
            db.execute(_EVENTS_KEY)
        db.executemany("INSERT INTO cases VALUES (?,?,?,?,?,?,?,?,?)", [tuple(c) for c in cases.values()])
        db.executemany("INSERT INTO offsets VALUES (?,?,?)", [(topic, p, o) for p, o in offsets.items()])
        db.execute("CREATE INDEX cases_by_account ON cases(account_id)")
        db.execute("COMMIT")
    except BaseException:
        db.close()
        tmp.unlink(missing_ok=True)
        raise
    db.close()
    os.replace(tmp, store)
    return RebuildResult(str(store), n, len(cases), time.perf_counter() - t0)
