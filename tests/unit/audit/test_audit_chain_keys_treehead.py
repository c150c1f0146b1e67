from __future__ import annotations

import hashlib
import os
import stat

import pytest

from casectl.audit import keys
from casectl.audit.chain import ChainError, verify_chains
from casectl.audit.records import Record, leaf_bytes, record_from_line, RecordFormatError
from casectl.audit.treehead import SignedTreeHead, TreeHead, TreeHeadError, sign_tree_head, verify_tree_head

ZERO = "0" * 64


def chain(case="case-1", n=4, start_seq=1, prev=ZERO, partition=0, first_offset=0):
    out = []
    for k in range(n):
        seq = start_seq + k
        value = f"{case}:{seq}".encode()
        h = hashlib.sha256(bytes.fromhex(prev) + value).hexdigest()
        headers = (("ce_specversion", b"1.0"), ("ce_id", f"{case}-{seq}".encode()), ("ce_source", b"/t"),
                   ("ce_type", b"casestream.case.opened"), ("ce_subject", case.encode()),
                   ("ce_time", b"2024-01-01T00:00:00Z"), ("cs_seq", str(seq).encode()),
                   ("cs_prev_hash", prev.encode()), ("cs_hash", h.encode()))
        out.append(Record("case.events.v1", partition, first_offset + k, 1, case.encode(), value, headers))
        prev = h
    return out


def replace_header(r: Record, name: str, value: bytes) -> Record:
    return Record(r.topic, r.partition, r.offset, r.timestamp, r.key, r.value,
                  tuple((k, value if k == name else v) for k, v in r.headers))


def test_good_chains_and_partial_start():
    report = verify_chains(chain("a") + chain("b", partition=1))
    assert report.records == 8 and set(report.cases) == {"a", "b"}
    mid = chain("c", n=6)[2:]
    report = verify_chains(mid)
    assert report.partial_cases == ["c"] and report.cases["c"].first_seq == 3


@pytest.mark.parametrize("what", ["value", "seq_gap", "prev", "first_prev", "missing", "key", "hash_case"])
def test_first_bad_record_is_named(what):
    recs = chain("a", n=5)
    r = recs[2]
    if what == "value":
        recs[2] = Record(r.topic, r.partition, r.offset, r.timestamp, r.key, r.value + b"x", r.headers)
        reason = "does not match sha256"
    elif what == "seq_gap":
        recs[2] = replace_header(r, "cs_seq", b"4")
        reason = "does not follow 2"
    elif what == "prev":
        recs[2] = replace_header(r, "cs_prev_hash", ZERO.encode())
        reason = "cs_prev_hash"
    elif what == "first_prev":
        recs = [replace_header(recs[0], "cs_prev_hash", b"1" * 64)] + recs[1:]
        reason = "expected 64 zeros"
    elif what == "missing":
        recs[2] = Record(r.topic, r.partition, r.offset, r.timestamp, r.key, r.value,
                         tuple(h for h in r.headers if h[0] != "ce_time"))
        reason = "missing header(s) ce_time"
    elif what == "key":
        recs[2] = Record(r.topic, r.partition, r.offset, r.timestamp, b"other", r.value, r.headers)
        reason = "differs from ce_subject"
    else:
        recs[2] = replace_header(r, "cs_hash", r.header("cs_hash").upper().encode())
        reason = "not 64 lowercase hex"
    with pytest.raises(ChainError) as e:
        verify_chains(recs)
    at = 0 if what == "first_prev" else 2
    assert e.value.offset == at and e.value.case_id == "a"
    assert reason in str(e.value) and f"case.events.v1/0:{at}" in str(e.value)


def test_leaf_line_round_trip_and_canonical_form():
    r = chain("a", n=1)[0]
    line = leaf_bytes(r)
    back = record_from_line(line)
    assert leaf_bytes(back) == line and back.value == r.value and dict(back.headers) == dict(r.headers)
    with pytest.raises(RecordFormatError, match="canonical"):
        record_from_line(line.replace(b'{"headers"', b'{ "headers"'))


def test_key_created_once_0600_and_loose_permissions_refused(tmp_path, monkeypatch):
    p = tmp_path / "keys" / "audit.pem"
    k1 = keys.load_or_create_signing_key(p)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    k2 = keys.load_or_create_signing_key(p)
    assert keys.public_key_pem(k1) == keys.public_key_pem(k2)
    os.chmod(p, 0o644)
    with pytest.raises(keys.KeyFileError, match="too open"):
        keys.load_or_create_signing_key(p)
    monkeypatch.setenv(keys.ENV_VAR, str(tmp_path / "env.pem"))
    assert keys.key_path() == tmp_path / "env.pem"
    keys.load_or_create_signing_key()
    assert (tmp_path / "env.pem").exists()


def test_checkpoints_sign_verify_and_tamper(tmp_path):
    key = keys.load_or_create_signing_key(tmp_path / "k.pem")
    head = TreeHead(8, bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
                    origin="case.events.v1/0")
    sth = sign_tree_head(key, head)
    assert head.to_text() == (b"casestream-checkpoint-v1\ncase.events.v1/0\n8\n"
                              b"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328\n")
    again = SignedTreeHead.from_dict(sth.to_dict())
    verify_tree_head(key.public_key(), again)
    assert TreeHead.from_text(head.to_text()) == head
    for bad in (SignedTreeHead(TreeHead(9, head.root_hash, origin=head.origin), sth.signature),
                SignedTreeHead(head, bytes([sth.signature[0] ^ 1]) + sth.signature[1:])):
        with pytest.raises(TreeHeadError):
            verify_tree_head(key.public_key(), bad)
