"""Signed tree heads: the bundle's own, and auditor checkpoints.

Both are a small canonical text signed with raw Ed25519 (no pre-hashing), so
`openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin -in tree_head.txt
-sigfile tree_head.sig` checks them.

bundle tree head (tree_head.txt):        auditor checkpoint:
    casestream-audit-v1                      casestream-checkpoint-v1
    <tree_size>                              <origin, e.g. case.events.v1/3>
    <root hash, 64 lowercase hex>            <tree_size>
    <sha256 of manifest.json, hex>           <root hash, 64 lowercase hex>
(each line ends with a single \\n)
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

BUNDLE_MAGIC = "casestream-audit-v1"
CHECKPOINT_MAGIC = "casestream-checkpoint-v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SIZE = re.compile(r"0|[1-9][0-9]*")
_ORIGIN = re.compile(r"[\x21-\x7e]+")


class TreeHeadError(ValueError):
    """A malformed tree head or a bad signature."""


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: bytes
    manifest_sha256: str | None = None  # set for a bundle's tree head
    origin: str | None = None  # set for an auditor checkpoint

    def __post_init__(self) -> None:
        if self.tree_size < 0 or len(self.root_hash) != 32:
            raise TreeHeadError("tree size must be >= 0 and the root 32 bytes")
        if (self.manifest_sha256 is None) == (self.origin is None):
            raise TreeHeadError("a tree head has exactly one of manifest_sha256 (bundle) or origin (checkpoint)")
        if self.manifest_sha256 is not None and not _HEX64.fullmatch(self.manifest_sha256):
            raise TreeHeadError("manifest_sha256 must be 64 lowercase hex digits")
        if self.origin is not None and not _ORIGIN.fullmatch(self.origin):
            raise TreeHeadError("origin must be printable ASCII without spaces")

    def to_text(self) -> bytes:
        if self.origin is None:
            lines = [BUNDLE_MAGIC, str(self.tree_size), self.root_hash.hex(), self.manifest_sha256]
        else:
            lines = [CHECKPOINT_MAGIC, self.origin, str(self.tree_size), self.root_hash.hex()]
        return ("\n".join(lines) + "\n").encode("ascii")

    @classmethod
    def from_text(cls, data: bytes, where: str = "tree head") -> TreeHead:
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise TreeHeadError(f"{where}: not ASCII") from None
        if not text.endswith("\n"):
            raise TreeHeadError(f"{where}: must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) != 4:
            raise TreeHeadError(f"{where}: expected 4 lines, got {len(lines)}")
        if lines[0] == BUNDLE_MAGIC:
            size, root, man, origin = lines[1], lines[2], lines[3], None
        elif lines[0] == CHECKPOINT_MAGIC:
            origin, size, root, man = lines[1], lines[2], lines[3], None
        else:
            raise TreeHeadError(f"{where} line 1: unknown format {lines[0]!r}")
        if not _SIZE.fullmatch(size):
            raise TreeHeadError(f"{where}: tree size {size!r} is not a decimal number")
        if not _HEX64.fullmatch(root):
            raise TreeHeadError(f"{where}: root hash {root!r} is not 64 lowercase hex digits")
        try:
            head = cls(int(size), bytes.fromhex(root), man, origin)
        except TreeHeadError as e:
            raise TreeHeadError(f"{where}: {e}") from None
        if head.to_text() != data:
            raise TreeHeadError(f"{where}: not in canonical form")
        return head


@dataclass(frozen=True)
class SignedTreeHead:
    head: TreeHead
    signature: bytes
    consistency_proof: Sequence[bytes] = field(default_factory=tuple)  # optional, for checkpoints

    @property
    def tree_size(self) -> int:
        return self.head.tree_size

    @property
    def root_hash(self) -> bytes:
        return self.head.root_hash

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "tree_size": self.head.tree_size,
            "root_hash": self.head.root_hash.hex(),
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }
        if self.head.origin is not None:
            d["origin"] = self.head.origin
        if self.head.manifest_sha256 is not None:
            d["manifest_sha256"] = self.head.manifest_sha256
        if self.consistency_proof:
            d["consistency_proof"] = [h.hex() for h in self.consistency_proof]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SignedTreeHead:
        try:
            head = TreeHead(
                tree_size=int(d["tree_size"]),
                root_hash=bytes.fromhex(d["root_hash"]),
                manifest_sha256=d.get("manifest_sha256"),
                origin=d.get("origin"),
            )
            sig = d["signature"]
            sig = bytes.fromhex(sig) if re.fullmatch(r"[0-9a-f]{128}", sig) else base64.b64decode(sig, validate=True)
            proof = tuple(bytes.fromhex(h) for h in d.get("consistency_proof", ()))
        except (KeyError, ValueError, TypeError) as e:
            raise TreeHeadError(f"malformed signed tree head: {e!r}") from None
        return cls(head, sig, proof)


def sign_tree_head(key: Ed25519PrivateKey, head: TreeHead) -> SignedTreeHead:
    return SignedTreeHead(head, key.sign(head.to_text()))


def verify_tree_head(public_key: Ed25519PublicKey, sth: SignedTreeHead) -> None:
    """Raise TreeHeadError unless `sth` carries a valid Ed25519 signature by `public_key`."""
    if len(sth.signature) != 64:
        raise TreeHeadError(f"signature must be 64 bytes, got {len(sth.signature)}")
    try:
        public_key.verify(sth.signature, sth.head.to_text())
    except InvalidSignature:
        raise TreeHeadError("signature does not verify with the given public key") from None
