"""The dedupe store: has this message id been delivered? In memory or in SQLite.

A restart with the SQLite store sends nothing twice: a message id recorded as `sent`
is never sent again. Failed messages may be retried when their trigger is redelivered.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Protocol

from notify.domain.delivery import DeliveryRecord


class DeliveryLog(Protocol):
    def was_sent(self, message_id: str) -> bool: ...

    def record(self, record: DeliveryRecord) -> None: ...

    def status(self, message_id: str) -> str | None:
        """The recorded status ("sending", "sent", "failed", "deferred"), or None."""
        ...

    def mark_sent(self, message_id: str, case_id: str) -> None:
        """Remember a send learnt from the stream (our own notification_sent decision)."""
        ...

    def for_case(self, case_id: str) -> list[DeliveryRecord]: ...


class InMemoryDeliveryLog:
    def __init__(self) -> None:
        self._records: dict[str, DeliveryRecord] = {}
        self._sent: set[str] = set()

    def was_sent(self, message_id: str) -> bool:
        return message_id in self._sent

    def record(self, record: DeliveryRecord) -> None:
        if record.message_id in self._sent:
            return
        self._records[record.message_id] = record
        if record.status == "sent":
            self._sent.add(record.message_id)

    def status(self, message_id: str) -> str | None:
        if message_id in self._sent:
            return "sent"
        rec = self._records.get(message_id)
        return rec.status if rec else None

    def mark_sent(self, message_id: str, case_id: str) -> None:
        self._sent.add(message_id)

    def for_case(self, case_id: str) -> list[DeliveryRecord]:
        return sorted((r for r in self._records.values() if r.case_id == case_id), key=lambda r: (r.at, r.message_id))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    message_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    template TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient_role TEXT NOT NULL,
    locale TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    trigger_ref TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_by_case ON deliveries (case_id);
"""

_COLUMNS = ("message_id", "case_id", "rule", "template", "channel", "recipient_role", "locale",
            "status", "attempts", "reason", "at", "trigger_ref")


class SqliteDeliveryLog:
    """Durable dedupe store in one SQLite file; every write is committed before returning."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def was_sent(self, message_id: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM deliveries WHERE message_id = ? AND status = 'sent'",
                                   (message_id,)).fetchone()
        return row is not None

    def status(self, message_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT status FROM deliveries WHERE message_id = ?", (message_id,)).fetchone()
        return row[0] if row else None

    def record(self, record: DeliveryRecord) -> None:
        values = [getattr(record, c) for c in _COLUMNS]
        values[_COLUMNS.index("at")] = record.at.isoformat()
        with self._lock:
            # A sent row is final; anything else may be overwritten by a later attempt.
            self._db.execute(
                f"INSERT INTO deliveries ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
                "ON CONFLICT(message_id) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
                + " WHERE deliveries.status != 'sent'",
                values,
            )

    def mark_sent(self, message_id: str, case_id: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO deliveries (message_id, case_id, rule, template, channel, recipient_role, locale, "
                "status, attempts, reason, at, trigger_ref) VALUES (?, ?, '', '', '', '', '', 'sent', 0, '', ?, '') "
                "ON CONFLICT(message_id) DO UPDATE SET status = 'sent'",
                (message_id, case_id, datetime.min.isoformat()),
            )

    def for_case(self, case_id: str) -> list[DeliveryRecord]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM deliveries WHERE case_id = ? AND rule != '' ORDER BY at, message_id",
                (case_id,),
            ).fetchall()
        out = []
        for row in rows:
            fields = dict(zip(_COLUMNS, row))
            fields["at"] = datetime.fromisoformat(fields["at"])
            out.append(DeliveryRecord(**fields))
        return out
