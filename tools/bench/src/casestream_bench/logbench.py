"""Replay, `log verify` and `audit verify` over a large case.events.v1-format topic.

The events are canonical records (envelope.build_event + seal, valid chains) produced
straight into a bench-only events topic: replay and the verifiers only read records,
they do not care who wrote them.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any, Iterator

from casestream import envelope

from casestream_bench import fastkafka, workloads


def produce_canonical(bootstrap: str, topic: str, partitions: int, n: int) -> dict[str, Any]:
    """Build + seal `n` canonical events and write them with aiokafka (acks=all); both phases timed."""
    t0 = time.perf_counter()
    size = 0
    recs = []
    for part, rec in workloads.canonical_records(n, partitions):
        size += len(rec.value)
        recs.append((part, rec.key, rec.value, rec.headers))
    t1 = time.perf_counter()
    fastkafka.produce(bootstrap, topic, recs)
    t2 = time.perf_counter()
    return {"events": n, "seconds": t2 - t0, "rate": n / (t2 - t0), "build_seal_rate": n / (t1 - t0),
            "produce_rate": n / (t2 - t1), "avg_value_bytes": size / max(1, n)}


# ----------------------------------------------------------------------------- replay


def replay(bootstrap: str, topic: str, store: Path) -> dict[str, Any]:
    """What `casectl replay` does (casectl.replay.rebuild: librdkafka scan, fresh SQLite store), whole topic."""
    from casectl.replay import rebuild

    t0 = time.perf_counter()
    res = rebuild(bootstrap, store, topic=topic)
    dt = time.perf_counter() - t0
    return {"events": res.events, "seconds": dt, "rate": res.events / dt, "cases": res.cases,
            "impl": "casectl.replay.rebuild (the command's own path)"}


def replay_casectl(bootstrap: str, topic: str, store: Path, limit: int) -> dict[str, Any]:
    """The same fold fed by aiokafka instead of librdkafka, first `limit` records, for comparison."""
    from casectl.projection import rebuild

    t0 = time.perf_counter()
    res = rebuild(itertools.islice(fastkafka.audit_records(bootstrap, topic), limit), store)
    dt = time.perf_counter() - t0
    return {"events": res.events, "seconds": dt, "rate": res.events / dt,
            "impl": "aiokafka records + casectl.projection.rebuild"}


# ----------------------------------------------------------------------------- log verify


def log_verify(bootstrap: str, topic: str, keep: int = 0) -> tuple[dict[str, Any], list[Any]]:
    """What `casectl log verify` does (casectl.replay.verify_log, librdkafka), whole topic; with `keep`,
    the first records are also kept for the audit stage (read with aiokafka on the side)."""
    if not keep:
        from casectl.replay import verify_log as command_verify

        t0 = time.perf_counter()
        rep = command_verify(bootstrap, topic=topic)
        dt = time.perf_counter() - t0
        if not rep.ok:
            raise RuntimeError(f"log verify failed: {rep.first_bad}")
        return ({"events": rep.records, "seconds": dt, "rate": rep.records / dt,
                 "impl": "casectl.replay.verify_log (the command's own path)"}, [])
    from casectl.logverify import verify_log

    kept: list[Any] = []

    def tee() -> Iterator[Any]:
        for r in fastkafka.audit_records(bootstrap, topic):
            if len(kept) < keep:
                kept.append(r)
            yield r

    t0 = time.perf_counter()
    rep = verify_log(tee())
    dt = time.perf_counter() - t0
    if not rep.ok:
        raise RuntimeError(f"log verify failed: {rep.first_bad}")
    return ({"events": rep.records, "seconds": dt, "rate": rep.records / dt, "cases": rep.cases,
             "impl": "casectl.logverify.verify_log fed by aiokafka"}, kept)


# ----------------------------------------------------------------------------- audit
_VERIFY_IN_CHILD = """
import json, sys, time
from casectl.audit import verify_bundle
t = time.perf_counter()
r = verify_bundle(sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - t, "ok": r.ok, "tree_size": r.tree_size, "root": r.root_hash}))
"""


def audit(records: list[Any], out_dir: Path, key_path: Path) -> dict[str, Any]:
    """Export in this process; verify in a fresh one, as `casectl audit verify` runs (the verifier
    forks workers, and a fork of this process, holding the records and the other stages' state,
    measured ~30% slower than the command). The time is taken inside the child, around
    verify_bundle alone."""
    import json
    import subprocess
    import sys

    from casectl.audit import export_bundle

    t0 = time.perf_counter()
    res = export_bundle(records, out_dir, {"bench": True}, signing_key_path=key_path, decode=envelope.decoded_view)
    t1 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _VERIFY_IN_CHILD, str(out_dir)], capture_output=True, text=True,
                         check=True).stdout
    ver = json.loads(out.strip().splitlines()[-1])
    n = res.tree_size
    assert ver["ok"] and ver["tree_size"] == n and ver["root"] == res.root_hash, ver
    dt = ver["seconds"]
    return {"events": n, "export_seconds": t1 - t0, "export_rate": n / (t1 - t0),
            "verify_seconds": dt, "rate": n / dt, "root": res.root_hash, "verify_impl": "verify_bundle in a fresh process"}
