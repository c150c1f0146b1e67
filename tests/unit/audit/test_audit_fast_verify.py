"""The fast bundle check (casectl.audit.fastverify) accepts exactly what the exact check accepts,
gives the same results, and on every problem leaves the naming of it to the exact check: the same
file, line, field and message, in one process and over several."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
import shutil
import string
from pathlib import Path

import orjson
import pytest

from casectl.audit import BundleError, export_bundle, prove_consistency, prove_inclusion, verify_bundle
from casectl.audit import bundle as bundlemod
from casectl.audit import fastverify
from casectl.audit.merkle import MerkleTree, build_levels, leaf_hash
from casectl.audit.records import Record, canonical_json

ZERO = "0" * 64


def make_records(cases=5, per_case=6, partitions=2, topic="case.events.v1", *, key=True, extra_headers=(),
                 first_seq=1, subject=lambda c: f"case-{c:03d}"):
    out, offsets = [], [0] * partitions
    prev = {c: (ZERO if first_seq == 1 else hashlib.sha256(b"before").hexdigest()) for c in range(cases)}
    for seq in range(first_seq, first_seq + per_case):
        for c in range(cases):
            case, p = subject(c), c % partitions
            value = bytes([seq % 256, c % 256, 0, 0xFF]) + f"payload {case} #{seq} \"q\" é".encode() * (1 + c % 3)
            h = hashlib.sha256(bytes.fromhex(prev[c]) + value).hexdigest()
            headers = [("ce_specversion", b"1.0"), ("ce_id", f"evt-{case}-{seq}".encode()),
                       ("ce_source", b"/casestream/intake"), ("ce_type", b"casestream.case.noted"),
                       ("ce_subject", case.encode()), ("ce_time", b"2024-05-01T10:00:00Z"),
                       ("cs_seq", str(seq).encode()), ("cs_prev_hash", prev[c].encode()), ("cs_hash", h.encode()),
                       *extra_headers]
            out.append(Record(topic, p, offsets[p], 1714557600000 + seq, case.encode() if key else None, value,
                              tuple(headers)))
            offsets[p] += 1
            prev[c] = h
    return out


@pytest.fixture(params=["single", "multi"])
def mode(request, monkeypatch):
    """single: one process; multi: forked workers over ranges of 4 lines (whatever the size)."""
    if request.param == "multi":
        monkeypatch.setattr(fastverify, "PARALLEL_MIN_BYTES", 0)
        monkeypatch.setattr(fastverify, "ALIGN_BITS", 2)
        monkeypatch.setattr(fastverify, "_cpus", lambda: 3)
        monkeypatch.setattr(fastverify, "MAX_WORKERS", 3)
    else:
        monkeypatch.setattr(fastverify, "PARALLEL_MIN_BYTES", 1 << 62)
    # small blocks, so that their edges are crossed too
    monkeypatch.setattr(fastverify, "BLOCK_BYTES", 700)
    return request.param


def _export(tmp_path: Path, records, name="b", decode=lambda v: {"len": len(v)}) -> Path:
    d = tmp_path / name
    export_bundle(records, d, {"topic": "t"}, tmp_path / "key.pem", decode=decode)
    return d


def _outcome(fn, *args, **kw):
    try:
        return ("ok", fn(*args, **kw))
    except BundleError as e:
        return ("error", e.file, e.line, e.field, str(e))


def _exact(monkeypatch, fn, *args, **kw):
    def off(*a, **k):
        raise fastverify.Fallback("off")

    with monkeypatch.context() as m:
        m.setattr(fastverify, "check_data", off)
        return _outcome(fn, *args, **kw)


def _fast_used(monkeypatch, bundle: Path) -> fastverify.DataResult:
    return fastverify.check_data(bundle, "events.jsonl", "decoded.jsonl", "leaves.txt", want_records=True)


# ------------------------------------------------------------------ good bundles: same results


@pytest.mark.parametrize("kind", ["plain", "unusual_text", "no_keys", "partial", "topics"])
def test_good_bundles_give_the_exact_results(tmp_path, monkeypatch, mode, kind):
    if kind == "plain":
        recs = make_records()
    elif kind == "unusual_text":  # non-ASCII, quotes, backslashes, DEL, control characters, % in the topic
        recs = make_records(extra_headers=[("x-note", 'caf\u00e9 "q" \\ \x7f \n'.encode())], topic="t%d/x\u00e9",
                            subject=lambda c: f"case-{c}-\u00e9\"")
        recs = recs[: len(recs) // 2] + make_records(cases=2, per_case=3, topic="t%d/x\u00e9z")
    elif kind == "no_keys":
        recs = make_records(key=False)
    elif kind == "partial":
        recs = make_records(first_seq=7)
    else:
        recs = make_records(topic="a.events") + make_records(cases=3, topic="b.events", partitions=3,
                                                          subject=lambda c: f"other-{c}")
    b = _export(tmp_path, recs)
    fast = _outcome(verify_bundle, b)
    assert fast[0] == "ok"
    assert fast == _exact(monkeypatch, verify_bundle, b)
    exact_lines = []
    monkeypatch.setattr(fastverify, "_line_exact", lambda st, line, f=fastverify._line_exact: (
        exact_lines.append(line), f(st, line))[1])
    data = _fast_used(monkeypatch, b)  # the fast path vouches for it (no Fallback)
    assert data.workers == (1 if mode == "single" else 3)
    if kind in ("plain", "no_keys", "partial", "topics") and mode == "single":
        assert exact_lines == []  # all of it the fast way
    exact = bundlemod._check_events_exact(b)
    assert data.tree.leaf_hashes == exact[0] and data.records == exact[1]
    assert {c: vars(s) for c, s in data.report.cases.items()} == {c: vars(s) for c, s in exact[2].cases.items()}
    assert list(data.report.cases) == list(exact[2].cases) and data.partitions == exact[3]
    ev = (b / "events.jsonl").read_bytes()
    target = json.loads(ev.splitlines()[len(recs) // 2])
    assert _outcome(prove_inclusion, b, target["headers"]["ce_id"]) == _exact(
        monkeypatch, prove_inclusion, b, target["headers"]["ce_id"])


@pytest.mark.parametrize("n", [1, 3, 4, 5, 17, 64, 65])
def test_sizes_around_the_range_edges(tmp_path, monkeypatch, mode, n):
    recs = make_records(cases=1, per_case=n, partitions=1)
    b = _export(tmp_path, recs)
    assert _outcome(verify_bundle, b) == _exact(monkeypatch, verify_bundle, b)
    assert _fast_used(monkeypatch, b).tree.root() == MerkleTree.from_data(
        (b / "events.jsonl").read_bytes().splitlines()).root()


def test_consistency_proofs_are_the_same(tmp_path, monkeypatch, mode):
    recs = make_records(cases=3, per_case=9, partitions=1)
    old, new = _export(tmp_path, recs[:13], "old"), _export(tmp_path, recs, "new")
    got = _outcome(prove_consistency, old, new)
    assert got[0] == "ok" and got == _exact(monkeypatch, prove_consistency, old, new)
    assert _outcome(prove_consistency, new, old) == _exact(monkeypatch, prove_consistency, new, old)


def test_empty_bundle(tmp_path, monkeypatch, mode):
    b = _export(tmp_path, [])
    assert _outcome(verify_bundle, b) == _exact(monkeypatch, verify_bundle, b)
    assert _outcome(verify_bundle, b)[0] == "ok"


# ------------------------------------------------------------------ bad bundles: the same error


def _lines(p: Path) -> list[bytes]:
    return p.read_bytes().split(b"\n")[:-1]


def _write(p: Path, lines: list[bytes], end=b"\n") -> None:
    p.write_bytes(b"\n".join(lines) + end)


def _edit_event(b: Path, i: int, fn) -> None:
    lines = _lines(b / "events.jsonl")
    lines[i] = fn(lines[i])
    _write(b / "events.jsonl", lines)


def _resign_value(line: bytes, new_value: bytes) -> bytes:
    o = orjson.loads(line)
    o["value_b64"] = base64.b64encode(new_value).decode()
    return canonical_json(o)


def _flip_b64_char(line: bytes) -> bytes:
    o = orjson.loads(line)
    v = o["value_b64"]
    o["value_b64"] = v[:3] + ("A" if v[3] != "A" else "B") + v[4:]
    return canonical_json(o)


def _noncanonical_b64(line: bytes) -> bytes:
    """The same value, base64 with bits left over in the last quantum (decodes the same)."""
    o = orjson.loads(line)
    v = o["value_b64"]
    assert v.endswith("=")
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
    pos = len(v) - (3 if v.endswith("==") else 2)
    o["value_b64"] = v[:pos] + alphabet[alphabet.index(v[pos]) + 1] + v[pos + 1:]
    assert base64.b64decode(o["value_b64"]) == base64.b64decode(v)
    return canonical_json(o)


def _header(name, value):
    def fn(line: bytes) -> bytes:
        o = orjson.loads(line)
        o["headers"][name] = value
        return canonical_json(o)
    return fn


def _set(field, value):
    def fn(line: bytes) -> bytes:
        o = orjson.loads(line)
        o[field] = value
        return canonical_json(o)
    return fn


TAMPERS = {
    "space": lambda b, i: _edit_event(b, i, lambda ln: ln.replace(b'"offset":', b'"offset": ')),
    "key_order": lambda b, i: _edit_event(b, i, lambda ln: ln.replace(b"{", b'{"zz":1,', 1)),
    "escape": lambda b, i: _edit_event(b, i, lambda ln: ln.replace(b'"ce_source":"/', b'"ce_source":"\\/')),
    "unicode_escape": lambda b, i: _edit_event(b, i, lambda ln: ln.replace(b'"ce_type":"c', b'"ce_type":"\\u0063')),
    "not_json": lambda b, i: _edit_event(b, i, lambda ln: ln[:-1]),
    "value": lambda b, i: _edit_event(b, i, _flip_b64_char),
    "value_resigned": lambda b, i: _edit_event(b, i, lambda ln: _resign_value(ln, b"other")),
    "noncanonical_b64": lambda b, i: _edit_event(b, i, _noncanonical_b64),
    "b64_padding": lambda b, i: _edit_event(b, i, lambda ln: ln.replace(b'=="}', b'=="}').replace(b'"}', b'===="}')
                                            if ln.endswith(b'="}') else ln.replace(b'"}', b'===="}')),
    "prev_link": lambda b, i: _edit_event(b, i, _header("cs_prev_hash", "1" * 64)),
    "prev_upper": lambda b, i: _edit_event(b, i, lambda ln: re.sub(
        rb'"cs_prev_hash":"([0-9a-f]{64})"', lambda m: b'"cs_prev_hash":"' + m[1].upper() + b'"', ln)),
    "seq": lambda b, i: _edit_event(b, i, _header("cs_seq", "9")),
    "seq_zero": lambda b, i: _edit_event(b, i, _header("cs_seq", "01")),
    "missing_header": lambda b, i: _edit_event(b, i, lambda ln: canonical_json(
        {**orjson.loads(ln), "headers": {k: v for k, v in orjson.loads(ln)["headers"].items() if k != "ce_time"}})),
    "header_not_str": lambda b, i: _edit_event(b, i, _header("x-n", 5)),
    "key": lambda b, i: _edit_event(b, i, _set("key_b64", base64.b64encode(b"someone-else").decode())),
    "offset_float": lambda b, i: _edit_event(b, i, lambda ln: re.sub(rb'"offset":(\d+)', rb'"offset":\1.0', ln)),
    "partition_bool": lambda b, i: _edit_event(b, i, _set("partition", True)),
    "order_swap": lambda b, i: _write(b / "events.jsonl", (lambda ls: ls[:i] + [ls[i + 1], ls[i]] + ls[i + 2:])(
        _lines(b / "events.jsonl"))),
    "repeated": lambda b, i: _write(b / "events.jsonl", (lambda ls: ls[:i + 1] + [ls[i]] + ls[i + 1:])(
        _lines(b / "events.jsonl"))),
    "dropped": lambda b, i: _write(b / "events.jsonl", (lambda ls: ls[:i] + ls[i + 1:])(_lines(b / "events.jsonl"))),
    "no_last_newline": lambda b, i: _write(b / "events.jsonl", _lines(b / "events.jsonl"), end=b""),
    "leaf": lambda b, i: _write(b / "leaves.txt", (lambda ls: ls[:i] + [b"0" * 64] + ls[i + 1:])(
        _lines(b / "leaves.txt"))),
    "leaf_upper": lambda b, i: _write(b / "leaves.txt", (lambda ls: ls[:i] + [ls[i].upper()] + ls[i + 1:])(
        _lines(b / "leaves.txt"))),
    "leaves_extra": lambda b, i: _write(b / "leaves.txt", _lines(b / "leaves.txt") + [b"0" * 64]),
    "decoded_offset": lambda b, i: _write(b / "decoded.jsonl", (lambda ls: ls[:i] + [
        ls[i].replace(b',"offset":', b',"offset":1')] + ls[i + 1:])(_lines(b / "decoded.jsonl"))),
    "decoded_json": lambda b, i: _write(b / "decoded.jsonl", (lambda ls: ls[:i] + [ls[i][:-2]] + ls[i + 1:])(
        _lines(b / "decoded.jsonl"))),
    "decoded_reordered_keys": lambda b, i: _write(b / "decoded.jsonl", (lambda ls: ls[:i] + [
        json.dumps(json.loads(ls[i]), sort_keys=False, indent=1).replace("\n", "").encode()[::1]] + ls[i + 1:])(
        _lines(b / "decoded.jsonl"))),
    "decoded_extra": lambda b, i: _write(b / "decoded.jsonl", _lines(b / "decoded.jsonl") + [b"{}"]),
    "decoded_missing": lambda b, i: _write(b / "decoded.jsonl", _lines(b / "decoded.jsonl")[:-1]),
    "decoded_no_last_newline": lambda b, i: _write(b / "decoded.jsonl", _lines(b / "decoded.jsonl"), end=b""),
}


@pytest.fixture(scope="module")
def good_bundle(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fast")
    return _export(d, make_records(cases=4, per_case=7, partitions=3))


@pytest.mark.parametrize("where", ["start", "middle", "range_edge", "end"])
@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_problems_are_named_as_by_the_exact_check(good_bundle, tmp_path, monkeypatch, mode, tamper, where):
    b = tmp_path / "b"
    shutil.copytree(good_bundle, b)
    n = len(_lines(b / "events.jsonl"))
    i = {"start": 0, "middle": n // 2 + 1, "range_edge": 7, "end": n - 2}[where]
    if tamper == "noncanonical_b64":  # a line whose base64 is padded
        vals = [orjson.loads(ln)["value_b64"] for ln in _lines(b / "events.jsonl")]
        i = next(j for j in list(range(i, n)) + list(range(i)) if vals[j].endswith("="))
    TAMPERS[tamper](b, i)
    got = _outcome(verify_bundle, b)
    want = _exact(monkeypatch, verify_bundle, b)
    assert got == want
    changed = any((b / f).read_bytes() != (good_bundle / f).read_bytes()
                  for f in ("events.jsonl", "leaves.txt", "decoded.jsonl"))
    if changed and tamper not in ("decoded_reordered_keys", "decoded_no_last_newline"):
        assert got[0] == "error"


def test_a_changed_line_names_its_line(good_bundle, tmp_path, mode):
    b = tmp_path / "b"
    shutil.copytree(good_bundle, b)
    _edit_event(b, 9, _flip_b64_char)
    with pytest.raises(BundleError) as e:
        verify_bundle(b)
    assert (e.value.file, e.value.line) == ("events.jsonl", 10)
    assert "cs_hash" in str(e.value)


# ------------------------------------------------------------------ the pieces


def test_canonical_base64_rule_matches_reencoding():
    rng = random.Random(7)
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
    cases = ["", "QQ==", "QR==", "QUI=", "QUJ=", "QUJD", "QUJD=", "QUJD====", "QUJDQQ==", "QUJDQR=="]
    for _ in range(20000):
        n = rng.randrange(0, 13)
        cases.append("".join(rng.choice(alphabet + "==") for _ in range(n)))
        v = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 10)))
        cases.append(base64.b64encode(v).decode())
    for s in cases:
        try:
            v = binascii.a2b_base64(s, strict_mode=True)
        except binascii.Error:
            continue
        assert fastverify.b64_canonical(s) == (base64.b64encode(v).decode() == s), s


def test_orjson_writes_ascii_strings_as_json_dumps_does():
    for c in range(128):
        s = f"a{chr(c)}b"
        same = orjson.dumps(s) == json.dumps(s, ensure_ascii=True).encode()
        assert same == (c != 0x7F), c  # DEL is why lines with 0x7f take the exact path


@pytest.mark.parametrize("bits", [0, 1, 2, 3])
@pytest.mark.parametrize("n", [1, 2, 5, 8, 9, 16, 17, 40])
def test_merkle_levels_built_in_aligned_parts(n, bits):
    leaves = b"".join(leaf_hash(bytes([i])) for i in range(n))
    whole = MerkleTree.from_levels([leaves])
    assert whole.root() == MerkleTree([leaves[i:i + 32] for i in range(0, len(leaves), 32)]).root()
    step = 32 << bits
    parts = [leaves[i:i + step] for i in range(0, len(leaves), step)]
    levels = [build_levels(p, bits) for p in parts]
    for lv in levels:
        lv += [lv[-1]] * (bits + 1 - len(lv))
    tree = MerkleTree.from_levels([b"".join(lv[j] for lv in levels) for j in range(bits + 1)])
    assert tree._levels == whole._levels
    for m in range(n + 1):
        assert tree.root(m) == whole.root(m)


def test_split_gives_aligned_increasing_starts(monkeypatch):
    monkeypatch.setattr(fastverify, "ALIGN_BITS", 12)
    for total in (1, 4096, 5000, 9000, 200_000, 1_000_000):
        for k in (2, 3, 4):
            starts = fastverify._split(total, k)
            assert starts[0] == 0 and all(s % 4096 == 0 for s in starts)
            assert starts == sorted(set(starts)) and all(s < total for s in starts)
    a = fastverify._split(200_000, 2)[1]
    assert 0.45 < a / 200_000 < 0.7
