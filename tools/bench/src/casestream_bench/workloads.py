"""What the bench sends: ~1 KiB structured-mode inbound CloudEvents, and canonical
case.events.v1 records with valid hash chains (built with envelope.build_event + seal)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Iterator

import orjson

from casestream import chain, envelope

RECORD_BYTES = 1024
SOURCE = "bench"
SENT_EXT = "benchsentns"  # CloudEvents extension carrying the send time (ns since the epoch)
_FILLER = ("The customer reports that the line has no dial tone since the storm; agent checked the "
           "exchange, logged a technician visit and promised a call back before the end of the day. ")


def account(i: int) -> str:
    return f"ACC-{i:07d}"


def inbound_json(run: str, i: int, acct: str, sent_ns: int | None = None, size: int = RECORD_BYTES) -> bytes:
    """One structured-mode CloudEvent of about `size` bytes (a contact.logged fact)."""
    doc = {
        "specversion": "1.0", "id": f"{run}-{i}", "source": SOURCE, "type": "casestream.contact.logged",
        "subject": acct, "time": "2026-11-02T09:00:00Z", "datacontenttype": "application/json",
        "data": {"channel": "phone", "direction": "inbound", "agent": f"a-{i % 97}", "summary": ""},
    }
    if sent_ns is not None:
        doc[SENT_EXT] = str(sent_ns)
    base = len(orjson.dumps(doc))
    pad = max(0, size - base)
    doc["data"]["summary"] = (_FILLER * (pad // len(_FILLER) + 1))[:pad]
    return orjson.dumps(doc)


def canonical_records(n: int, partitions: int, events_per_case: int = 50, payload_bytes: int = 400,
                      ) -> Iterator[tuple[int, envelope.Record]]:
    """(partition, record) for `n` canonical events with valid per-case chains.

    Cases are interleaved (round-robin over `events_per_case`-long chains), each case on one
    partition. Each record is a real CaseEvent from envelope.build_event, sealed with
    envelope.seal; the message is built once and its identity fields are set per record.
    """
    now = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    summary = (_FILLER * (payload_bytes // len(_FILLER) + 1))[:payload_bytes]
    contact = envelope.build_event(
        case_id="C-0", sequence=1, prev_hash=chain.ZERO_HASH, event_id="x", source=SOURCE,
        type="casestream.contact.logged", account_id="ACC-0", time=now, sequenced_at=now,
        data={"channel": "phone", "direction": "inbound", "agent": "a-17", "summary": summary},
    )
    opened = envelope.build_event(
        case_id="C-0", sequence=1, prev_hash=chain.ZERO_HASH, event_id="x", source="casestream/intake",
        type="casestream.case.opened", account_id="ACC-0", time=now, sequenced_at=now,
        data={"account": "ACC-0", "opened_by": "bench/x"},
    )
    cases = max(1, n // events_per_case)
    heads: list[bytes] = [chain.ZERO_HASH] * cases
    seqs = [0] * cases
    parts = [int.from_bytes(hashlib.blake2s(f"C-B{c:09d}".encode(), digest_size=4).digest(), "big") % partitions
             for c in range(cases)]
    for i in range(n):
        c = i % cases
        seq = seqs[c] + 1
        ev = opened if seq == 1 else contact
        cid = f"C-B{c:09d}"
        ev.case_id = cid
        ev.account_id = f"ACC-{c:07d}"
        ev.sequence = seq
        ev.prev_hash = heads[c]
        ev.event_id = f"open:{cid}" if seq == 1 else f"e-{i}"
        ev.inbound_offset = i
        rec = envelope.seal(ev)
        heads[c] = rec.hash
        seqs[c] = seq
        yield parts[c], rec
