"""Dead-letter records: list them, and rebuild the original inbound record for resubmission."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from casectl.audit.records import Record

DLQ_HEADERS = ("cs_error", "cs_error_code", "cs_error_field", "cs_source_topic", "cs_source_partition",
               "cs_source_offset")
_ID = re.compile(r"(\d+):(\d+)")


def parse_id(text: str) -> tuple[int, int]:
    m = _ID.fullmatch(text.strip())
    if not m:
        raise ValueError(f"DLQ id {text!r}: expected PARTITION:OFFSET, e.g. 0:17")
    return int(m[1]), int(m[2])


def describe(r: Record) -> dict[str, Any]:
    return {"id": f"{r.partition}:{r.offset}", "partition": r.partition, "offset": r.offset,
            "key": r.key.decode("utf-8", "replace") if r.key is not None else None,
            "error_code": r.header("cs_error_code"), "field": r.header("cs_error_field"),
            "reason": r.header("cs_error"), "source_topic": r.header("cs_source_topic"),
            "source_partition": r.header("cs_source_partition"), "source_offset": r.header("cs_source_offset")}


@dataclass(frozen=True)
class Resubmission:
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def resubmission(r: Record, corrected_value: bytes | None = None) -> Resubmission:
    """The original record (or its corrected value) with the DLQ's own headers removed."""
    headers = [(k, bytes(v)) for k, v in r.headers if k not in DLQ_HEADERS]
    return Resubmission(r.key, r.value if corrected_value is None else corrected_value, headers)
