from __future__ import annotations

import json
import os
import shutil

import pytest

from casectl.audit import (
    BundleError,
    ChainError,
    Record,
    export_bundle,
    prove_consistency,
    prove_inclusion,
    verify_bundle,
)
from casectl.audit.keys import load_or_create_signing_key, public_key_pem
from casectl.audit.merkle import MerkleTree, verify_inclusion
from casectl.audit.treehead import TreeHead, sign_tree_head

EXPECTED_FILES = {"events.jsonl", "decoded.jsonl", "leaves.txt", "manifest.json", "tree_head.txt",
                  "tree_head.sig", "tree_head.json", "public_key.pem", "VERIFYING.md"}


def test_export_then_verify(tmp_path, records, key_path):
    res = export_bundle(records, tmp_path / "b", {"topic": "case.events.v1", "cases": "all"}, key_path,
                        decode=lambda v: {"size": len(v)}, tool_version="9.9")
    assert set(os.listdir(tmp_path / "b")) == EXPECTED_FILES
    v = verify_bundle(tmp_path / "b")
    assert v.ok and v.tree_size == len(records) == res.tree_size and v.root_hash == res.root_hash
    assert v.cases == 4 and v.partial_cases == []
    assert v.partitions["case.events.v1/0"] == {"first_offset": 0, "last_offset": 9, "count": 10}
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["tool_version"] == "9.9" and manifest["scope"]["cases"] == "all"
    decoded = [json.loads(x) for x in (tmp_path / "b" / "decoded.jsonl").read_text().splitlines()]
    assert decoded[0]["decoded"]["size"] > 0
    # trusted key: right one passes, another one is refused
    verify_bundle(tmp_path / "b", trusted_public_key=public_key_pem(load_or_create_signing_key(key_path)))
    with pytest.raises(BundleError, match="trusted key"):
        verify_bundle(tmp_path / "b", trusted_public_key="0" * 64)


def test_export_refuses_broken_chain_and_non_empty_dir(tmp_path, records, key_path, make_records):
    r = records[5]
    records[5] = Record(r.topic, r.partition, r.offset, r.timestamp, r.key, r.value + b"!", r.headers)
    with pytest.raises(ChainError, match="does not match sha256"):
        export_bundle(records, tmp_path / "b", {}, key_path)
    assert not (tmp_path / "b").exists()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x").write_text("x")
    with pytest.raises(FileExistsError):
        export_bundle(make_records(), tmp_path / "c", {}, key_path)


def test_prove_inclusion_by_id_and_position(tmp_path, records, key_path):
    export_bundle(records, tmp_path / "b", {}, key_path)
    for ident in ("evt-case-002-3", "0:4", "case.events.v1/1:7"):
        p = prove_inclusion(tmp_path / "b", ident)
        verify_inclusion(p.leaf_index, p.tree_size, bytes.fromhex(p.leaf_hash),
                         [bytes.fromhex(h) for h in p.audit_path], bytes.fromhex(p.root_hash))
    with pytest.raises(LookupError):
        prove_inclusion(tmp_path / "b", "no-such-event")


def test_prove_consistency_between_exports(tmp_path, key_path, make_records):
    full = [r for r in make_records(per_case=8) if r.partition == 0]
    export_bundle(full[:7], tmp_path / "old", {"until": 6}, key_path)
    export_bundle(full, tmp_path / "new", {"until": 15}, key_path)
    c = prove_consistency(tmp_path / "old", tmp_path / "new")
    assert (c.old_size, c.new_size) == (7, 16) and c.proof
    # an old bundle that is not a prefix of the new one
    export_bundle(make_records(cases=2, per_case=8, partitions=1)[:7], tmp_path / "other", {}, key_path)
    with pytest.raises(BundleError, match="not a prefix"):
        prove_consistency(tmp_path / "other", tmp_path / "new")


def test_partial_case_export_verifies(tmp_path, key_path, make_records):
    recs = [r for r in make_records(per_case=6) if r.partition == 1 and int(r.header("cs_seq")) > 2]
    export_bundle(recs, tmp_path / "b", {}, key_path)
    v = verify_bundle(tmp_path / "b")
    assert sorted(v.partial_cases) == ["case-001", "case-003"] and v.notes


def test_checkpoints(tmp_path, key_path, make_records):
    part0 = [r for r in make_records(per_case=6) if r.partition == 0]
    export_bundle(part0[:8], tmp_path / "b", {}, key_path)
    auditor = load_or_create_signing_key(tmp_path / "auditor.pem")
    tree = MerkleTree.from_data(__import__("casectl.audit.records", fromlist=["x"]).leaf_bytes(r) for r in part0)

    def cp(size, proof=()):
        sth = sign_tree_head(auditor, TreeHead(size, tree.root(size), origin="case.events.v1/0"))
        d = sth.to_dict()
        if proof:
            d["consistency_proof"] = [h.hex() for h in proof]
        return d

    pub = auditor.public_key()
    v = verify_bundle(tmp_path / "b", [cp(8), cp(5), cp(12, tree.consistency_proof(8, 12))],
                      checkpoint_public_key=pub)
    assert v.checkpoints_checked == 3
    with pytest.raises(BundleError, match="no consistency proof"):
        verify_bundle(tmp_path / "b", [cp(12)], checkpoint_public_key=pub)
    bad = cp(8)
    bad["root_hash"] = tree.root(7).hex()
    with pytest.raises(BundleError, match="checkpoint 0"):
        verify_bundle(tmp_path / "b", [bad], checkpoint_public_key=pub)
    with pytest.raises(BundleError, match="signature"):
        verify_bundle(tmp_path / "b", [cp(8)])  # signed by the auditor, not the bundle key
    other = dict(cp(8))
    other["origin"] = "case.events.v1/1"
    other = sign_tree_head(auditor, TreeHead(8, tree.root(8), origin="case.events.v1/1")).to_dict()
    with pytest.raises(BundleError, match="origin"):
        verify_bundle(tmp_path / "b", [other], checkpoint_public_key=pub)


def test_empty_export(tmp_path, key_path):
    export_bundle([], tmp_path / "b", {}, key_path)
    v = verify_bundle(tmp_path / "b")
    assert v.tree_size == 0 and v.root_hash == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
