"""The per-case hash chain: cs_hash = sha256(prev_hash || value).

The value is the exact stored record value (a serialized CaseEvent); it is never
re-serialized for hashing, so anyone with sha256sum can check a chain.
"""

from __future__ import annotations

import hashlib

ZERO_HASH = bytes(32)
ZERO_HASH_HEX = ZERO_HASH.hex()


def link(prev_hash: bytes, value: bytes) -> bytes:
    """The hash of a record whose predecessor's hash is `prev_hash`."""
    if len(prev_hash) != 32:
        raise ValueError(f"prev_hash must be 32 bytes, got {len(prev_hash)}")
    return hashlib.sha256(prev_hash + value).digest()


def verify_link(prev_hash_hex: str, value: bytes, hash_hex: str) -> bool:
    """True when `hash_hex` is the chain hash of `value` after `prev_hash_hex`."""
    try:
        prev = bytes.fromhex(prev_hash_hex)
    except ValueError:
        return False
    return len(prev) == 32 and link(prev, value).hex() == hash_hex
