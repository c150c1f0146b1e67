"""Audit against the live log: export a bundle from Kafka, and check a bundle's events
against the auditor's signed per-partition checkpoints.

Why per-event inclusion and not the bundle's own root: a bundle of one case (or one
account, or a time window) is not a prefix of any partition, so a checkpoint root can
never equal a bundle root. Instead each exported line must be the leaf at its position
in the partition tree that the auditor signed: we re-read the partition up to the
checkpoint's size, require its root to equal the signed root, and verify an RFC 6962
inclusion proof of every exported line against that signed root.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from casectl.audit import keys as keymod
from casectl.audit.bundle import EVENTS, PUBKEY, BundleError, VerifyResult, verify_bundle
from casectl.audit.merkle import MerkleTree, ProofError, leaf_hash, verify_inclusion
from casectl.audit.records import Record, leaf_bytes, record_from_line
from casectl.audit.treehead import SignedTreeHead, TreeHeadError, verify_tree_head
from casectl.auditor import latest_checkpoints


@dataclass(frozen=True)
class Selection:
    """Which records an export takes: one case, one account, or an append-time window."""

    case: str | None = None
    account: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def scope(self, topic: str) -> dict[str, Any]:
        s: dict[str, Any] = {"topic": topic}
        if self.case:
            s["case"] = self.case
        if self.account:
            s["account"] = self.account
        if self.since or self.until:
            s["append_time"] = {"since": self.since.isoformat() if self.since else None,
                                "until": self.until.isoformat() if self.until else None}
        return s

    def matches(self, r: Record) -> bool:
        if self.case is not None and r.key != self.case.encode():
            return False
        if self.since is not None or self.until is not None:
            # Append time, not event time: it rises with the offset, so a window keeps chains contiguous.
            ms = r.timestamp or 0
            if self.since is not None and ms < self.since.timestamp() * 1000:
                return False
            if self.until is not None and ms >= self.until.timestamp() * 1000:
                return False
        if self.account is not None:
            from casestream.envelope import decode

            if decode(r.value).account_id != self.account:
                return False
        return True


def select(records: Iterator[Record], sel: Selection) -> Iterator[Record]:
    return (r for r in records if sel.matches(r))


@dataclass
class CheckpointReport:
    checked: int = 0  # exported events proven included in a signed checkpoint
    not_yet_covered: int = 0  # exported events newer than the latest checkpoint of their partition
    checkpoints: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "not_yet_covered": self.not_yet_covered, "checkpoints": self.checkpoints}


def verify_with_checkpoints(
    bundle_dir: Path, checkpoint_docs: list[dict[str, Any]],
    read_partition: Callable[[str, int], Iterator[Record]], *,
    trusted_public_key: Any = None, checkpoint_public_key: bytes | None = None,
) -> tuple[VerifyResult, CheckpointReport]:
    """verify_bundle, then prove every exported event is in its partition's latest signed checkpoint.

    read_partition(topic, partition) yields the partition's committed records from offset 0.
    Raises BundleError on the first problem; events newer than every checkpoint are counted, not failed.
    """
    res = verify_bundle(bundle_dir, trusted_public_key=trusted_public_key)
    key = keymod.load_public_key_pem(checkpoint_public_key or (bundle_dir / PUBKEY).read_bytes())
    cps = latest_checkpoints(checkpoint_docs)
    by_partition: dict[tuple[str, int], list[tuple[int, int, bytes]]] = {}  # -> [(line, offset, leaf)]
    with open(bundle_dir / EVENTS, "rb") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip(b"\n")
            r = record_from_line(line, f"{EVENTS} line {n}")
            by_partition.setdefault((r.topic, r.partition), []).append((n, r.offset, leaf_hash(line)))
    rep = CheckpointReport()
    for (topic, partition), items in by_partition.items():
        origin = f"{topic}/{partition}"
        cp = cps.get(origin)
        if cp is None:
            raise BundleError(f"checkpoint {origin}", "no signed checkpoint for this partition on the audit topic")
        try:
            verify_tree_head(key, cp)
        except TreeHeadError as e:
            raise BundleError(f"checkpoint {origin}", str(e)) from None
        leaves: list[bytes] = []
        index_of: dict[int, int] = {}
        for r in read_partition(topic, partition):
            if len(leaves) >= cp.tree_size:
                break
            index_of[r.offset] = len(leaves)
            leaves.append(leaf_hash(leaf_bytes(r)))
        tree = MerkleTree(leaves)
        if tree.size != cp.tree_size or tree.root() != cp.root_hash:
            raise BundleError(f"checkpoint {origin}", f"the partition as read now (first {tree.size} records, root "
                              f"{tree.root().hex()}) is not what the auditor signed (size {cp.tree_size}, root "
                              f"{cp.root_hash.hex()}): the log was rewritten", field="root_hash")
        covered_to = max(index_of) if index_of else -1
        for n, offset, lh in items:
            if offset > covered_to:
                rep.not_yet_covered += 1
                continue
            i = index_of.get(offset)
            if i is None:
                raise BundleError(EVENTS, f"{origin}:{offset} is not a record of the partition", line=n)
            try:
                verify_inclusion(i, cp.tree_size, lh, tree.inclusion_proof(i), cp.root_hash)
            except ProofError as e:
                raise BundleError(EVENTS, f"{origin}:{offset} is not the record the auditor signed at leaf {i} "
                                  f"({e})", line=n) from None
            rep.checked += 1
        rep.checkpoints[origin] = {"tree_size": cp.tree_size, "root_hash": cp.root_hash.hex()}
    return res, rep


def parse_checkpoint_docs(values: Iterator[bytes]) -> list[dict[str, Any]]:
    out = []
    for v in values:
        try:
            d = json.loads(v)
            SignedTreeHead.from_dict(d)
        except (ValueError, TreeHeadError):
            continue  # not a checkpoint; the signature check decides about the rest
        out.append(d)
    return out
