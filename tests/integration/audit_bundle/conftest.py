from __future__ import annotations

import hashlib

import pytest

from casectl.audit.records import Record

ZERO = "0" * 64


def make_records(cases: int = 4, per_case: int = 5, partitions: int = 2, topic: str = "case.events.v1") -> list[Record]:
    """Synthetic records with real chains; case k lives in partition k % partitions."""
    out: list[Record] = []
    next_offset = [0] * partitions
    prev = {f"case-{c:03d}": ZERO for c in range(cases)}
    for seq in range(1, per_case + 1):  # interleave cases, like a real topic
        for c in range(cases):
            case = f"case-{c:03d}"
            p = c % partitions
            value = bytes([seq, c, 0, 0xFF, 0x0A]) + f"payload {case} #{seq} \"quoted\" é".encode()
            h = hashlib.sha256(bytes.fromhex(prev[case]) + value).hexdigest()
            headers = (
                ("ce_specversion", b"1.0"),
                ("ce_id", f"evt-{case}-{seq}".encode()),
                ("ce_source", b"/casestream/intake"),
                ("ce_type", b"casestream.case.opened" if seq == 1 else b"casestream.case.noted"),
                ("ce_subject", case.encode()),
                ("ce_time", f"2024-05-01T10:00:{seq:02d}Z".encode()),
                ("cs_seq", str(seq).encode()),
                ("cs_prev_hash", prev[case].encode()),
                ("cs_hash", h.encode()),
            )
            out.append(Record(topic, p, next_offset[p], 1714557600000 + seq, case.encode(), value, headers))
            next_offset[p] += 1
            prev[case] = h
    return out


@pytest.fixture
def records() -> list[Record]:
    return make_records()


@pytest.fixture
def key_path(tmp_path):
    return tmp_path / "keys" / "audit_ed25519.pem"


@pytest.fixture(name="make_records", scope="session")
def _make_records_fixture():
    return make_records
