"""The canonical record of case.events.v1: build it, and read it back.

A record is key = case id, value = serialized `casestream.v1.CaseEvent`, headers =
CloudEvents binary mode plus cs_seq, cs_prev_hash and cs_hash. The value bytes are
what the chain hashes; readers never re-serialize them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from time import gmtime as _gmtime, strftime as _strftime

import orjson
from google.protobuf.timestamp_pb2 import Timestamp

from casestream import chain
from casestream.facts import Fact
from casestream.v1 import events_pb2

# Event type -> the CaseEvent oneof field that carries it. Types not listed travel
# as JSON in `json`.
TYPED_PAYLOADS: dict[str, str] = {
    "casestream.case.opened": "case_opened",
    "casestream.case.reopened": "case_reopened",
    "casestream.case.closed": "case_closed",
    "casestream.contact.logged": "contact_logged",
    "casestream.note.added": "note_added",
    "casestream.account.holder_changed": "account_holder_changed",
    "casestream.promise.made": "promise_made",
    "casestream.promise.fulfilled": "promise_fulfilled",
    "casestream.handoff.requested": "handoff_requested",
    "casestream.complaint.regulatory_filed": "regulatory_complaint_filed",
    "casestream.billing.charge_posted": "charge_posted",
    "casestream.billing.payment_received": "payment_received",
    "casestream.billing.payment_evidence_submitted": "payment_evidence_submitted",
    "casestream.billing.dispute_opened": "dispute_opened",
}

_TS = "google.protobuf.Timestamp"


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_MIN_SECONDS, _MAX_SECONDS = -62135596800, 253402300799  # 0001-01-01 .. 9999-12-31, as protobuf checks


def _set_ts(t: Timestamp, value: datetime | str) -> None:
    """t = value, the same result as Timestamp.FromDatetime(value.astimezone(utc)) without its
    utctimetuple/timegm round trip (the sequencer's hottest protobuf call)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    d = value - _EPOCH
    t.seconds = d.days * 86400 + d.seconds
    t.nanos = d.microseconds * 1000


def _ts(value: datetime | str) -> Timestamp:
    t = Timestamp()
    _set_ts(t, value)
    return t


def iso(t: Timestamp) -> str:
    """RFC 3339 in UTC with a Z, as producers send it: byte for byte Timestamp.ToJsonString()."""
    seconds, nanos = t.seconds, t.nanos
    if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos < 1_000_000_000):
        return t.ToJsonString()  # raises protobuf's own error
    result = _strftime("%Y-%m-%dT%H:%M:%S", _gmtime(seconds)) if seconds >= 0 else \
        (_EPOCH_NAIVE + timedelta(seconds=seconds)).isoformat()
    if nanos == 0:
        return result + "Z"
    if nanos % 1_000_000 == 0:
        return result + ".%03dZ" % (nanos // 1_000_000)
    if nanos % 1_000 == 0:
        return result + ".%06dZ" % (nanos // 1_000)
    return result + ".%09dZ" % nanos


_FIELDS: dict[Any, tuple[tuple[str, bool], ...]] = {}


def _fields(msg: Any) -> tuple[tuple[str, bool], ...]:
    """(name, is Timestamp) of a payload message's fields but extra_json, cached per message class
    (hashing the class is cheap; hashing its descriptor is not)."""
    f = _FIELDS.get(type(msg))
    if f is None:
        f = _FIELDS[type(msg)] = tuple(
            (fd.name, fd.message_type is not None and fd.message_type.full_name == _TS)
            for fd in msg.DESCRIPTOR.fields if fd.name != "extra_json")
    return f


def _fill_payload(msg: Any, data: Mapping[str, Any]) -> None:
    extra = dict(data)
    for name, is_ts in _fields(msg):
        if name not in extra:
            continue
        value = extra.pop(name)
        if is_ts:
            _set_ts(getattr(msg, name), value)
        else:
            setattr(msg, name, value)
    if extra:
        msg.extra_json = orjson.dumps(extra, option=orjson.OPT_SORT_KEYS).decode()


def _payload_dict(msg: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fd in msg.DESCRIPTOR.fields:
        if fd.name == "extra_json":
            continue
        value = getattr(msg, fd.name)
        if fd.message_type is not None and fd.message_type.full_name == _TS:
            out[fd.name] = iso(value) if msg.HasField(fd.name) else None
        else:
            out[fd.name] = value
    if msg.extra_json:
        out.update(orjson.loads(msg.extra_json))
    return out


def build_event(
    *, case_id: str, sequence: int, prev_hash: bytes, event_id: str, source: str, type: str,
    account_id: str, time: datetime, sequenced_at: datetime, data: Mapping[str, Any],
    extensions: Mapping[str, str] | None = None, redactions: Iterable[tuple[str, str, str]] = (),
    inbound_partition: int = -1, inbound_offset: int = -1,
) -> events_pb2.CaseEvent:
    ev = events_pb2.CaseEvent(
        case_id=case_id, sequence=sequence, prev_hash=prev_hash, event_id=event_id, source=source,
        type=type, account_id=account_id, inbound_partition=inbound_partition, inbound_offset=inbound_offset,
    )
    _set_ts(ev.time, time)
    _set_ts(ev.sequenced_at, sequenced_at)
    for k, v in (extensions or {}).items():
        ev.extensions[k] = v
    for path, kind, token in redactions:
        ev.redactions.add(field=path, kind=kind, token=token)
    oneof = TYPED_PAYLOADS.get(type)
    if oneof is None:
        ev.json.data_json = orjson.dumps(dict(data), option=orjson.OPT_SORT_KEYS).decode()
    else:
        _fill_payload(getattr(ev, oneof), data)
    return ev


def event_data(ev: events_pb2.CaseEvent) -> dict[str, Any]:
    """The event's data as a JSON-like dict (times as RFC 3339 strings)."""
    which = ev.WhichOneof("payload")
    if which is None:
        return {}
    if which == "json":
        return orjson.loads(ev.json.data_json) if ev.json.data_json else {}
    return _payload_dict(getattr(ev, which))


@dataclass(frozen=True, slots=True)
class Record:
    """One canonical record, ready to produce or as read back."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    hash: bytes

    @property
    def hash_hex(self) -> str:
        return self.hash.hex()


def seal(ev: events_pb2.CaseEvent) -> Record:
    """Serialize the body once, chain it, and build the record's headers."""
    value = ev.SerializeToString(deterministic=True)
    digest = chain.link(ev.prev_hash, value)
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", ev.event_id.encode()),
        ("ce_source", ev.source.encode()),
        ("ce_type", ev.type.encode()),
        ("ce_subject", ev.case_id.encode()),
        ("ce_time", iso(ev.time).encode()),
        ("content-type", b"application/protobuf"),
        ("cs_seq", str(ev.sequence).encode()),
        ("cs_prev_hash", ev.prev_hash.hex().encode()),
        ("cs_hash", digest.hex().encode()),
    ]
    return Record(key=ev.case_id.encode(), value=value, headers=headers, hash=digest)


def decode(value: bytes) -> events_pb2.CaseEvent:
    ev = events_pb2.CaseEvent()
    ev.ParseFromString(value)
    return ev


def to_fact(ev: events_pb2.CaseEvent) -> Fact:
    """The domain's view of a canonical event."""
    return Fact(
        case_id=ev.case_id, sequence=ev.sequence, type=ev.type, source=ev.source, id=ev.event_id,
        time=ev.time.ToDatetime(tzinfo=timezone.utc), subject=ev.account_id, data=event_data(ev),
    )


def fact_from_value(value: bytes) -> Fact:
    return to_fact(decode(value))


def decoded_view(value: bytes) -> dict[str, Any]:
    """A JSON view of a stored value, for exports and timelines."""
    ev = decode(value)
    return {
        "case_id": ev.case_id, "sequence": ev.sequence, "prev_hash": ev.prev_hash.hex(),
        "id": ev.event_id, "source": ev.source, "type": ev.type, "account_id": ev.account_id,
        "time": iso(ev.time), "sequenced_at": iso(ev.sequenced_at),
        "extensions": dict(ev.extensions), "data": event_data(ev),
        "redactions": [{"field": r.field, "kind": r.kind, "token": r.token} for r in ev.redactions],
        "inbound": {"partition": ev.inbound_partition, "offset": ev.inbound_offset},
    }
