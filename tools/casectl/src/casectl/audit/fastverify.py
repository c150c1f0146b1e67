"""The fast way to check a bundle's data files (events.jsonl, decoded.jsonl, leaves.txt).

`check_data` does, for a well-formed bundle, every check that the exact line-by-line code
in bundle.py (_check_events_exact, _check_decoded_exact, the file digests) does on those
files, with the same results (the Merkle tree, the chain report, the partitions and the
per-leaf records), but without building a `Record` per line and, above a size threshold,
in forked worker processes that each take a range of lines (aligned so that each can also
build its part of the Merkle tree), joined in order by the calling process.

It never names a problem: whenever anything is not exactly as a good bundle has it (a
line that does not parse, is not canonical, is out of order, breaks a chain, a leaf
that differs, a decoded.jsonl line that does not describe its event, ...) it raises
`Fallback`, and the caller runs the exact line-by-line check, which finds the first
problem and names its file, line and field as it always has. A line that is valid but
outside the fast path's common case (non-ASCII text, escapes the fast comparison cannot
vouch for, ...) is parsed the exact way (`record_from_line`) and checked like the rest.

Why each fast check is the exact one, for the lines it accepts:

* canonical line: the line is ASCII without DEL (0x7f), orjson parses it into the seven
  fields with the right types, and orjson.dumps(..., OPT_SORT_KEYS) gives the line back.
  For ASCII text without DEL, orjson and json.dumps(ensure_ascii=True) write every string
  the same way (both escape `"`, `\\` and the control characters alike); integers are
  written alike; orjson reads integers past 64 bits as floats, which the type checks
  refuse. The base64 fields decode (strict) and re-encode to the same text. So the line is
  what leaf_bytes() writes for the parsed record: canonical.
* chains: as ChainVerifier.add (required headers, key = ce_subject, cs_seq decimal and
  +1, cs_prev_hash = the case's last cs_hash, first cs_seq 1 has a zero prev, hex
  formats, cs_hash = sha256(prev || value)); a range of lines keeps, per case, its first
  and last link, and the ranges are joined in order.
* decoded.jsonl: each line parses with orjson (which accepts no text json.loads refuses)
  and ends with `,"offset":O,"partition":P,"topic":T}` written from its event; a valid
  JSON text that ends so is an object whose last (so effective) keys offset, partition,
  topic have those values.
"""

from __future__ import annotations

import gc
import hashlib
import mmap
import multiprocessing
import os
import threading
from binascii import a2b_base64 as _a2b
from binascii import b2a_base64 as _b2a
from binascii import hexlify as _hexlify
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from orjson import OPT_SORT_KEYS as _SK
from orjson import dumps as _dumps
from orjson import loads as _loads

from casectl.audit.chain import _DECIMAL, _HEX64, ZERO_HASH_HEX, CaseChain, ChainReport
from casectl.audit.merkle import HASH_SIZE, MerkleTree, build_levels
from casectl.audit.records import REQUIRED_HEADERS, RecordFormatError, canonical_json, record_from_line

# Below this many bytes of events.jsonl the check stays in one process.
PARALLEL_MIN_BYTES = 8 << 20
# At most this many worker processes (by default as many as there are CPUs to use).
MAX_WORKERS = 4
# The line ranges of the processes start at multiples of 2**ALIGN_BITS, so that each process
# can build the Merkle tree's levels up to ALIGN_BITS over its own leaves.
ALIGN_BITS = 12
# Lines are read in blocks of about this many bytes.
BLOCK_BYTES = 256 << 10
# Relative costs, per line, for sharing the work: checking an events.jsonl line with its
# decoded.jsonl line; hashing both files (sha256); finding a range's start from the end.
_COST_LINE, _COST_DIGESTS, _COST_FIND = 15.0, 1.6, 0.6

_REQUIRED = frozenset(REQUIRED_HEADERS)
_CHAIN_HEADERS = ("ce_subject", "cs_seq", "cs_prev_hash", "cs_hash")
# the four the chain uses, then the other required ones (KeyError if one is missing)
_REQUIRED_VALUES = itemgetter(*_CHAIN_HEADERS, *(h for h in REQUIRED_HEADERS if h not in _CHAIN_HEADERS))
_FIELDS = itemgetter("headers", "key_b64", "offset", "partition", "timestamp", "topic", "value_b64")
_TS_TYPES = frozenset((int, type(None)))
_sha256 = hashlib.sha256


class Fallback(Exception):
    """The fast check cannot vouch for the bundle: run the exact one (which names the problem)."""


@dataclass
class _EventsPart:
    """What one range of events.jsonl lines gives, to be joined with the others in order."""

    n: int = 0
    end: int = 0  # the byte just after the range
    leaves: bytes = b""  # n leaf hashes, 32 bytes each
    first: tuple[str, int, int] | None = None
    last: tuple[str, int, int] | None = None
    runs: list[list[Any]] = field(default_factory=list)  # [topic, partition, first_offset, last_offset, count]
    cases: dict[str, list[Any]] = field(default_factory=dict)  # case -> [first_seq, first_prev, last_seq, last_hash, keys]
    tails: list[bytes] = field(default_factory=list)  # per line: the tail its decoded.jsonl line must have
    records: list[tuple[str, int, int, str | None]] | None = None


@dataclass
class _Range:
    """One process's result: lines [line0, line0 + n) of events.jsonl and decoded.jsonl."""

    line0: int
    n: int
    ev_span: tuple[int, int]
    dec_span: tuple[int, int]
    levels: list[bytes]
    first: tuple[str, int, int] | None
    last: tuple[str, int, int] | None
    runs: list[list[Any]]
    cases: dict[str, list[Any]]
    records: list[tuple[str, int, int, str | None]] | None
    digests: dict[str, str]


@dataclass
class DataResult:
    tree: MerkleTree
    records: list[tuple[str, int, int, str | None]] | None
    report: ChainReport
    partitions: dict[str, dict[str, int]]
    digests: dict[str, str]  # file name -> sha256 hex
    workers: int


# --------------------------------------------------------------------------- one range of lines


def _exact_fields(line: bytes) -> tuple[str, int, int, dict[str, str], str | None, bytes]:
    """A line parsed the exact way (Fallback if it is not a valid record): topic, partition, offset,
    headers, key as canonical base64 (or None), value."""
    try:
        r = record_from_line(line, "event")
        hd: dict[str, str] = {}
        for k, v in r.headers:
            hd.setdefault(k, bytes(v).decode("utf-8"))
        kb = None if r.key is None else _b2a(r.key, newline=False).decode("ascii")
    except (RecordFormatError, ValueError):
        raise Fallback("line") from None
    return r.topic, r.partition, r.offset, hd, kb, r.value


def _link(cases: dict[str, list[Any]], hd: dict[str, str], kb: str | None) -> str:
    """ChainVerifier.add's checks of one record's headers and key, and its link to the case's last
    record in this range (Fallback if it breaks); returns its cs_prev_hash."""
    if not hd.keys() >= _REQUIRED:
        raise Fallback("headers")
    subj, seqs, prev, got = hd["ce_subject"], hd["cs_seq"], hd["cs_prev_hash"], hd["cs_hash"]
    try:
        want_kb = _b2a(subj.encode("utf-8"), newline=False).decode("ascii")
    except UnicodeError:
        raise Fallback("subject") from None
    if (kb is not None and kb != want_kb) or not _DECIMAL.fullmatch(seqs) or not _HEX64.fullmatch(prev) \
            or not _HEX64.fullmatch(got):
        raise Fallback("chain")
    seq = int(seqs)
    s = cases.get(subj)
    if s is None:
        if seq == 1 and prev != ZERO_HASH_HEX:
            raise Fallback("chain")
        cases[subj] = [seq, prev, seq, got, (None, want_kb)]
    else:
        if seq != s[2] + 1 or prev != s[3]:
            raise Fallback("chain")
        s[2], s[3] = seq, got
    return prev


def _tail_format(topic: str, partition: int) -> bytes:
    """`%`-format of the tail a decoded.jsonl line of this partition has, given the offset."""
    return (b',"offset":%d,"partition":' + str(partition).encode() + b',"topic":'
            + canonical_json(topic).replace(b"%", b"%%") + b"}")


class _Scan:
    """The running state of a range of events.jsonl lines."""

    def __init__(self, want_records: bool):
        self.n = 0
        self.leaves: list[bytes] = []
        self.tails: list[bytes] = []  # per line: the tail its decoded.jsonl line must end with
        self.cases: dict[str, list[Any]] = {}  # case -> [first_seq, first_prev, last_seq, last_hash, keys]
        self.runs: list[list[Any]] = []  # [topic, partition, first_offset, last_offset, count]
        self.first: tuple[str, int, int] | None = None
        self.last: tuple[str, int, int] | None = None
        self.records: list[tuple[str, int, int, str | None]] | None = [] if want_records else None


# The characters that can stand before "==" (resp. "=") in canonical base64: no bits left over.
_PAD2, _PAD1 = "AQgw", "AEIMQUYcgkosw048"


def b64_canonical(s: str) -> bool:
    """For a text that binascii.a2b_base64(strict_mode=True) decodes: is it what b2a_base64
    writes? (The strict decoder also takes bits left over in the last quantum, and padding after
    a whole quantum.) scan_events has this inline."""
    return not (len(s) & 3 or (s[-1:] == "=" and (s[-3] not in _PAD2 if s[-2] == "=" else s[-2] not in _PAD1)))


def _line_exact(st: _Scan, line: bytes) -> tuple[str, int, int, dict[str, str], str | None, bytes]:
    """One line parsed the exact way (for the few the fast way does not take)."""
    return _exact_fields(line)


def scan_events(buf: Any, start: int, want: int | None, want_records: bool) -> _EventsPart:
    """Check `want` events.jsonl lines (all, to the end, when None) from byte `start` (0 or just
    after a newline) on their own: canonical, in order, chains linked within the range; Fallback
    on anything else."""
    loads, dumps, SK, a2b, sha, unhex = _loads, _dumps, _SK, _a2b, _sha256, bytes.fromhex
    pad1, pad2, ts_types = _PAD1, _PAD2, _TS_TYPES
    st = _Scan(want_records)
    leaves: list[bytes] = []
    tails = st.tails
    add_leaf, add_tail = leaves.append, tails.append
    cases = st.cases
    get_case = cases.get
    runs = st.runs
    recs = st.records
    cur_topic: Any = None
    cur_part = -1
    last_off = -1
    run_at = 0
    tail_fmt = b""
    n = 0
    end = start
    for at, block in _blocks(buf, start):
        lines = block.split(b"\n")
        if lines.pop():
            raise Fallback("the last line has no newline")
        if want is not None and n + len(lines) >= want:
            del lines[want - n:]
            block = block[:_cut(block, len(lines))]
        end = at + len(block)
        plain = block.isascii() and b"\x7f" not in block
        for line in lines:
            # ---- the record's fields: the fast way when the line is plainly canonical
            try:
                o = loads(line)
                if not plain or len(o) != 7 or dumps(o, option=SK) != line:
                    raise ValueError
                hd, kb, off, p, ts, topic, vb = _FIELDS(o)  # (a dict with those 7 keys, or an error)
                # (vb is a str if a2b_base64 takes it; kb and topic are compared with strings below)
                if type(off) is not int or type(p) is not int or p < 0 or off < 0 or type(ts) not in ts_types:
                    raise ValueError
                subj, seqs, prev, got, _, _, _, _, _ = _REQUIRED_VALUES(hd)
                "".join(hd.values())  # every header value is a string (TypeError if not)
                value = a2b(vb, strict_mode=True)
                if len(vb) & 3 or (vb[-1:] == "=" and (vb[-3] not in pad2 if vb[-2] == "=" else vb[-2] not in pad1)):
                    raise ValueError  # not canonical base64 (see b64_canonical)
            except (ValueError, KeyError, TypeError, AttributeError):
                topic, p, off, hd, kb, value = _line_exact(st, line)
                subj = None
            # ---- order, and the partition's run
            if p == cur_part and topic == cur_topic:
                if off <= last_off:
                    raise Fallback("order")
            else:
                if type(topic) is not str:
                    raise Fallback("topic")
                n = len(leaves)
                if cur_topic is None:
                    st.first = (topic, p, off)
                else:
                    if (topic, p) < (cur_topic, cur_part):
                        raise Fallback("order")
                    _close_run(runs, cur_topic, cur_part, last_off, n - run_at)
                runs.append([topic, p, off, off, 0])
                cur_topic, cur_part, run_at = topic, p, n
                tail_fmt = _tail_format(topic, p)
            last_off = off
            # ---- the chain
            s = get_case(subj)
            if s is not None and seqs == str(s[2] + 1) and prev == s[3] and kb in s[4]:
                s[2] += 1
                s[3] = got
            else:
                prev = _link(cases, hd, kb)
                got = hd["cs_hash"]
            if sha(unhex(prev) + value).hexdigest() != got:
                raise Fallback("chain hash")
            # ---- leaf, decoded tail, record
            add_leaf(sha(b"\x00" + line).digest())
            add_tail(tail_fmt % off)
            if recs is not None:
                recs.append((topic, p, off, hd.get("ce_id")))
        n = len(leaves)
        if want is not None and n >= want:
            break
    n = len(leaves)
    if cur_topic is not None:
        _close_run(runs, cur_topic, cur_part, last_off, n - run_at)
        st.last = (cur_topic, cur_part, last_off)
    return _EventsPart(n=n, end=end, leaves=b"".join(leaves), first=st.first, last=st.last, runs=runs,
                       cases=cases, tails=tails, records=recs)


def _close_run(runs: list[list[Any]], topic: str, p: int, last_off: int, count: int) -> None:
    run = runs[-1]
    run[3], run[4] = last_off, count


def _blocks(buf: Any, start: int) -> Any:
    """buf[start:] as (offset, block) of whole lines (the last one may lack its newline at the end)."""
    end = len(buf)
    pos = start
    while pos < end:
        stop = min(pos + BLOCK_BYTES, end)
        if stop < end:
            cut = buf.rfind(b"\n", pos, stop)
            if cut < 0:
                cut = buf.find(b"\n", stop, end)
            stop = end if cut < 0 else cut + 1
        yield pos, buf[pos:stop]
        pos = stop


def _cut(block: bytes, lines: int) -> int:
    """The length of the first `lines` lines of block."""
    at = -1
    for _ in range(lines):
        at = block.find(b"\n", at + 1)
    return at + 1


def scan_decoded(buf: Any, start: int, tails: list[bytes]) -> tuple[int, int]:
    """Up to len(tails) decoded.jsonl lines from byte `start`: each is valid JSON and ends with its
    tail (Fallback if not). Returns how many lines were checked and the byte after them."""
    want = len(tails)
    n = 0
    end = start
    for at, block in _blocks(buf, start):
        lines = block.split(b"\n")
        if not lines[-1]:
            lines.pop()
        if n + len(lines) > want:
            del lines[want - n:]
            block = block[:_cut(block, len(lines))]
        end = at + len(block)
        try:
            deque(map(_loads, lines), 0)
        except ValueError:
            raise Fallback("decoded.jsonl: not valid JSON") from None
        if not all(map(bytes.endswith, lines, tails[n:n + len(lines)])):
            raise Fallback("decoded.jsonl does not describe events.jsonl")
        n += len(lines)
        if n >= want:
            break
    return n, end


# --------------------------------------------------------------------------- a process's range


def _range_start(buf: Any, back: int) -> int:
    """The byte where the line `back` lines before the end starts (the file ends with a newline)."""
    if back <= 0:
        return len(buf)
    if buf[-1:] != b"\n":
        raise Fallback("no newline at the end")
    rfind = buf.rfind
    pos = len(buf) - 1
    for _ in range(back):
        if pos < 0:
            raise Fallback("fewer lines than leaves.txt")
        pos = rfind(b"\n", 0, pos)
    return pos + 1


def _check_leaves_txt(lv: bytes, line0: int, hashes: bytes) -> None:
    """leaves.txt lines line0.. are the hex of `hashes`, one per line."""
    n = len(hashes) // HASH_SIZE
    part = lv[65 * line0:65 * (line0 + n)]
    if len(part) != 65 * n or part[64::65] != b"\n" * n or part.replace(b"\n", b"") != _hexlify(hashes):
        raise Fallback("leaves.txt")


def _digest_into(out: dict[str, str], items: Sequence[tuple[str, Any]]) -> None:
    for name, buf in items:
        out[name] = _sha256(buf).hexdigest()


def _do_range(ev: Any, dec: Any, lv: bytes, total: int, line0: int, line1: int | None, want_records: bool,
              digest_items: Sequence[tuple[str, Any]], levels_up_to: int | None) -> _Range:
    """Check lines [line0, line1) (to the end when line1 is None) of events.jsonl and decoded.jsonl,
    and their leaves.txt lines; `total` is the number of lines leaves.txt has."""
    digests: dict[str, str] = {}
    t = threading.Thread(target=_digest_into, args=(digests, digest_items), daemon=True) if digest_items else None
    if t is not None:
        t.start()
    gc_was = gc.isenabled()
    gc.disable()
    try:
        es = ds = 0
        if line0:
            es, ds = _range_start(ev, total - line0), _range_start(dec, total - line0)
        want = None if line1 is None else line1 - line0
        part = scan_events(ev, es, want, want_records)
        if want is not None and part.n != want:
            raise Fallback("fewer lines than leaves.txt")
        dn, de = scan_decoded(dec, ds, part.tails)
        if dn != part.n or (line1 is None and de != len(dec)):
            raise Fallback("decoded.jsonl has another number of lines")
        _check_leaves_txt(lv, line0, part.leaves)
        levels = build_levels(part.leaves, levels_up_to)
    finally:
        if gc_was:
            gc.enable()
        if t is not None:
            t.join()
    return _Range(line0, part.n, (es, part.end), (ds, de), levels, part.first, part.last, part.runs, part.cases,
                  part.records, digests)


def _tune_malloc() -> None:
    """In a worker process only: keep freed heap memory instead of giving it back to the system
    at once (glibc trims and unmaps eagerly, and the page faults of getting it back again cost
    more than the checks themselves here)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-1, 512 << 20)  # M_TRIM_THRESHOLD
        libc.mallopt(-2, 64 << 20)  # M_TOP_PAD
        libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc: no matter
        pass


def _child(conn: Any, *args: Any) -> None:
    try:
        _tune_malloc()
        res: Any = _do_range(*args)
    except BaseException as e:  # noqa: BLE001 - the parent falls back to the exact check
        res = ("fallback", f"{type(e).__name__}: {e}")
    try:
        conn.send(res)
    finally:
        conn.close()


# --------------------------------------------------------------------------- the whole files


def _map(f: Any) -> Any:
    if os.fstat(f.fileno()).st_size == 0:
        return b""
    return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _worker_count(events_size: int, workers: int | None) -> int:
    if workers is None:
        if events_size < PARALLEL_MIN_BYTES:
            return 1
        workers = min(_cpus(), MAX_WORKERS)
    if workers > 1 and ("fork" not in multiprocessing.get_all_start_methods()
                        or multiprocessing.current_process().daemon):  # a daemon may not have children
        return 1
    return max(1, workers)


def _split(total: int, k: int) -> list[int]:
    """The first lines of up to k ranges, multiples of 2**ALIGN_BITS, sized to even out the work:
    each range but the first also finds where it starts (reading back from the files' ends), and
    the last one also hashes the files."""
    align = 1 << ALIGN_BITS
    shares = [1.0] * k
    for _ in range(30):
        tot = sum(shares)
        work = []
        for i in range(k):
            rest = sum(shares[i:]) / tot  # the part of the files from this range's start to the end
            work.append(shares[i] / tot * _COST_LINE + (2 * rest * _COST_FIND if i else 0.0)
                        + (_COST_DIGESTS if i == k - 1 else 0.0))
        mean = sum(work) / k
        shares = [max(1e-3, sh * mean / w) for sh, w in zip(shares, work)]
    tot = sum(shares)
    out = [0]
    for i in range(1, k):
        at = round(sum(shares[:i]) / tot * total / align) * align
        if out[-1] < at < total:
            out.append(at)
    return out


def check_data(d: Path, events: str, decoded: str, leaves_name: str, *, want_records: bool,
               workers: int | None = None) -> DataResult:
    """The data files of bundle `d`, checked fast; raise Fallback on anything unusual.

    workers: how many processes (default: by the size of events.jsonl and the CPUs). With more
    than one, each range of lines is checked in a forked child and this process only joins."""
    with open(d / events, "rb") as fe, open(d / decoded, "rb") as fd, open(d / leaves_name, "rb") as fl:
        lv = fl.read()
        ev, dec = _map(fe), _map(fd)
        try:
            if len(lv) % 65:
                raise Fallback("leaves.txt")
            total = len(lv) // 65
            k = _worker_count(len(ev), workers)
            starts = _split(total, k) if k > 1 else [0]
            return _check_ranges(ev, dec, lv, total, starts, [(events, ev), (decoded, dec), (leaves_name, lv)],
                                 want_records)
        except Fallback:
            raise
        except Exception as e:  # anything unforeseen: the exact check decides
            raise Fallback(f"{type(e).__name__}: {e}") from e
        finally:
            for m in (ev, dec):
                if isinstance(m, mmap.mmap):
                    m.close()


def _check_ranges(ev: Any, dec: Any, lv: bytes, total: int, starts: list[int],
                  digest_items: list[tuple[str, Any]], want_records: bool) -> DataResult:
    k = len(starts)
    ends: list[int | None] = [*starts[1:], None]
    if k == 1:
        return _join([_do_range(ev, dec, lv, total, 0, None, want_records, digest_items, None)], total, None,
                      want_records)
    parts: list[Any] = [None] * k
    procs: list[tuple[int, Any, Any]] = []
    ctx = multiprocessing.get_context("fork")
    try:
        for i in range(k):
            r, w = ctx.Pipe(duplex=False)
            p = ctx.Process(target=_child, daemon=True, args=(
                w, ev, dec, lv, total, starts[i], ends[i], want_records,
                digest_items if i == k - 1 else (), ALIGN_BITS))
            p.start()
            w.close()
            procs.append((i, p, r))
        for i, _, r in procs:
            try:
                parts[i] = r.recv()
            except (EOFError, OSError):
                raise Fallback("a worker process ended without a result") from None
    finally:
        for i, p, r in procs:
            r.close()
            if parts[i] is None and p.is_alive():
                p.terminate()
            p.join()
    for res in parts:
        if not isinstance(res, _Range):
            raise Fallback(res[1] if isinstance(res, tuple) and len(res) == 2 else "worker")
    return _join(parts, total, ALIGN_BITS, want_records)


def _join(parts: list[_Range], total: int, up_to: int | None, want_records: bool) -> DataResult:
    # the ranges tile both files, line after line
    for a, b in zip(parts, parts[1:]):
        if a.ev_span[1] != b.ev_span[0] or a.dec_span[1] != b.dec_span[0] or a.line0 + a.n != b.line0:
            raise Fallback("ranges")
    if sum(p.n for p in parts) != total:
        raise Fallback("leaves.txt has another number of lines")
    digests: dict[str, str] = {}
    last: tuple[str, int, int] | None = None
    partitions: dict[str, dict[str, int]] = {}
    cases: dict[str, list[Any]] = {}
    for rg in parts:
        digests.update(rg.digests)
        if not rg.n:
            continue
        if last is not None and rg.first <= last:  # type: ignore[operator]
            raise Fallback("order")
        last = rg.last
        for topic, p, first_off, last_off, count in rg.runs:
            name = f"{topic}/{p}"
            pr = partitions.get(name)
            if pr is None:
                partitions[name] = {"first_offset": first_off, "last_offset": last_off, "count": count}
            else:  # the partition goes on from the range before (the order was checked)
                pr["last_offset"] = last_off
                pr["count"] += count
        for case, s in rg.cases.items():
            g = cases.get(case)
            if g is None:
                cases[case] = s
            else:
                if s[0] != g[2] + 1 or s[1] != g[3]:
                    raise Fallback("chain across ranges")
                g[2], g[3] = s[2], s[3]
    report = ChainReport(records=total)
    for case, (first_seq, first_prev, last_seq, last_hash, _) in cases.items():
        report.cases[case] = CaseChain(case, first_seq, last_seq, last_hash, last_seq - first_seq + 1, first_prev)
    if len(parts) == 1:
        tree = MerkleTree.from_levels(parts[0].levels)
    else:
        # every range but the last has a multiple of 2**up_to leaves: its levels 0..up_to are whole;
        # the last one's top node, if its levels stop lower, is promoted unchanged
        height = up_to + 1  # type: ignore[operator]
        for rg in parts:
            rg.levels += [rg.levels[-1]] * (height - len(rg.levels))
        tree = MerkleTree.from_levels([b"".join(rg.levels[j] for rg in parts) for j in range(height)])
    records = None
    if want_records:
        records = []
        for rg in parts:
            records += rg.records or []
    return DataResult(tree, records, report, partitions, digests, len(parts))
