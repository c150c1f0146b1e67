"""A local SQLite checkpoint of the sequencer state, per partition.

It is an optimisation, not the truth: after loading it, the sequencer folds the tail of
its case.events.v1 partition from `events_offset`, so a stale or missing checkpoint
only costs replay time.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from casestream.chain import ZERO_HASH

from intake.domain.sequencer import CaseHead, PartitionState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (partition INTEGER, case_id TEXT, account TEXT, seq INTEGER,
  last_hash BLOB, open INTEGER, PRIMARY KEY (partition, case_id));
CREATE TABLE IF NOT EXISTS seen (partition INTEGER, source TEXT, id TEXT, case_id TEXT, seq INTEGER,
  PRIMARY KEY (partition, source, id));
CREATE TABLE IF NOT EXISTS meta (partition INTEGER PRIMARY KEY, events_offset INTEGER);
"""


class CheckpointStore:
    """One SQLite file per partition beside `path` (`<stem>-p<N><suffix>`): a partition has one
    owner at a time, so the sequencer workers never wait on each other's write lock (sharing
    one file, SQLite's busy handler put ~100 ms stalls into their batches)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._dbs: dict[int, sqlite3.Connection] = {}

    def _db_for(self, partition: int) -> sqlite3.Connection:
        db = self._dbs.get(partition)
        if db is None:
            p = self._path.with_name(f"{self._path.stem}-p{partition}{self._path.suffix}")
            db = sqlite3.connect(str(p), check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            self._dbs[partition] = db
        return db

    def load(self, partition: int) -> PartitionState:
        st = PartitionState(partition)
        db = self._db_for(partition)
        row = db.execute("SELECT events_offset FROM meta WHERE partition=?", (partition,)).fetchone()
        st.events_offset = row[0] if row else 0
        for case_id, account, seq, last_hash, open_ in db.execute(
            "SELECT case_id, account, seq, last_hash, open FROM cases WHERE partition=?", (partition,)
        ):
            st.cases[case_id] = CaseHead(case_id, account, seq, bytes(last_hash or ZERO_HASH), bool(open_))
            if open_:
                st.open_by_account[account] = case_id
        for source, id_, case_id, seq in db.execute(
            "SELECT source, id, case_id, seq FROM seen WHERE partition=?", (partition,)
        ):
            st.seen[(source, id_)] = (case_id, seq)
        return st

    def save(self, *states: PartitionState) -> None:
        """Write what changed since the last save, and the events offset, one transaction per partition."""
        for st in states:
            cases = [(st.partition, c.case_id, c.account, c.sequence, c.last_hash, int(c.open))
                     for c in (st.cases[i] for i in st.dirty_cases)]
            seen = [(st.partition, *s) for s in st.new_seen]
            db = self._db_for(st.partition)
            with db:
                db.execute("BEGIN")
                db.executemany("INSERT OR REPLACE INTO cases VALUES (?,?,?,?,?,?)", cases)
                db.executemany("INSERT OR IGNORE INTO seen VALUES (?,?,?,?,?)", seen)
                db.execute("INSERT OR REPLACE INTO meta VALUES (?,?)", (st.partition, st.events_offset))
            st.dirty_cases.clear()
            st.new_seen.clear()

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()
        self._dbs.clear()
