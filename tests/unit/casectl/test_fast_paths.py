"""The fast paths of casectl give exactly what the plain code gives."""

from __future__ import annotations

import hashlib

import pytest

from casectl.audit.chain import ChainError, ChainVerifier
from casectl.audit.records import Record, RecordFormatError, canonical_json, leaf_bytes, leaf_object, record_from_line
from casectl.projection import _account_marker


def _rec(headers, key=b"case-1", value=b"\x0a\x06case-1\x3a\x05ACC-1", ts=1700000000000, topic="t.case.events.v1"):
    return Record(topic=topic, partition=2, offset=7, timestamp=ts, key=key, value=value, headers=tuple(headers))


@pytest.mark.parametrize("headers,key,ts,topic", [
    ([("ce_id", b"e-1"), ("ce_subject", b"case-1")], b"case-1", 1, "t"),
    ([("b", b"quote\"d"), ("a", b"back\\slash")], None, None, "t"),
    ([("x", "caf\u00e9".encode()), ("y", b"\x7f"), ("z", b"\n\t")], b"", 0, "t\u00e9"),
    ([], b"\xff\x00", None, "t"),
])
def test_leaf_bytes_is_canonical_json(headers, key, ts, topic):
    r = _rec(headers, key=key, ts=ts, topic=topic)
    line = leaf_bytes(r)
    assert line == canonical_json(leaf_object(r))
    assert leaf_bytes(record_from_line(line)) == line


def test_leaf_bytes_repeated_header_still_refused():
    with pytest.raises(RecordFormatError):
        leaf_bytes(_rec([("a", b"1"), ("a", b"2")]))


def test_record_from_line_non_canonical_still_refused():
    line = leaf_bytes(_rec([("a", b"1")]))
    with pytest.raises(RecordFormatError, match="canonical"):
        record_from_line(line.replace(b'"offset":7', b'"offset": 7'))
    with pytest.raises(RecordFormatError):
        record_from_line(line.replace(b'"value_b64":"', b'"value_b64":"!'))


def _chain(n, case="case-1"):
    prev, out = "0" * 64, []
    for i in range(1, n + 1):
        value = f"body {i}".encode()
        h = hashlib.sha256(bytes.fromhex(prev) + value).hexdigest()
        hdrs = [("ce_specversion", b"1.0"), ("ce_id", f"e{i}".encode()), ("ce_source", b"s"), ("ce_type", b"x"),
                ("ce_subject", case.encode()), ("ce_time", b"2026-11-02T00:00:00Z"), ("cs_seq", str(i).encode()),
                ("cs_prev_hash", prev.encode()), ("cs_hash", h.encode())]
        out.append(Record("t", 0, i - 1, 1, case.encode(), value, tuple(hdrs)))
        prev = h
    return out


def _run(records, fast):
    v = ChainVerifier()
    try:
        for r in records:
            if fast:
                v.add_fast(r.key, r.value, dict(r.headers), len(r.headers), lambda r=r: r)
            else:
                v.add(r)
    except ChainError as e:
        return ("error", e.index, str(e))
    return ("ok", v.report.records, {c: vars(s) for c, s in v.report.cases.items()})


def test_add_fast_matches_add_on_good_and_bad_chains():
    good = _chain(5)
    assert _run(good, True) == _run(good, False)
    assert _run(good, True)[0] == "ok"
    bad_value = list(good)
    r = bad_value[2]
    bad_value[2] = Record(r.topic, r.partition, r.offset, r.timestamp, r.key, b"tampered", r.headers)
    gap = good[:2] + good[3:]
    dup = good[:3] + [good[1]]
    seq0 = [Record("t", 0, 0, 1, b"case-1", good[0].value,
                   tuple((k, b"01" if k == "cs_seq" else v) for k, v in good[0].headers))]
    for broken in (bad_value, gap, dup, seq0):
        got = _run(broken, True)
        assert got[0] == "error"
        assert got == _run(broken, False)


def test_account_marker_is_protobuf_field_7():
    from casestream.v1 import events_pb2

    for acc in ("ACC-1", "A" * 200):
        value = events_pb2.CaseEvent(case_id="c", account_id=acc).SerializeToString()
        assert _account_marker(acc) in value


def test_public_key_with_unknown_algorithm_is_a_key_file_error():
    import base64

    from casectl.audit.keys import KeyFileError, load_public_key_pem

    # SubjectPublicKeyInfo with OID 0.39.101.112 (the Ed25519 OID 1.3.101.112 with a flipped bit)
    der = bytes.fromhex("302a300506032701700321") + bytes(32)
    pem = b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der) + b"\n-----END PUBLIC KEY-----\n"
    with pytest.raises(KeyFileError):
        load_public_key_pem(pem)
