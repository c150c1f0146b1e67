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
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def load(self, partition: int) -> PartitionState:
        st = PartitionState(partition)
        row = self._db.execute("SELECT events_offset FROM meta WHERE partition=?", (partition,)).fetchone()
        st.events_offset = row[0] if row else 0
        for case_id, account, seq, last_hash, open_ in self._db.execute(
            "SELECT case_id, account, seq, last_hash, open FROM cases WHERE partition=?", (partition,)
        ):
            st.cases[case_id] = CaseHead(case_id, account, seq, bytes(last_hash or ZERO_HASH), bool(open_))
            if open_:
                st.open_by_account[account] = case_id
        for source, id_, case_id, seq in self._db.execute(
            "SELECT source, id, case_id, seq FROM seen WHERE partition=?", (partition,)
        ):
            st.seen[(source, id_)] = (case_id, seq)
        return st

    def save(self, *states: PartitionState) -> None:
        """Write what changed since the last save, and the events offsets, in one transaction."""
        cases = [(st.partition, c.case_id, c.account, c.sequence, c.last_hash, int(c.open))
                 for st in states for c in (st.cases[i] for i in st.dirty_cases)]
        seen = [(st.partition, *s) for st in states for s in st.new_seen]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO cases VALUES (?,?,?,?,?,?)", cases)
            self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?,?,?,?,?)", seen)
            self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)",
                                 [(st.partition, st.events_offset) for st in states])
        for st in states:
            st.dirty_cases.clear()
            st.new_seen.clear()

    def close(self) -> None:
        self._db.close()
