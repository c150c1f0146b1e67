"""Audit core: RFC 6962 Merkle trees, hash-chain checks, signed bundles (no Kafka here)."""

from casectl.audit.bundle import (
    BundleError,
    ConsistencyResult,
    ExportResult,
    InclusionResult,
    VerifyResult,
    export_bundle,
    prove_consistency,
    prove_inclusion,
    verify_bundle,
)
from casectl.audit.chain import ChainError, ChainReport, verify_chains
from casectl.audit.keys import KeyFileError, load_or_create_signing_key, load_signing_key
from casectl.audit.records import Record
from casectl.audit.treehead import SignedTreeHead, TreeHead, TreeHeadError, sign_tree_head, verify_tree_head

__all__ = [
    "BundleError",
    "ChainError",
    "ChainReport",
    "ConsistencyResult",
    "ExportResult",
    "InclusionResult",
    "KeyFileError",
    "Record",
    "SignedTreeHead",
    "TreeHead",
    "TreeHeadError",
    "VerifyResult",
    "export_bundle",
    "load_or_create_signing_key",
    "load_signing_key",
    "prove_consistency",
    "prove_inclusion",
    "sign_tree_head",
    "verify_bundle",
    "verify_chains",
    "verify_tree_head",
]
