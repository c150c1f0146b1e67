"""The records the audit code works on, independent of any Kafka client.

A `Record` is one record of `case.events.v1` as stored: the value is the exact
serialized protobuf, never re-serialized. `leaf_bytes` is the canonical line of
`events.jsonl` and the Merkle leaf data of an audit bundle; it depends on the
stored record only, so an auditor that reads the topic computes the same leaves
(and roots) as an export.
"""

from __future__ import annotations

import base64
import json
import re
from binascii import a2b_base64 as _unb64
from binascii import b2a_base64 as _b64

from orjson import loads as _loads
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

REQUIRED_HEADERS = (
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_subject",
    "ce_time",
    "cs_seq",
    "cs_prev_hash",
    "cs_hash",
)
LEAF_FIELDS = ("headers", "key_b64", "offset", "partition", "timestamp", "topic", "value_b64")


class RecordFormatError(ValueError):
    """A record (or an events.jsonl line) that does not follow the record format."""


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    timestamp: int | None  # milliseconds since the epoch, as Kafka gives it
    key: bytes | None
    value: bytes
    headers: Sequence[tuple[str, bytes]] = field(default_factory=tuple)

    def header(self, name: str) -> str | None:
        """The UTF-8 text of header `name` (None when absent)."""
        for k, v in self.headers:
            if k == name:
                return None if v is None else bytes(v).decode("utf-8")
        return None

    @property
    def where(self) -> str:
        return f"{self.topic}/{self.partition}:{self.offset}"

    @classmethod
    def from_kafka_message(cls, msg: Any) -> Record:
        """From a confluent_kafka.Message (or anything with the same accessors)."""
        ts = msg.timestamp()
        return cls(
            topic=msg.topic(),
            partition=msg.partition(),
            offset=msg.offset(),
            timestamp=ts[1] if isinstance(ts, tuple) else ts,
            key=msg.key(),
            value=msg.value() or b"",
            headers=tuple((k, v if v is not None else b"") for k, v in (msg.headers() or [])),
        )


def sort_key(r: Record) -> tuple[str, int, int]:
    return (r.topic, r.partition, r.offset)


def headers_as_text(r: Record) -> dict[str, str]:
    """Headers as {name: UTF-8 text}; a repeated name or non-UTF-8 bytes is an error."""
    out: dict[str, str] = {}
    for name, raw in r.headers:
        if name in out:
            raise RecordFormatError(f"{r.where}: header {name!r} appears more than once")
        try:
            out[name] = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as e:
            raise RecordFormatError(f"{r.where}: header {name!r} is not UTF-8 ({e})") from None
    return out


def leaf_object(r: Record) -> dict[str, Any]:
    return {
        "headers": headers_as_text(r),
        "key_b64": None if r.key is None else base64.b64encode(r.key).decode("ascii"),
        "offset": r.offset,
        "partition": r.partition,
        "timestamp": r.timestamp,
        "topic": r.topic,
        "value_b64": base64.b64encode(r.value).decode("ascii"),
    }


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


# Strings that json.dumps(ensure_ascii=True) writes as '"' + s + '"': printable ASCII without '"' or '\\'.
_PLAIN = re.compile(r'[ !#-\[\]-~]*')


def _fast_leaf(topic: str, partition: int, offset: int, timestamp: int | None, key: bytes | None, value: bytes,
               headers: Mapping[str, str]) -> bytes | None:
    """canonical_json(leaf_object(...)) without json.dumps, when every string is plain; else None."""
    names = sorted(headers)
    if len(names) != len(headers):
        return None
    if not _PLAIN.fullmatch("".join(names) + "".join(headers.values()) + topic):
        return None
    hs = ",".join(f'"{k}":"{headers[k]}"' for k in names)
    kb = "null" if key is None else f'"{_b64(key, newline=False).decode()}"'
    ts = "null" if timestamp is None else str(timestamp)
    return (f'{{"headers":{{{hs}}},"key_b64":{kb},"offset":{offset},"partition":{partition},"timestamp":{ts},'
            f'"topic":"{topic}","value_b64":"{_b64(value, newline=False).decode()}"}}').encode()


def leaf_bytes(r: Record) -> bytes:
    """The canonical events.jsonl line (no newline): the Merkle leaf data."""
    if type(r.offset) is int and type(r.partition) is int and (r.timestamp is None or type(r.timestamp) is int) \
            and type(r.topic) is str:
        try:
            hdrs: dict[str, str] = {}
            for name, raw in r.headers:
                if name in hdrs or type(name) is not str:
                    raise ValueError
                hdrs[name] = bytes(raw).decode("ascii")
        except (ValueError, TypeError):
            pass
        else:
            fast = _fast_leaf(r.topic, r.partition, r.offset, r.timestamp, r.key, r.value, hdrs)
            if fast is not None:
                return fast
    return canonical_json(leaf_object(r))


def record_from_line(line: bytes, where: str = "line") -> Record:
    """Parse one events.jsonl line back into a Record; the line must be canonical."""
    try:
        rec = _fast_record_from_line(line)
    except Exception:
        rec = None
    if rec is not None:
        return rec
    return _record_from_line(line, where)


def _fast_record_from_line(line: bytes) -> Record | None:
    """The common case (a canonical line of plain strings) with orjson; None when unsure."""
    obj = _loads(line)
    if type(obj) is not dict or len(obj) != 7:
        return None
    topic, partition, offset, ts = obj["topic"], obj["partition"], obj["offset"], obj["timestamp"]
    headers, kb, vb = obj["headers"], obj["key_b64"], obj["value_b64"]
    if type(topic) is not str or type(partition) is not int or type(offset) is not int or partition < 0 \
            or offset < 0 or (ts is not None and type(ts) is not int) or type(headers) is not dict \
            or type(vb) is not str or (kb is not None and type(kb) is not str):
        return None
    for v in headers.values():
        if type(v) is not str:
            return None
    key = None if kb is None else _unb64(kb, strict_mode=True)
    value = _unb64(vb, strict_mode=True)
    if _fast_leaf(topic, partition, offset, ts, key, value, headers) != line:
        return None
    return Record(topic=topic, partition=partition, offset=offset, timestamp=ts, key=key, value=value,
                  headers=tuple((k, v.encode()) for k, v in headers.items()))


def _record_from_line(line: bytes, where: str = "line") -> Record:
    """record_from_line, the exact (slow) way: every error named."""
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as e:
        raise RecordFormatError(f"{where}: not valid JSON ({e})") from None
    if not isinstance(obj, dict) or set(obj) != set(LEAF_FIELDS):
        got = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise RecordFormatError(f"{where}: fields must be exactly {list(LEAF_FIELDS)}, got {got}")
    try:
        if not isinstance(obj["topic"], str):
            raise TypeError("topic must be a string")
        for f in ("partition", "offset"):
            if type(obj[f]) is not int or obj[f] < 0:
                raise TypeError(f"{f} must be a non-negative integer")
        if obj["timestamp"] is not None and type(obj["timestamp"]) is not int:
            raise TypeError("timestamp must be an integer or null")
        headers = obj["headers"]
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise TypeError("headers must map names to strings")
        key = None if obj["key_b64"] is None else base64.b64decode(obj["key_b64"], validate=True)
        value = base64.b64decode(obj["value_b64"], validate=True)
    except (TypeError, ValueError) as e:
        raise RecordFormatError(f"{where}: {e}") from None
    rec = Record(
        topic=obj["topic"],
        partition=obj["partition"],
        offset=obj["offset"],
        timestamp=obj["timestamp"],
        key=key,
        value=value,
        headers=tuple((k, v.encode("utf-8")) for k, v in headers.items()),
    )
    if leaf_bytes(rec) != line:
        raise RecordFormatError(f"{where}: not in canonical form (re-encoding the parsed record gives other bytes)")
    return rec


def records_from_jsonl(lines: Iterable[bytes]) -> list[Record]:
    return [record_from_line(ln.rstrip(b"\n"), f"line {i}") for i, ln in enumerate(lines, 1) if ln.strip()]


def as_mapping(obj: Any) -> Mapping[str, Any]:
    return obj if isinstance(obj, Mapping) else vars(obj)
