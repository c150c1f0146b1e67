"""Verify the per-case hash chains of a sequence of records.

cs_hash = sha256(bytes.fromhex(cs_prev_hash) + value); the first event of a case
has cs_prev_hash = 64 zeros; cs_seq is decimal, per case, 1-based. Records are
checked in the order given (an export's order: by partition, then offset). The
first record seen of a case starts its chain: if its cs_seq is 1 its prev hash
must be zero; if it is larger, the export starts part-way through the case and
the chain is anchored at that record's cs_prev_hash (reported, not checked).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from casectl.audit.records import REQUIRED_HEADERS, Record

ZERO_HASH_HEX = "0" * 64
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"[1-9][0-9]*")
_REQUIRED = frozenset(REQUIRED_HEADERS)
_sha256 = hashlib.sha256


class ChainError(ValueError):
    """The first record that breaks a chain, with where and why."""

    def __init__(self, reason: str, *, record: Record, index: int, case_id: str | None, seq: str | None):
        self.reason = reason
        self.record = record
        self.index = index  # 0-based position in the sequence checked
        self.case_id = case_id
        self.seq = seq
        self.partition = record.partition
        self.offset = record.offset
        super().__init__(
            f"record #{index + 1} ({record.where}, case {case_id!r}, cs_seq {seq!r}): {reason}"
        )


@dataclass
class CaseChain:
    case_id: str
    first_seq: int
    last_seq: int
    last_hash: str
    count: int
    anchor_prev_hash: str  # the cs_prev_hash of the first record seen (zeros when it starts at 1)

    @property
    def complete_from_start(self) -> bool:
        return self.first_seq == 1


@dataclass
class ChainReport:
    records: int = 0
    cases: dict[str, CaseChain] = field(default_factory=dict)

    @property
    def partial_cases(self) -> list[str]:
        return [c for c, s in self.cases.items() if not s.complete_from_start]


def chain_hash(prev_hash_hex: str, value: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash_hex) + value).hexdigest()


class ChainVerifier:
    """Incremental chain checker: feed records one by one (memory: one entry per case)."""

    def __init__(self) -> None:
        self.report = ChainReport()

    def add(self, r: Record) -> CaseChain:
        index = self.report.records
        case_id = seq_text = None

        def fail(reason: str) -> ChainError:
            return ChainError(reason, record=r, index=index, case_id=case_id, seq=seq_text)

        hdrs: dict[str, str] = {}
        for name, raw in r.headers:
            try:
                hdrs.setdefault(name, bytes(raw).decode("utf-8"))
            except UnicodeDecodeError:
                raise fail(f"header {name} is not UTF-8") from None
        case_id = hdrs.get("ce_subject")
        seq_text = hdrs.get("cs_seq")
        missing = [h for h in REQUIRED_HEADERS if h not in hdrs]
        if missing:
            raise fail(f"missing header(s) {', '.join(missing)}")
        if r.key is not None and r.key != case_id.encode("utf-8"):
            raise fail(f"record key {r.key!r} differs from ce_subject {case_id!r}")
        if not _DECIMAL.fullmatch(seq_text):
            raise fail(f"cs_seq {seq_text!r} is not a positive decimal without leading zeros")
        seq = int(seq_text)
        prev, got = hdrs["cs_prev_hash"], hdrs["cs_hash"]
        if not _HEX64.fullmatch(prev):
            raise fail(f"cs_prev_hash {prev!r} is not 64 lowercase hex digits")
        if not _HEX64.fullmatch(got):
            raise fail(f"cs_hash {got!r} is not 64 lowercase hex digits")
        state = self.report.cases.get(case_id)
        if state is None:
            if seq == 1 and prev != ZERO_HASH_HEX:
                raise fail(f"first event of the case (cs_seq 1) has cs_prev_hash {prev}, expected 64 zeros")
        else:
            if seq != state.last_seq + 1:
                raise fail(f"cs_seq {seq} does not follow {state.last_seq} (expected {state.last_seq + 1})")
            if prev != state.last_hash:
                raise fail(
                    f"cs_prev_hash {prev} is not the cs_hash {state.last_hash} of cs_seq {state.last_seq}"
                )
        want = chain_hash(prev, r.value)
        if want != got:
            raise fail(f"cs_hash {got} does not match sha256(cs_prev_hash || value) = {want}")
        if state is None:
            state = CaseChain(case_id, seq, seq, got, 1, prev)
            self.report.cases[case_id] = state
        else:
            state.last_seq, state.last_hash, state.count = seq, got, state.count + 1
        self.report.records += 1
        return state

    def add_fast(self, key: bytes | None, value: bytes, hdrs: dict[str, bytes], nheaders: int,
                 make_record: Callable[[], Record]) -> None:
        """`add` for the common case, without building a Record: `hdrs` is the headers as a dict
        (bytes values), `nheaders` how many headers the record has. Anything unusual (repeated or
        non-ASCII headers, a missing header, a break in the chain) goes through `add(make_record())`,
        which applies the same checks and raises the same ChainError."""
        if nheaders != len(hdrs) or not (hdrs.keys() >= _REQUIRED) or not b"".join(hdrs.values()).isascii():
            self.add(make_record())
            return
        subj = hdrs["ce_subject"]
        seqb = hdrs["cs_seq"]
        if (key is not None and key != subj) or not seqb.isdigit() or seqb[0] == 48:
            self.add(make_record())
            return
        case_id = subj.decode()
        prev = hdrs["cs_prev_hash"].decode()
        got = hdrs["cs_hash"].decode()
        seq = int(seqb)
        state = self.report.cases.get(case_id)
        if state is None:
            if not _HEX64.fullmatch(prev) or (seq == 1 and prev != ZERO_HASH_HEX):
                self.add(make_record())
                return
        elif seq != state.last_seq + 1 or prev != state.last_hash:
            self.add(make_record())
            return
        if _sha256(bytes.fromhex(prev) + value).hexdigest() != got:
            self.add(make_record())
            return
        if state is None:
            self.report.cases[case_id] = CaseChain(case_id, seq, seq, got, 1, prev)
        else:
            state.last_seq = seq
            state.last_hash = got
            state.count += 1
        self.report.records += 1


def verify_chains(records: Iterable[Record]) -> ChainReport:
    """Check every chain; raise ChainError at the first bad record."""
    v = ChainVerifier()
    for r in records:
        v.add(r)
    return v.report
