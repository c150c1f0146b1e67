"""`make bench`: one run, its own topic namespace and intake process; every figure is also
a ratio to the raw kafka-python produce rate measured in the same run."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from casestream import kafka as cskafka, topics

from casestream_bench import logbench, stages

console = Console(width=200)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="casestream_bench", description=__doc__)
    p.add_argument("--bootstrap", default=os.environ.get("CASESTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    p.add_argument("--partitions", type=int, default=3)
    p.add_argument("--events", type=int, default=1_000_000, help="events for replay / log verify (default 1M)")
    p.add_argument("--audit-events", type=int, default=200_000, help="events in the audit export (default 200k)")
    p.add_argument("--kp-sample", type=int, default=50_000, help="events replayed with kafka-python for comparison")
    p.add_argument("--limit-records", type=int, default=200_000, help="1 KiB records for the raw produce rate")
    p.add_argument("--inbound", type=int, default=20_000, help="pre-loaded inbound events for sequencing")
    p.add_argument("--accounts", type=int, default=2_000)
    p.add_argument("--rate", type=float, default=2000.0, help="submit rate for the latency test (events/s)")
    p.add_argument("--qps", type=float, default=2000.0, help="GetCase rate (calls/s)")
    p.add_argument("--seconds", type=float, default=10.0, help="duration of each paced test")
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run (100k events)")
    p.add_argument("--only", default="", help="comma list of stages: limit,sequencing,latency,grpc,replay,verify,audit")
    p.add_argument("--keep-topics", action="store_true",
                   help="keep the run's topics (by default they are deleted: a broker slows down as thousands pile up)")
    p.add_argument("--out", default=os.environ.get("CASESTREAM_RUN_DIR", ".run"), help="run dir (JSON under bench/)")
    a = p.parse_args(argv)
    if a.quick:
        a.events = min(a.events, 100_000)
        a.kp_sample = min(a.kp_sample, 20_000)
        a.audit_events = min(a.audit_events, 50_000)
        a.limit_records = min(a.limit_records, 50_000)
        a.inbound = min(a.inbound, 5_000)
        a.accounts = min(a.accounts, 500)
        a.seconds = min(a.seconds, 5.0)
    return a


TARGETS = {  # figure -> (key, comparator, threshold, unit)
    "sequencing": ("ratio", ">=", 0.50, "of limit"),
    "latency": ("p99_ms", "<=", 50.0, "ms"),
    "replay": ("rate", ">=", 100_000, "ev/s"),
    "audit": ("rate", ">=", 200_000, "ev/s"),
    "grpc": ("p99_ms", "<=", 5.0, "ms"),
}


def verdict(name: str, fig: dict[str, Any]) -> str:
    t = TARGETS.get(name)
    if t is None or "error" in fig:
        return "-" if "error" not in fig else "ERROR"
    key, op, thr, _ = t
    v = fig.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "MISS"
    ok = v >= thr if op == ">=" else v <= thr
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> None:
    a = parse_args(argv)
    only = set(filter(None, a.only.split(",")))
    want = (lambda s: not only or s in only)
    ts = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    ns = f"bench-{ts}."
    run_root = Path(a.out).resolve()
    out_dir = run_root / "bench"
    work = out_dir / ts
    work.mkdir(parents=True, exist_ok=True)
    env = {"CASESTREAM_KAFKA_BOOTSTRAP": a.bootstrap, "CASESTREAM_TOPIC_NAMESPACE": ns,
           "CASESTREAM_LOG_LEVEL": "WARNING", "CASESTREAM_CLOCK": "wall",
           "CASESTREAM_SEQUENCERS": str(a.partitions)}  # one sequencer per partition, for throughput
    os.environ.update(env)
    inbound, events = ns + "case.inbound.v1", ns + "case.events.v1"
    scratch, log_topic = ns + "bench.scratch", ns + "bench.events.v1"
    figures: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()

    def stage(name: str, title: str):
        def deco(fn):
            if not want(name) and not (name == "produce_log" and only & {"replay", "replay_kp", "verify", "audit"}):
                return None
            console.print(f"[bold cyan]>[/] {title}")
            t = time.perf_counter()
            try:
                figures[name] = fn()
            except Exception as e:  # one failed stage must not lose the others
                figures[name] = {"error": f"{type(e).__name__}: {e}"}
                console.print(f"[red]  failed:[/] {e}\n{traceback.format_exc()}")
            figures.setdefault(name, {})["stage_seconds"] = round(time.perf_counter() - t, 2)
            return None
        return deco

    cskafka.wait_for_broker(a.bootstrap)
    topics.ensure_topics(a.bootstrap, a.partitions, namespace=ns)
    stages.set_log_append_time(a.bootstrap, events)
    console.print(f"namespace [bold]{ns}[/]  partitions {a.partitions}  work dir {work}")

    @stage("limit", f"raw produce: {a.limit_records:,} x 1 KiB, acks=all, kafka-python")
    def _():
        stages.create_topic(a.bootstrap, scratch, a.partitions)
        return stages.raw_produce(a.bootstrap, scratch, a.partitions, a.limit_records)

    intake: stages.Intake | None = None
    case_ids: list[str] = []
    try:
        @stage("sequencing", f"sequencing: {a.inbound:,} pre-loaded inbound events, {a.accounts:,} accounts")
        def _():
            nonlocal intake
            preload = stages.preload_inbound(a.bootstrap, inbound, f"seq-{ts}", a.inbound, a.accounts)
            expected = a.inbound + a.accounts  # every account's first contact opens a case
            t_start = time.perf_counter()
            intake = stages.Intake(work, env).start()
            # end offsets count transaction markers too, so they only say when to start reading
            deadline = time.monotonic() + max(120.0, a.inbound / 200)
            stages.wait_total(a.bootstrap, events, expected, timeout=max(120.0, a.inbound / 200))
            while True:
                ids: set[str] = set()
                n, lo, hi = stages.read_events(a.bootstrap, events, None, lambda r: ids.add(r.key.decode()))
                if n >= expected or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            got = n
            wall = time.perf_counter() - t_start
            case_ids.extend(sorted(ids))
            span = max(1e-3, (hi - lo) / 1000.0)
            return {"inbound": a.inbound, "appended": n, "expected": expected, "complete": got >= expected,
                    "first_to_last_s": span, "rate_appends": n / span, "rate": a.inbound / span,
                    "preload_seconds": preload, "start_to_done_wall_s": wall}

        if intake is None and (want("latency") or want("grpc")):
            intake = stages.Intake(work, env).start()
        if intake is not None:
            intake.wait_serving()

        @stage("latency", f"submit-to-sequenced latency at {a.rate:,.0f} events/s for {a.seconds:.0f} s")
        def _():
            return stages.submit_latency(a.bootstrap, inbound, events, f"lat-{ts}", a.accounts, a.rate, a.seconds)

        @stage("grpc", f"gRPC GetCase at {a.qps:,.0f} QPS for {a.seconds:.0f} s")
        def _():
            ids = case_ids
            if not ids:
                found: set[str] = set()
                stages.read_events(a.bootstrap, events, None, lambda r: found.add(r.key.decode()))
                if not found:  # run alone (--only grpc): open one case per account first
                    stages.preload_inbound(a.bootstrap, inbound, f"grpc-{ts}", a.accounts, a.accounts)
                    deadline = time.monotonic() + 120
                    while len(found) < a.accounts and time.monotonic() < deadline:
                        time.sleep(0.5)
                        stages.read_events(a.bootstrap, events, None, lambda r: found.add(r.key.decode()))
                    _wait_projection(intake.addr, sorted(found))
                ids = sorted(found)
            if not ids:
                raise RuntimeError("no cases to read")
            return stages.grpc_getcase(intake.addr, ids, a.qps, a.seconds)
    finally:
        if intake is not None:
            intake.stop()

    kept: list[Any] = []
    if want("replay") or want("replay_kp") or want("verify") or want("audit"):
        stages.create_topic(a.bootstrap, log_topic, a.partitions, topics.TOPIC_CONFIGS[topics.EVENTS])

        @stage("produce_log", f"writing {a.events:,} canonical events (build_event + seal) into {log_topic}")
        def _():
            return logbench.produce_canonical(a.bootstrap, log_topic, a.partitions, a.events)

    @stage("replay", f"replay {a.events:,} events from offset zero into a fresh projection")
    def _():
        try:
            return logbench.replay(a.bootstrap, log_topic, work / "replay.sqlite")
        finally:
            (work / "replay.sqlite").unlink(missing_ok=True)

    @stage("replay_kp", f"the same fold fed by aiokafka over the first {a.kp_sample:,} events, for comparison")
    def _():
        try:
            return logbench.replay_casectl(a.bootstrap, log_topic, work / "replay-kp.sqlite", a.kp_sample)
        finally:
            (work / "replay-kp.sqlite").unlink(missing_ok=True)

    @stage("verify", f"log verify: chains of {a.events:,} events")
    def _():
        fig, _ = logbench.log_verify(a.bootstrap, log_topic)
        return fig

    @stage("audit", f"audit export + verify over {a.audit_events:,} events")
    def _():
        recs = kept
        if not recs:
            _, recs = logbench.log_verify(a.bootstrap, log_topic, keep=a.audit_events)
        try:
            return logbench.audit(recs, work / "audit-bundle", work / "audit_ed25519.pem")
        finally:
            stages.rmtree(work / "audit-bundle")

    total = time.perf_counter() - started
    limit = figures.get("limit", {}).get("rate")
    for f in figures.values():
        for k in ("rate", "achieved_qps"):
            if limit and isinstance(f.get(k), (int, float)):
                f["ratio" if k == "rate" else "qps_ratio"] = f[k] / limit
    render(figures, a, ns, total)
    doc = {"timestamp": ts, "namespace": ns, "host": platform.node(), "cpus": os.cpu_count(),
           "python": sys.version.split()[0], "args": vars(a), "total_seconds": total,
           "limit_rate": limit, "figures": figures,
           "verdicts": {k: verdict(k, figures[k]) for k in TARGETS if k in figures},
           "notes": NOTES}
    data = json.dumps(doc, indent=2, default=str)
    (out_dir / f"bench-{ts}.json").write_text(data)
    (out_dir / "latest.json").write_text(data)
    console.print(f"wrote {out_dir / f'bench-{ts}.json'} and {out_dir / 'latest.json'}  ({total:.0f} s)")
    if not a.keep_topics:
        n = stages.delete_namespace(a.bootstrap, ns)
        console.print(f"deleted the run's {n} topics (--keep-topics keeps them)")


def _wait_projection(addr: str, case_ids: list[str]) -> None:
    """Until intake's projection serves every case (GetCase with min_sequence waits for it)."""
    import grpc

    from casestream.v1 import case_pb2, case_pb2_grpc

    with grpc.insecure_channel(addr) as ch:
        stub = case_pb2_grpc.CaseServiceStub(ch)
        for cid in case_ids:
            stub.GetCase(case_pb2.GetCaseRequest(case_id=cid, min_sequence=1), timeout=30)


NOTES = [
    "limit: one kafka-python producer, acks=all, 1 KiB values, linger 5 ms, explicit partitions",
    "intake runs one sequencer worker per partition (CASESTREAM_SEQUENCERS)",
    "sequencing: structured-mode CloudEvents pre-loaded with intake stopped; rate = inbound events / "
    "(last - first append), broker LogAppendTime of the bench's events topic",
    "latency: open-loop paced producer (confluent-kafka), after 10 s of unmeasured warm-up at the same rate; "
    "latency = LogAppendTime of the events record - intended send time",
    "replay = casectl.replay.rebuild and log verify = casectl.replay.verify_log, the commands' own paths "
    "(librdkafka reader; replay folds one partition per process); replay_kp = the single-process fold fed by "
    "aiokafka, on a sample; audit verify = verify_bundle timed inside a fresh process, as the command runs",
    "replay/verify/audit: canonical records (envelope.build_event + seal) produced directly into a bench events "
    "topic, not through intake",
    "gRPC: open loop, one grpc.aio client thread sends every call at its scheduled time; p50/p99 = every successful "
    "call, send to response; from_schedule = from the intended send time; achieved = successes / (last response - "
    "first scheduled send)",
]


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and math.isnan(v):
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.0f}{unit}" if abs(v) >= 100 else f"{v:,.2f}{unit}"
    return f"{v:,}{unit}"


def render(figures: dict[str, dict[str, Any]], a: argparse.Namespace, ns: str, total: float) -> None:
    t = Table(title=f"Casestream bench ({ns.rstrip('.')}, {total:.0f} s)")
    for col, just in (("measure", "left"), ("result", "right"), ("ratio to limit", "right"), ("target", "right"),
                      ("", "center"), ("detail", "left")):
        t.add_column(col, justify=just)

    def ratio(f: dict[str, Any], key: str = "ratio") -> str:
        return f"{f[key] * 100:.1f}%" if isinstance(f.get(key), float) else "-"

    def row(name: str, label: str, result: str, target: str, detail: str, rkey: str = "ratio") -> None:
        f = figures.get(name)
        if f is None:
            return
        if "error" in f:
            t.add_row(label, "-", "-", target, "[red]ERROR[/]", f["error"][:80])
            return
        v = verdict(name, f)
        colour = {"PASS": "green", "MISS": "red"}.get(v, "white")
        t.add_row(label, result, ratio(f, rkey) if rkey else "-", target, f"[{colour}]{v}[/]", detail)

    f = figures.get("limit", {})
    row("limit", "raw produce 1 KiB acks=all (THE LIMIT)", _fmt(f.get("rate"), " rec/s"), "",
        f"{_fmt(f.get('mib_s'))} MiB/s, {_fmt(f.get('records'))} records", rkey="")
    f = figures.get("sequencing", {})
    row("sequencing", "intake sequencing, inbound to appended", _fmt(f.get("rate"), " ev/s"), ">= 50% of limit",
        f"{_fmt(f.get('inbound'))} inbound -> {_fmt(f.get('appended'))} appends in {_fmt(f.get('first_to_last_s'))} s"
        + ("" if f.get("complete", True) else " [red]INCOMPLETE[/]"))
    f = figures.get("latency", {})
    row("latency", f"submit-to-sequenced p99 @ {a.rate:,.0f}/s", _fmt(f.get("p99_ms"), " ms"), "<= 50 ms",
        f"p50 {_fmt(f.get('p50_ms'))} ms, max {_fmt(f.get('max_ms'))} ms, {_fmt(f.get('appended'))}/{_fmt(f.get('sent'))}"
        f" appended", rkey="")
    f = figures.get("grpc", {})
    row("grpc", f"gRPC GetCase p99 @ {a.qps:,.0f} QPS", _fmt(f.get("p99_ms"), " ms"), "<= 5 ms",
        f"p50 {_fmt(f.get('p50_ms'))} ms, {_fmt(f.get('achieved_qps'))} QPS achieved, {f.get('errors', 0)} errors, "
        f"p99 from schedule {_fmt(f.get('from_schedule_p99_ms'))} ms",
        rkey="qps_ratio")
    f = figures.get("produce_log", {})
    row("produce_log", "writing canonical events (setup)", _fmt(f.get("rate"), " ev/s"), "",
        f"{_fmt(f.get('events'))} events, {_fmt(f.get('avg_value_bytes'))} B values, build+seal "
        f"{_fmt(f.get('build_seal_rate'))}/s, aiokafka produce {_fmt(f.get('produce_rate'))}/s; direct, not via intake")
    f = figures.get("replay", {})
    row("replay", f"replay {_fmt(f.get('events'))} events", _fmt(f.get("rate"), " ev/s"), ">= 100k ev/s",
        f"{_fmt(f.get('cases'))} cases in {_fmt(f.get('seconds'))} s")
    f = figures.get("replay_kp", {})
    row("replay_kp", "  same fold, records from aiokafka", _fmt(f.get("rate"), " ev/s"), "",
        f"first {_fmt(f.get('events'))} events (aiokafka parses records in C too)")
    f = figures.get("verify", {})
    row("verify", "log verify (chains, from Kafka)", _fmt(f.get("rate"), " ev/s"), "",
        f"{_fmt(f.get('cases'))} cases in {_fmt(f.get('seconds'))} s")
    f = figures.get("audit", {})
    row("audit", f"audit verify ({_fmt(f.get('events'))} events)", _fmt(f.get("rate"), " ev/s"), ">= 200k ev/s",
        f"export {_fmt(f.get('export_rate'))} ev/s; verify {_fmt(f.get('verify_seconds'))} s")
    console.print(t)


if __name__ == "__main__":
    main()
