"""Every single-byte change to a bundle is detected, by casectl and by VERIFYING.md's shell steps."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casectl.audit import BundleError, export_bundle, verify_bundle

SIGNED_FILES = ["events.jsonl", "manifest.json", "tree_head.txt", "tree_head.sig", "tree_head.json",
                "leaves.txt", "decoded.jsonl", "public_key.pem"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, make_records) -> Path:
    d = tmp_path_factory.mktemp("audit")
    export_bundle(make_records(), d / "b", {"topic": "case.events.v1"}, d / "key.pem",
                  decode=lambda v: {"len": len(v)})
    return d / "b"


def flip(path: Path, pos: int, mask: int) -> None:
    data = bytearray(path.read_bytes())
    data[pos % len(data)] ^= mask
    path.write_bytes(bytes(data))


def _field_span(data: bytes, name: bytes) -> list[int]:
    """Byte positions of the values of JSON field `name` in every events.jsonl line."""
    return [m.start(1) + i for m in re.finditer(rb'"' + name + rb'":"([^"]*)"', data) for i in range(len(m[1]))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=st.sampled_from(SIGNED_FILES), pos=st.integers(0, 1 << 20), mask=st.integers(1, 255))
def test_any_flip_is_detected(bundle, tmp_path_factory, file, pos, mask):
    work = tmp_path_factory.mktemp("t") / "b"
    shutil.copytree(bundle, work)
    flip(work / file, pos, mask)
    with pytest.raises(BundleError):
        verify_bundle(work)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from([b"value_b64", b"ce_type", b"ce_id", b"cs_seq", b"cs_hash", b"ce_time"]),
       pick=st.integers(0, 1 << 16), mask=st.integers(1, 255))
def test_flips_in_values_and_headers_name_the_line(bundle, tmp_path_factory, target, pick, mask):
    work = tmp_path_factory.mktemp("t") / "b"
    shutil.copytree(bundle, work)
    data = (work / "events.jsonl").read_bytes()
    positions = _field_span(data, target)
    pos = positions[pick % len(positions)]
    flip(work / "events.jsonl", pos, mask)
    line = data.count(b"\n", 0, pos) + 1
    with pytest.raises(BundleError) as e:
        verify_bundle(work)
    assert e.value.file in ("events.jsonl", "leaves.txt") and e.value.line == line, str(e.value)


# ---------------------------------------------------------------- VERIFYING.md, literally


def shell_blocks(bundle_dir: Path) -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", (bundle_dir / "VERIFYING.md").read_text(), re.S)
    assert len(blocks) == 5
    return blocks


def run_blocks(bundle_dir: Path) -> list[subprocess.CompletedProcess]:
    return [subprocess.run(["bash", "-c", b], cwd=bundle_dir, capture_output=True, text=True, timeout=300)
            for b in shell_blocks(bundle_dir)]


def test_verifying_md_shell_steps_pass(bundle):
    text = (bundle / "VERIFYING.md").read_text()
    assert "python" not in text.lower() and "jq" not in text.split()
    results = run_blocks(bundle)
    for r in results:
        assert r.returncode == 0, r.stdout + r.stderr
        assert "FAIL" not in r.stdout
    out = "".join(r.stdout for r in results)
    assert "Signature Verified Successfully" in out and "OK Merkle root" in out and "OK chain of case-000" in out


@pytest.mark.parametrize("file", ["events.jsonl", "manifest.json", "tree_head.txt", "tree_head.sig", "leaves.txt"])
def test_verifying_md_shell_steps_fail_on_tamper(bundle, tmp_path, file):
    work = tmp_path / "b"
    shutil.copytree(bundle, work)
    data = (work / file).read_bytes()
    pos = _field_span(data, b"value_b64")[3] if file == "events.jsonl" else len(data) // 2
    flip(work / file, pos, 0x01)
    results = run_blocks(work)
    assert any(r.returncode != 0 for r in results), [r.stdout for r in results]


def test_verifying_md_detects_a_resigned_forgery_only_by_key(bundle, tmp_path, make_records):
    """Re-exporting altered data with another key passes the self-consistency steps;
    only the key fingerprint (published out of band) tells them apart."""
    work = tmp_path / "b"
    export_bundle(make_records(cases=3), work, {"topic": "case.events.v1"}, tmp_path / "other.pem")
    assert all(r.returncode == 0 for r in run_blocks(work))
    assert (work / "public_key.pem").read_bytes() != (bundle / "public_key.pem").read_bytes()
