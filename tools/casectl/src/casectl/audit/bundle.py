"""Audit bundles: export, verify, inclusion and consistency proofs.

A bundle is a directory:

    events.jsonl     one canonical JSON line per record (the Merkle leaf data)
    decoded.jsonl    line N: a decoded JSON view of events.jsonl line N (informative)
    leaves.txt       line N: hex SHA-256(0x00 || events.jsonl line N without its newline)
    manifest.json    format, tool, scope, counts, offsets per partition, cases, file digests
    tree_head.txt    the signed text: casestream-audit-v1 / tree size / root / sha256(manifest.json)
    tree_head.sig    raw 64-byte Ed25519 signature over tree_head.txt
    tree_head.json   the same tree head as JSON, for programs
    public_key.pem   the Ed25519 public key (trust its fingerprint out of band)
    VERIFYING.md     how to check all of this with openssl, sha256sum, sed, xxd and base64

Why the decoded view is a separate file: the Merkle leaves must depend on the
stored record alone, so that an auditor reading the topic (no decoder) computes
the same roots, and a later export with a newer decoder stays consistent with an
earlier one. decoded.jsonl is still bound: its sha256 is in the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from casectl import __version__
from casectl.audit import fastverify
from casectl.audit import keys as keymod
from casectl.audit.chain import ChainError, ChainReport, ChainVerifier
from casectl.audit.merkle import MerkleTree, ProofError, leaf_hash, verify_consistency, verify_inclusion
from casectl.audit.records import (
    Record,
    RecordFormatError,
    canonical_json,
    leaf_bytes,
    record_from_line,
    sort_key,
)
from casectl.audit.treehead import (
    SignedTreeHead,
    TreeHead,
    TreeHeadError,
    sign_tree_head,
    verify_tree_head,
)
from casectl.audit.verifying import render_verifying_md

FORMAT = "casestream-audit-bundle"
FORMAT_VERSION = 1
LEAF_HASH_ALGORITHM = "sha256(0x00 || events.jsonl line without its newline) (RFC 6962 leaf hash)"
TREE_HASH_ALGORITHM = "RFC 6962 Merkle Tree Hash over SHA-256 (node = sha256(0x01 || left || right))"

EVENTS, DECODED, LEAVES, MANIFEST = "events.jsonl", "decoded.jsonl", "leaves.txt", "manifest.json"
HEAD_TXT, HEAD_SIG, HEAD_JSON, PUBKEY, VERIFYING = (
    "tree_head.txt",
    "tree_head.sig",
    "tree_head.json",
    "public_key.pem",
    "VERIFYING.md",
)
BUNDLE_FILES = (EVENTS, DECODED, LEAVES, MANIFEST, HEAD_TXT, HEAD_SIG, HEAD_JSON, PUBKEY, VERIFYING)
_DIGEST_FIELDS = {
    EVENTS: "events_jsonl_sha256",
    DECODED: "decoded_jsonl_sha256",
    LEAVES: "leaves_txt_sha256",
    PUBKEY: "public_key_sha256",
}


class BundleError(Exception):
    """A bundle that does not verify: names the file, and the line or field when known."""

    def __init__(self, file: str, message: str, *, line: int | None = None, field: str | None = None):
        self.file, self.line, self.field, self.reason = file, line, field, message
        where = file + (f" line {line}" if line is not None else "") + (f" field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")


@dataclass
class ExportResult:
    out_dir: Path
    tree_size: int
    root_hash: str
    manifest_sha256: str
    public_key_sha256: str


@dataclass
class VerifyResult:
    ok: bool
    tree_size: int
    root_hash: str
    manifest_sha256: str
    public_key_sha256: str
    cases: int
    partial_cases: list[str]
    partitions: dict[str, dict[str, int]]
    checkpoints_checked: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class InclusionResult:
    event_id: str
    topic: str
    partition: int
    offset: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    audit_path: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ConsistencyResult:
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    proof: list[str]
    public_key_sha256: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _partition_name(topic: str, partition: int) -> str:
    return f"{topic}/{partition}"


# --------------------------------------------------------------------------- export


def export_bundle(
    records: Iterable[Record],
    out_dir: str | os.PathLike[str],
    scope: Mapping[str, Any],
    signing_key_path: str | os.PathLike[str] | None = None,
    decode: Callable[[bytes], Any] | None = None,
    tool_version: str = __version__,
    *,
    presorted: bool = False,
    created_at: datetime | None = None,
) -> ExportResult:
    """Write a signed bundle of `records` to `out_dir` (which must not exist, or be empty).

    Records are ordered by (topic, partition, offset); with presorted=True they are
    streamed and must already be in that order, otherwise they are sorted in memory.
    Every chain is verified first; a broken chain raises ChainError and writes nothing.
    """
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out}: exists and is not an empty directory")
    key = keymod.load_or_create_signing_key(signing_key_path)
    stream = records if presorted else sorted(records, key=sort_key)
    created = (created_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        chains = ChainVerifier()
        leaves: list[bytes] = []
        partitions: dict[str, dict[str, int]] = {}
        last: tuple[str, int, int] | None = None
        with open(tmp / EVENTS, "wb") as ev, open(tmp / DECODED, "wb") as dec, open(tmp / LEAVES, "wb") as lv:
            for r in stream:
                k = sort_key(r)
                if last is not None and k <= last:
                    raise ValueError(f"{r.where}: records out of order or repeated (after {last})")
                last = k
                chains.add(r)
                line = leaf_bytes(r)
                lh = leaf_hash(line)
                leaves.append(lh)
                ev.write(line + b"\n")
                lv.write(lh.hex().encode("ascii") + b"\n")
                dec.write(canonical_json(_decoded_view(r, decode)) + b"\n")
                p = partitions.setdefault(
                    _partition_name(r.topic, r.partition), {"first_offset": r.offset, "last_offset": r.offset, "count": 0}
                )
                p["last_offset"] = r.offset
                p["count"] += 1
        tree = MerkleTree(leaves)
        del leaves
        pub_pem = keymod.public_key_pem(key)
        (tmp / PUBKEY).write_bytes(pub_pem)
        manifest = _manifest(
            scope=dict(scope),
            tool_version=tool_version,
            created_at=created,
            tree_size=tree.size,
            partitions=partitions,
            report=chains.report,
            digests={field: _sha256_file(tmp / name) for name, field in _DIGEST_FIELDS.items()},
        )
        manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")
        (tmp / MANIFEST).write_bytes(manifest_bytes)
        manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
        head = TreeHead(tree.size, tree.root(), manifest_sha256=manifest_sha)
        sth = sign_tree_head(key, head)
        (tmp / HEAD_TXT).write_bytes(head.to_text())
        (tmp / HEAD_SIG).write_bytes(sth.signature)
        (tmp / HEAD_JSON).write_bytes(_head_json_bytes(head, sth.signature, manifest["public_key_sha256"]))
        (tmp / VERIFYING).write_text(
            render_verifying_md(manifest=manifest, head=head, example_case=_example_case(chains.report)),
            encoding="utf-8",
        )
        for name in BUNDLE_FILES:
            os.chmod(tmp / name, 0o644)
        os.chmod(tmp, 0o755)
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ExportResult(out, tree.size, head.root_hash.hex(), manifest_sha, manifest["public_key_sha256"])


def _head_json_bytes(head: TreeHead, signature: bytes, public_key_sha256: str) -> bytes:
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tree_size": head.tree_size,
        "root_hash": head.root_hash.hex(),
        "manifest_sha256": head.manifest_sha256,
        "signed_text": head.to_text().decode("ascii"),
        "signature_hex": signature.hex(),
        "signature_algorithm": "Ed25519 (RFC 8032) over the bytes of tree_head.txt",
        "public_key_sha256": public_key_sha256,
    }
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("ascii")


def _decoded_view(r: Record, decode: Callable[[bytes], Any] | None) -> dict[str, Any]:
    view: dict[str, Any] = {"topic": r.topic, "partition": r.partition, "offset": r.offset, "decoded": None}
    if decode is not None:
        try:
            view["decoded"] = decode(r.value)
            canonical_json(view)  # must be JSON-serialisable
        except Exception as e:  # the export must not fail on an undecodable value
            view["decoded"] = None
            view["decode_error"] = f"{type(e).__name__}: {e}"
    return view


def _example_case(report: ChainReport) -> dict[str, Any] | None:
    if not report.cases:
        return None
    c = next(iter(report.cases.values()))
    return {"case_id": c.case_id, "count": c.count, "anchor_prev_hash": c.anchor_prev_hash, "last_hash": c.last_hash,
            "first_seq": c.first_seq, "last_seq": c.last_seq}


def _manifest(*, scope, tool_version, created_at, tree_size, partitions, report, digests) -> dict[str, Any]:
    topics = sorted({name.rsplit("/", 1)[0] for name in partitions})
    origin = next(iter(partitions)) if len(partitions) == 1 else ",".join(topics)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tool": "casectl",
        "tool_version": tool_version,
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "scope": scope,
        "origin": origin,
        "tree_size": tree_size,
        "leaf_hash_algorithm": LEAF_HASH_ALGORITHM,
        "tree_hash_algorithm": TREE_HASH_ALGORITHM,
        "signature_algorithm": "Ed25519 over tree_head.txt",
        "chain": "cs_hash = sha256(bytes.fromhex(cs_prev_hash) + value); first cs_prev_hash = 64 zeros",
        "counts": {"events": tree_size, "cases": len(report.cases), "partitions": len(partitions)},
        "partitions": partitions,
        "cases": {
            c.case_id: {
                "first_seq": c.first_seq,
                "last_seq": c.last_seq,
                "count": c.count,
                "anchor_prev_hash": c.anchor_prev_hash,
                "last_hash": c.last_hash,
            }
            for c in report.cases.values()
        },
        **digests,
    }


# --------------------------------------------------------------------------- verify


@dataclass
class _Loaded:
    head: TreeHead
    signature: bytes
    public_key: Ed25519PublicKey
    public_key_sha256: str
    manifest: dict[str, Any]
    manifest_sha256: str
    tree: MerkleTree
    records: list[tuple[str, int, int, str | None]]  # (topic, partition, offset, ce_id) per leaf, if asked for
    report: ChainReport
    partitions: dict[str, dict[str, int]]


def _resolve_trusted(trusted: Any) -> str | None:
    """A trusted key as a public_key.pem sha256 fingerprint (hex)."""
    if trusted is None:
        return None
    if isinstance(trusted, Ed25519PublicKey):
        return keymod.public_key_fingerprint(trusted)
    if isinstance(trusted, bytes):
        return hashlib.sha256(trusted).hexdigest()
    if isinstance(trusted, str) and re.fullmatch(r"[0-9a-f]{64}", trusted):
        return trusted
    return hashlib.sha256(Path(trusted).read_bytes()).hexdigest()


def _load_and_verify(bundle_dir: Path, trusted_public_key: Any = None, *, want_records: bool = True,
                     workers: int | None = None) -> _Loaded:
    """Every check of a bundle; BundleError names the first problem. `records` is filled only with
    want_records (verify_bundle does not need it); `workers`: processes for the data files (default:
    by size and CPUs)."""
    d = Path(bundle_dir)
    for name in (EVENTS, DECODED, LEAVES, MANIFEST, HEAD_TXT, HEAD_SIG, HEAD_JSON, PUBKEY):
        if not (d / name).is_file():
            raise BundleError(name, "missing")

    # 1. key and signature over tree_head.txt
    pem = (d / PUBKEY).read_bytes()
    try:
        pub = keymod.load_public_key_pem(pem)
    except keymod.KeyFileError as e:
        raise BundleError(PUBKEY, str(e)) from None
    pub_sha = hashlib.sha256(pem).hexdigest()
    want_key = _resolve_trusted(trusted_public_key)
    if want_key is not None and want_key != pub_sha:
        raise BundleError(PUBKEY, f"key fingerprint {pub_sha} is not the trusted key {want_key}")
    head_bytes = (d / HEAD_TXT).read_bytes()
    try:
        head = TreeHead.from_text(head_bytes, HEAD_TXT)
    except TreeHeadError as e:
        raise BundleError(HEAD_TXT, str(e)) from None
    if head.manifest_sha256 is None:
        raise BundleError(HEAD_TXT, "is a checkpoint, not a bundle tree head", line=1)
    sig = (d / HEAD_SIG).read_bytes()
    try:
        verify_tree_head(pub, SignedTreeHead(head, sig))
    except TreeHeadError as e:
        raise BundleError(HEAD_SIG, f"{e} (over {HEAD_TXT})") from None

    # 2. tree_head.json must say exactly the same (it is not signed, so it must be derivable)
    hj_bytes = (d / HEAD_JSON).read_bytes()
    want_hj = _head_json_bytes(head, sig, pub_sha)
    if hj_bytes != want_hj:
        try:
            hj = json.loads(hj_bytes)
        except ValueError as e:
            raise BundleError(HEAD_JSON, f"not valid JSON ({e})") from None
        want = json.loads(want_hj)
        bad = sorted(k for k in set(want) | set(hj if isinstance(hj, dict) else {})
                     if not isinstance(hj, dict) or hj.get(k) != want.get(k))
        raise BundleError(HEAD_JSON, f"differs from {HEAD_TXT}/{HEAD_SIG}/{PUBKEY}"
                          + (f" in {', '.join(bad)}" if bad else " in its layout"),
                          field=bad[0] if bad else None)

    # 3. the manifest is bound by the signed tree head
    manifest_bytes = (d / MANIFEST).read_bytes()
    manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
    if manifest_sha != head.manifest_sha256:
        raise BundleError(
            MANIFEST, f"sha256 {manifest_sha} differs from the signed {head.manifest_sha256} ({HEAD_TXT} line 4)"
        )
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError as e:
        raise BundleError(MANIFEST, f"not valid JSON ({e})") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(MANIFEST, f"unsupported format {manifest.get('format')!r} {manifest.get('format_version')!r}")
    if manifest.get("public_key_sha256") != pub_sha:
        raise BundleError(MANIFEST, f"does not name this key ({pub_sha})", field="public_key_sha256")

    # 4. events: canonical lines, order, chains, leaves (and 7a. decoded.jsonl, and the data files' digests)
    #    The fast check vouches for all of these on a good bundle; on anything unusual it says Fallback
    #    and the exact line-by-line check runs, which names the first problem.
    try:
        data = fastverify.check_data(d, EVENTS, DECODED, LEAVES, want_records=want_records, workers=workers)
    except fastverify.Fallback:
        data = None
    if data is not None:
        tree, recs, report, partitions = data.tree, data.records or [], data.report, data.partitions
        digests = data.digests
    else:
        leaves, recs, report, partitions = _check_events_exact(d)
        tree = MerkleTree(leaves)
        del leaves
        digests = {}

    # 5. the tree
    if tree.size != head.tree_size:
        raise BundleError(EVENTS, f"has {tree.size} events, the signed tree size is {head.tree_size}")
    if tree.root() != head.root_hash:
        raise BundleError(EVENTS, f"Merkle root {tree.root().hex()} differs from the signed {head.root_hash.hex()}")

    # 6. the manifest's numbers
    checks: list[tuple[str, Any, Any]] = [
        ("tree_size", manifest.get("tree_size"), tree.size),
        ("counts", manifest.get("counts"), {"events": tree.size, "cases": len(report.cases), "partitions": len(partitions)}),
        ("partitions", manifest.get("partitions"), partitions),
    ]
    cases = {
        c.case_id: {"first_seq": c.first_seq, "last_seq": c.last_seq, "count": c.count,
                     "anchor_prev_hash": c.anchor_prev_hash, "last_hash": c.last_hash}
        for c in report.cases.values()
    }
    checks.append(("cases", manifest.get("cases"), cases))
    for name, got, want in checks:
        if got != want:
            raise BundleError(MANIFEST, f"says {got!r}, the events give {want!r}", field=name)

    # 7. decoded.jsonl lines match the events; and every file digest
    if data is None:
        _check_decoded_exact(d, recs)
    for name, fld in _DIGEST_FIELDS.items():
        got = digests.get(name) or (pub_sha if name == PUBKEY else _sha256_file(d / name))
        if manifest.get(fld) != got:
            raise BundleError(MANIFEST, f"{name} has sha256 {got}, the manifest says {manifest.get(fld)!r}", field=fld)

    return _Loaded(head, sig, pub, pub_sha, manifest, manifest_sha, tree, recs, report, partitions)


def _check_events_exact(
    d: Path,
) -> tuple[list[bytes], list[tuple[str, int, int, str | None]], ChainReport, dict[str, dict[str, int]]]:
    """Step 4 line by line, the exact way: raises BundleError at the first bad line."""
    chains = ChainVerifier()
    leaves: list[bytes] = []
    recs: list[tuple[str, int, int, str | None]] = []
    partitions: dict[str, dict[str, int]] = {}
    last: tuple[str, int, int] | None = None
    with open(d / EVENTS, "rb") as ev, open(d / LEAVES, "rb") as lv:
        for n, raw in enumerate(ev, 1):
            if not raw.endswith(b"\n"):
                raise BundleError(EVENTS, "last line has no newline", line=n)
            line = raw[:-1]
            try:
                r = record_from_line(line, "event")
            except RecordFormatError as e:
                raise BundleError(EVENTS, str(e), line=n) from None
            k = sort_key(r)
            if last is not None and k <= last:
                raise BundleError(EVENTS, f"{r.where} is out of order or repeated (after {last})", line=n)
            last = k
            try:
                chains.add(r)
            except ChainError as e:
                raise BundleError(EVENTS, str(e), line=n) from None
            lh = leaf_hash(line)
            want = lv.readline()
            if want != lh.hex().encode("ascii") + b"\n":
                raise BundleError(
                    LEAVES, f"leaf hash {want.strip()[:64]!r} differs from the hash of {EVENTS} line {n} ({lh.hex()})",
                    line=n,
                )
            leaves.append(lh)
            recs.append((r.topic, r.partition, r.offset, r.header("ce_id")))
            p = partitions.setdefault(
                _partition_name(r.topic, r.partition), {"first_offset": r.offset, "last_offset": r.offset, "count": 0}
            )
            p["last_offset"] = r.offset
            p["count"] += 1
        extra = lv.readline()
        if extra:
            raise BundleError(LEAVES, f"has more lines than {EVENTS} ({len(leaves)})", line=len(leaves) + 1)
    return leaves, recs, chains.report, partitions


def _check_decoded_exact(d: Path, recs: list[tuple[str, int, int, str | None]]) -> None:
    """Step 7's decoded.jsonl check, the exact way."""
    with open(d / DECODED, "rb") as f:
        n = 0
        for n, raw in enumerate(f, 1):
            try:
                obj = json.loads(raw)
            except ValueError as e:
                raise BundleError(DECODED, f"not valid JSON ({e})", line=n) from None
            if n > len(recs) or not isinstance(obj, dict) or (obj.get("topic"), obj.get("partition"), obj.get("offset")) != recs[n - 1][:3]:
                raise BundleError(DECODED, f"does not describe {EVENTS} line {n}", line=n)
        if n != len(recs):
            raise BundleError(DECODED, f"has {n} lines, {EVENTS} has {len(recs)}")


def verify_bundle(
    bundle_dir: str | os.PathLike[str],
    checkpoints: Sequence[SignedTreeHead | Mapping[str, Any]] | None = None,
    *,
    trusted_public_key: Any = None,
    checkpoint_public_key: Ed25519PublicKey | bytes | None = None,
) -> VerifyResult:
    """Verify everything in a bundle; raise BundleError naming the first problem.

    trusted_public_key: the key the bundle must be signed with (Ed25519PublicKey,
    PEM bytes, a path to a PEM file, or the sha256 hex of public_key.pem). Without
    it the bundle's own key is used and its fingerprint is returned: compare it with
    the one published out of band.

    checkpoints: published signed tree heads (SignedTreeHead or their dicts), signed
    with checkpoint_public_key (default: the bundle's key). A checkpoint of size m <=
    tree size must equal the root of the bundle's first m leaves; a larger one must
    carry a consistency proof from the bundle's tree to it.
    """
    b = _load_and_verify(Path(bundle_dir), trusted_public_key, want_records=False)
    result = VerifyResult(
        ok=True,
        tree_size=b.tree.size,
        root_hash=b.head.root_hash.hex(),
        manifest_sha256=b.manifest_sha256,
        public_key_sha256=b.public_key_sha256,
        cases=len(b.report.cases),
        partial_cases=b.report.partial_cases,
        partitions=b.partitions,
    )
    if b.report.partial_cases:
        result.notes.append(
            f"{len(b.report.partial_cases)} case(s) start part-way (first cs_seq > 1); their chains are anchored "
            "at the first record's cs_prev_hash"
        )
    if checkpoints:
        cp_key = b.public_key
        if isinstance(checkpoint_public_key, bytes):
            cp_key = keymod.load_public_key_pem(checkpoint_public_key)
        elif checkpoint_public_key is not None:
            cp_key = checkpoint_public_key
        for i, cp in enumerate(checkpoints):
            _check_checkpoint(b, cp if isinstance(cp, SignedTreeHead) else SignedTreeHead.from_dict(cp), cp_key, i)
            result.checkpoints_checked += 1
    return result


def _check_checkpoint(b: _Loaded, cp: SignedTreeHead, key: Ed25519PublicKey, i: int) -> None:
    where = f"checkpoint {i}"
    try:
        verify_tree_head(key, cp)
    except TreeHeadError as e:
        raise BundleError(where, str(e)) from None
    origin = cp.head.origin
    if origin is not None and origin != b.manifest.get("origin"):
        raise BundleError(where, f"is for {origin!r}, the bundle covers {b.manifest.get('origin')!r}", field="origin")
    m, n = cp.tree_size, b.tree.size
    if m <= n:
        got = b.tree.root(m)
        if got != cp.root_hash:
            raise BundleError(
                where, f"root {cp.root_hash.hex()} of size {m} differs from the bundle's first {m} leaves ({got.hex()})",
                field="root_hash",
            )
        return
    if not cp.consistency_proof:
        raise BundleError(where, f"size {m} is beyond the bundle ({n}) and carries no consistency proof")
    try:
        verify_consistency(n, m, cp.consistency_proof, b.tree.root(), cp.root_hash)
    except ProofError as e:
        raise BundleError(where, f"consistency from the bundle (size {n}) to size {m}: {e}", field="consistency_proof") from None


# --------------------------------------------------------------------------- proofs

_POSITION = re.compile(r"(?:(?P<topic>.+)/)?(?P<partition>\d+):(?P<offset>\d+)")


def prove_inclusion(
    bundle_dir: str | os.PathLike[str], event_id: str, *, trusted_public_key: Any = None
) -> InclusionResult:
    """An audit path for one event (by ce_id, `partition:offset` or `topic/partition:offset`)."""
    b = _load_and_verify(Path(bundle_dir), trusted_public_key)
    m = _POSITION.fullmatch(event_id)
    if m:
        want = (int(m["partition"]), int(m["offset"]))
        hits = [i for i, r in enumerate(b.records) if (r[1], r[2]) == want and m["topic"] in (None, r[0])]
    else:
        hits = [i for i, r in enumerate(b.records) if r[3] == event_id]
    if not hits:
        raise LookupError(f"no event {event_id!r} in {bundle_dir}")
    if len(hits) > 1:
        raise LookupError(f"{event_id!r} matches {len(hits)} events; use topic/partition:offset")
    i = hits[0]
    path = b.tree.inclusion_proof(i)
    root, leaf = b.tree.root(), b.tree.leaf(i)
    verify_inclusion(i, b.tree.size, leaf, path, root)
    topic, partition, offset, _ = b.records[i]
    return InclusionResult(event_id, topic, partition, offset, i, b.tree.size, leaf.hex(), root.hex(),
                           [h.hex() for h in path])


def prove_consistency(
    old_dir: str | os.PathLike[str],
    new_dir: str | os.PathLike[str],
    *,
    trusted_public_key: Any = None,
    allow_key_change: bool = False,
) -> ConsistencyResult:
    """Show that the later bundle extends the earlier one; raise BundleError/ProofError if not."""
    old = _load_and_verify(Path(old_dir), trusted_public_key)
    new = _load_and_verify(Path(new_dir), trusted_public_key)
    if old.public_key_sha256 != new.public_key_sha256 and not allow_key_change:
        raise BundleError(PUBKEY, f"the bundles are signed by different keys ({old.public_key_sha256} vs "
                                  f"{new.public_key_sha256})")
    m, n = old.tree.size, new.tree.size
    if m > n:
        raise BundleError(EVENTS, f"the old bundle ({m} events) is larger than the new one ({n})")
    for i in range(m):
        if old.tree.leaf(i) != new.tree.leaf(i):
            t, p, o, _ = old.records[i]
            raise BundleError(
                EVENTS, f"the old bundle's event {t}/{p}:{o} is not the new bundle's line {i + 1} "
                        f"({'/'.join(map(str, new.records[i][:2]))}:{new.records[i][2]}): not a prefix",
                line=i + 1,
            )
    proof = new.tree.consistency_proof(m)
    verify_consistency(m, n, proof, old.tree.root(), new.tree.root())
    return ConsistencyResult(m, n, old.tree.root().hex(), new.tree.root().hex(), [h.hex() for h in proof],
                             new.public_key_sha256)
