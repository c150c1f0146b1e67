"""casectl: the operator's command line. Each command parses its input, calls one use case
in this package, and prints a rich table or (with --json) one JSON document."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from casectl import config
from casectl.audit import cli as audit_files

app = typer.Typer(help="Casestream operator tool: cases, replay, log and audit checks, the auditor, the DLQ.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
case_app = typer.Typer(help="Look at one case, or find cases.", no_args_is_help=True)
log_app = typer.Typer(help="Check the event log.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit bundles from the live log; verify, prove, consistency.", no_args_is_help=True)
auditor_app = typer.Typer(help="The auditor process that publishes signed checkpoints.", no_args_is_help=True)
dlq_app = typer.Typer(help="The dead-letter queue: list and resubmit.", no_args_is_help=True)
for sub, name in ((case_app, "case"), (log_app, "log"), (audit_app, "audit"), (auditor_app, "auditor"),
                  (dlq_app, "dlq")):
    app.add_typer(sub, name=name)

console = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON document instead of tables")]
BootstrapOpt = Annotated[Optional[str], typer.Option("--bootstrap", help="Kafka bootstrap (default $CASESTREAM_KAFKA_BOOTSTRAP)")]


def _emit(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")


def _fail(message: str, as_json: bool, code: int = 1, **extra: Any) -> None:
    if as_json:
        _emit({"ok": False, "error": message, **extra})
    else:
        err.print(f"[bold red]FAILED[/] {message}")
    raise typer.Exit(code)


@contextmanager
def _progress(label: str, total: int, enabled: bool) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda n: None
        return
    cols = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"), TimeElapsedColumn())
    with Progress(*cols, console=err, transient=False) as bar:
        task = bar.add_task(label, total=total, rate="")
        t0, done = time.perf_counter(), [0]

        def advance(n: int) -> None:
            done[0] += n
            if done[0] % 2000 < n or done[0] >= total:
                dt = time.perf_counter() - t0
                bar.update(task, completed=done[0], rate=f"{done[0] / dt:,.0f} offsets/s" if dt > 0 else "")

        yield advance
        bar.update(task, completed=total)


def _span(bootstrap: str, topic: str, show: bool, partitions: list[int] | None = None):
    from casectl import kafka_io

    try:
        return kafka_io.fast_span(bootstrap, topic, partitions)
    except LookupError as e:
        _fail(str(e), not show)


def _records(bootstrap: str, topic: str, label: str, show: bool, partitions: list[int] | None = None) -> Iterator:
    """Scan a topic (fast reader) with a progress bar on stderr (none with --json)."""
    from casectl import kafka_io

    s = _span(bootstrap, topic, show, partitions)
    with _progress(label, s.total, show) as advance:
        yield from kafka_io.fast_scan(bootstrap, topic, span_=s, progress=advance)


# --------------------------------------------------------------------------- case


def _case_events(bootstrap: str, case_id: str, show: bool):
    from casestream.envelope import decoded_view

    from casectl.timeline import CaseEvent

    want = case_id.encode()
    return [CaseEvent.from_view(decoded_view(r.value))
            for r in _records(bootstrap, config.topics().events, "scanning events", show) if r.key == want]


@case_app.command("show")
def case_show(
    case_id: Annotated[str, typer.Argument(help="the case id (the record key)")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="RFC 3339 time: fold events whose event time is <= it")] = None,
    as_of_seq: Annotated[Optional[int], typer.Option("--as-of-seq", min=1, help="fold events up to this cs_seq")] = None,
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """The case's timeline and its state (owner, priority, SLA, open promises, holds) at a point."""
    from casectl.timeline import fold, parse_time

    try:
        at = parse_time(as_of) if as_of else None
    except ValueError:
        _fail(f"--as-of {as_of!r} is not an RFC 3339 time (e.g. 2026-11-02T09:00:00Z)", as_json, 2)
    events = _case_events(config.bootstrap(bootstrap), case_id, not as_json)
    if not events:
        _fail(f"no events for case {case_id!r} on {config.topics().events}", as_json)
    view = fold(case_id, events, as_of_seq=as_of_seq, as_of_time=at)
    if as_json:
        _emit(view.to_dict())
        return
    t = Table(title=f"case {case_id}  account {view.account}  ({len(view.rows)} of {len(events)} events)")
    for col in ("seq", "time", "source", "type", "actor", "owner", "summary"):
        t.add_column(col, overflow="fold" if col == "summary" else "ellipsis")
    for r in view.rows:
        t.add_row(str(r.seq), r.time, r.source, r.type.removeprefix("casestream."), r.actor or "", r.owner or "",
                  r.summary)
    console.print(t)
    s = view.state
    console.print(f"[bold]status[/] {s.status or '-'}   [bold]owner[/] {s.owner or '-'}   "
                  f"[bold]priority[/] {s.priority or '-'}")
    console.print("[bold]SLA[/] " + (", ".join(f"{n}: {v['state']} since {v['since']}" for n, v in s.sla.items()) or "-"))
    console.print("[bold]open promises[/] " + (", ".join(
        f"{p['ref']} ({p['promised_by']}: {p['what']} by {p['due']})" for p in s.open_promises.values()) or "none"))
    console.print("[bold]holds[/] " + (", ".join(f"{h['hold_ref']} ({h['reason']})" for h in s.holds.values()) or "none"))


@case_app.command("find")
def case_find(
    account: Annotated[str, typer.Option("--account", help="account id (the CloudEvents subject)")],
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Every case of an account, from the log."""
    from casestream.v1 import events_pb2

    cases: dict[str, dict[str, Any]] = {}
    ev = events_pb2.CaseEvent()
    for r in _records(config.bootstrap(bootstrap), config.topics().events, "scanning events", not as_json):
        ev.ParseFromString(r.value)
        if ev.account_id != account:
            continue
        c = cases.setdefault(ev.case_id, {"case_id": ev.case_id, "partition": r.partition, "events": 0,
                                          "first_time": ev.time.ToJsonString(), "status": None})
        c["events"] += 1
        c["last_seq"], c["last_time"] = ev.sequence, ev.time.ToJsonString()
        c["status"] = {"casestream.case.opened": "open", "casestream.case.reopened": "open",
                       "casestream.case.closed": "closed"}.get(ev.type, c["status"])
    if as_json:
        _emit({"account": account, "cases": list(cases.values())})
        return
    t = Table(title=f"cases of account {account}")
    for col in ("case", "status", "events", "last seq", "first", "last", "partition"):
        t.add_column(col)
    for c in cases.values():
        t.add_row(c["case_id"], c["status"] or "-", str(c["events"]), str(c["last_seq"]), c["first_time"],
                  c["last_time"], str(c["partition"]))
    console.print(t)


# --------------------------------------------------------------------------- replay


@app.command()
def replay(
    store: Annotated[Optional[Path], typer.Option("--store", help="SQLite store to (re)create")] = None,
    policy: Annotated[Optional[Path], typer.Option("--policy", help="candidate policy: counterfactual replay")] = None,
    case_id: Annotated[Optional[str], typer.Option("--case", help="the case to replay (with --policy)")] = None,
    service: Annotated[str, typer.Option("--service", help="whose policy: billing or escalation")] = "billing",
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Rebuild the case projection from offset 0 into a fresh store; or, with --policy and
    --case, show how a service's decisions would differ under a candidate policy (writes nothing)."""
    bs = config.bootstrap(bootstrap)
    if policy is not None or case_id is not None:
        if policy is None or case_id is None:
            _fail("a counterfactual replay needs both --policy FILE and --case CASE", as_json, 2)
        _counterfactual(bs, policy, case_id, service, as_json)
        return
    from casectl import replay as measured
    from casectl.projection import default_store

    target = store or default_store()
    topic = config.topics().events
    s = _span(bs, topic, not as_json)
    with _progress("replaying", s.total, not as_json) as advance:
        res = measured.rebuild(bs, target, topic=topic, span_=s, progress=advance)
    if as_json:
        _emit({"ok": True, **res.to_dict()})
    else:
        console.print(f"[green]rebuilt[/] {res.store}: {res.events:,} events, {res.cases:,} cases in "
                      f"{res.seconds:.2f}s ([bold]{res.events_per_second:,.0f} events/s[/])")


def _counterfactual(bootstrap: str, policy: Path, case_id: str, service: str, as_json: bool) -> None:
    from casestream.envelope import fact_from_value

    from casectl.counterfactual import SIMULATORS, compare

    sim = SIMULATORS.get(service)
    if sim is None:
        _fail(f"--service {service!r}: expected one of {', '.join(SIMULATORS)}", as_json, 2)
    if not sim.available():
        _fail(f"{service} does not expose simulate/load_policy yet ({sim.simulate}, {sim.load_policy})", as_json)
    if not policy.is_file():
        _fail(f"--policy {policy}: no such file", as_json, 2)
    facts = [fact_from_value(r.value) for r in _records(bootstrap, config.topics().events, "reading", not as_json)]
    mine = [f for f in facts if f.case_id == case_id]
    if not mine:
        _fail(f"no events for case {case_id!r}", as_json)
    account = mine[0].subject
    history = [f for f in facts if f.subject == account] if sim.scope == "account" else mine
    try:
        simulated = sim.run(history, str(policy))
    except Exception as e:  # a bad policy file: say so, no trace
        _fail(f"--policy {policy}: {type(e).__name__}: {e}", as_json)
    actual = [f for f in history if sim.is_own_decision(f)]
    if sim.scope == "account":  # show the decisions of this case only
        actual = [f for f in actual if f.case_id == case_id]
        simulated = [d for d in simulated if d.case_id == case_id]
    cmp = compare(actual, simulated)
    doc = {"service": service, "case": case_id, "account": account, "scope": sim.scope, "policy": str(policy),
           "facts": len(history), **cmp.to_dict()}
    if as_json:
        _emit(doc)
        return
    console.print(f"{service} under {policy}: {cmp.actual} decisions in the log, {cmp.simulated} under the policy, "
                  f"{cmp.unchanged} unchanged, [bold]{len(cmp.differences)} would differ[/]")
    if cmp.differences:
        t = Table()
        for col in ("", "type", "id", "detail"):
            t.add_column(col, overflow="fold")
        for d in cmp.differences:
            detail = {"changed": ", ".join(f"{k}: {(d.actual or {}).get(k)!r} -> {(d.simulated or {}).get(k)!r}"
                                           for k in d.changed_fields),
                      "renamed": f"same decision as {d.other_id}",
                      "removed": json.dumps(d.actual, sort_keys=True), "added": json.dumps(d.simulated, sort_keys=True)}[d.kind]
            t.add_row(d.kind, d.type.removeprefix("casestream."), d.id, detail)
        console.print(t)


# --------------------------------------------------------------------------- log


@log_app.command("verify")
def log_verify(
    partition: Annotated[Optional[int], typer.Option("--partition", min=0, help="only this partition")] = None,
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Walk the events topic (read_committed): cs_seq contiguous from 1 and every hash chain holds."""
    from casectl import replay as measured

    parts = None if partition is None else [partition]
    bs, topic = config.bootstrap(bootstrap), config.topics().events
    s = _span(bs, topic, not as_json, parts)
    with _progress("verifying", s.total, not as_json) as advance:
        rep = measured.verify_log(bs, topic=topic, partitions=parts, span_=s, progress=advance)
    if as_json:
        _emit(rep.to_dict())
    elif rep.ok:
        console.print(f"[green]OK[/] {rep.records:,} events, {rep.cases:,} cases, partitions "
                      f"{dict(sorted(rep.partitions.items()))} in {rep.seconds:.2f}s "
                      f"([bold]{rep.events_per_second:,.0f} events/s[/])")
    else:
        b = rep.first_bad
        err.print(f"[bold red]BROKEN[/] at {b['topic']}/{b['partition']} offset [bold]{b['offset']}[/] "
                  f"(case {b['case_id']}, cs_seq {b['cs_seq']}): {b['reason']}")
        console.print(f"checked {rep.records:,} good events before it ({rep.events_per_second:,.0f} events/s)")
    if not rep.ok:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- audit


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Option("--out", help="bundle directory to create")],
    case_id: Annotated[Optional[str], typer.Option("--case")] = None,
    account: Annotated[Optional[str], typer.Option("--account")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="append time, RFC 3339, inclusive")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="append time, RFC 3339, exclusive")] = None,
    key: Annotated[Optional[Path], typer.Option("--key", help="signing key (default $CASESTREAM_AUDIT_KEY)")] = None,
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Export the matching records of the events topic into a signed bundle."""
    from casestream.envelope import decoded_view

    from casectl.audit import ChainError, KeyFileError, export_bundle
    from casectl.audit_log import Selection, select
    from casectl.timeline import parse_time

    if not (case_id or account or since or until):
        _fail("choose what to export: --case C, --account A, or --since T --until T", as_json, 2)
    try:
        sel = Selection(case_id, account, parse_time(since) if since else None, parse_time(until) if until else None)
    except ValueError as e:
        _fail(f"--since/--until: {e}; expected RFC 3339 such as 2026-11-02T09:00:00Z", as_json, 2)
    topic = config.topics().events
    t0 = time.perf_counter()
    try:
        recs = select(_records(config.bootstrap(bootstrap), topic, "exporting", not as_json), sel)
        res = export_bundle(recs, out, sel.scope(topic), key, decode=decoded_view, presorted=True)
    except (ChainError, KeyFileError, FileExistsError, ValueError) as e:
        _fail(str(e), as_json)
    if res.tree_size == 0:
        err.print("[yellow]note[/] nothing matched; the bundle is empty")
    doc = {"ok": True, "out": str(res.out_dir), "events": res.tree_size, "root_hash": res.root_hash,
           "public_key_sha256": res.public_key_sha256, "seconds": round(time.perf_counter() - t0, 3)}
    if as_json:
        _emit(doc)
    else:
        console.print(f"[green]exported[/] {res.tree_size} events to {res.out_dir}\n  root {res.root_hash}\n"
                      f"  key  {res.public_key_sha256}")


@audit_app.command("verify")
def audit_verify(
    bundle: Path,
    checkpoints: Annotated[bool, typer.Option("--checkpoints", help="also prove every event is in the auditor's latest signed checkpoint of its partition (reads Kafka)")] = False,
    trusted_key: Annotated[Optional[str], typer.Option("--trusted-key", help="public key PEM path or its sha256")] = None,
    checkpoint_key: Annotated[Optional[Path], typer.Option("--checkpoint-key", help="auditor public key PEM (default: the bundle's)")] = None,
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Verify a bundle: signature, manifest, chains, Merkle root; with --checkpoints, against the live log."""
    from casectl.audit import BundleError, KeyFileError, verify_bundle

    if not checkpoints and not as_json:
        audit_files.verify(bundle, [], trusted_key, checkpoint_key)  # the file-only check, as is
        return
    t0 = time.perf_counter()
    report = None
    try:
        if checkpoints:
            res, report = _verify_checkpoints(bundle, trusted_key, checkpoint_key, config.bootstrap(bootstrap))
        else:
            res = verify_bundle(bundle, trusted_public_key=trusted_key)
    except (BundleError, ValueError, KeyFileError) as e:
        _fail(str(e), as_json)
    dt = time.perf_counter() - t0
    uncovered = report is not None and report.not_yet_covered > 0
    doc = {"ok": not uncovered, "events": res.tree_size, "cases": res.cases, "root_hash": res.root_hash,
           "public_key_sha256": res.public_key_sha256, "partitions": res.partitions, "notes": res.notes,
           "seconds": round(dt, 3), "events_per_second": round(res.tree_size / dt, 1) if dt else None,
           "checkpoints": report.to_dict() if report else None}
    if as_json:
        _emit(doc)
    else:
        console.print(f"[green]bundle OK[/] {res.tree_size} events, {res.cases} cases, root {res.root_hash}")
        console.print(f"  signed by key sha256 {res.public_key_sha256} (compare with the published fingerprint)")
        for origin, cp in report.checkpoints.items():
            console.print(f"  checkpoint {origin}: size {cp['tree_size']} root {cp['root_hash']}")
        console.print(f"  {report.checked} events proven included in the signed checkpoints "
                      f"({res.tree_size / dt:,.0f} events/s)")
    if uncovered:
        if not as_json:
            err.print(f"[bold red]NOT COVERED[/] {report.not_yet_covered} exported event(s) are newer than the latest "
                      "checkpoint of their partition; wait for the auditor's next checkpoint and verify again")
        raise typer.Exit(1)


def _verify_checkpoints(bundle: Path, trusted_key: str | None, checkpoint_key: Path | None, bootstrap: str):
    from casectl import kafka_io
    from casectl.audit_log import parse_checkpoint_docs, verify_with_checkpoints

    docs = parse_checkpoint_docs(r.value for r in kafka_io.fast_scan(bootstrap, config.topics().audit))

    def read(topic: str, partition: int):
        return kafka_io.fast_scan(bootstrap, topic, [partition])

    return verify_with_checkpoints(bundle, docs, read, trusted_public_key=trusted_key,
                                   checkpoint_public_key=checkpoint_key.read_bytes() if checkpoint_key else None)


# The file-based commands of the audit library, mounted as they are (their output is JSON already).
@audit_app.command("prove")
def audit_prove(
    bundle: Path,
    event: Annotated[str, typer.Option("--event", help="ce_id, partition:offset or topic/partition:offset")],
    as_json: JsonOpt = False,
) -> None:
    """Print an RFC 6962 inclusion proof (audit path) for one event, as JSON."""
    audit_files.prove(bundle, event)


@audit_app.command("consistency")
def audit_consistency(old: Path, new: Path, as_json: JsonOpt = False) -> None:
    """Prove that bundle NEW extends bundle OLD; print the consistency proof as JSON."""
    audit_files.consistency(old, new)


audit_app.command("export-file", help="Export records from an events.jsonl-format file (no Kafka).")(audit_files.export)


# --------------------------------------------------------------------------- auditor


@auditor_app.command("run")
def auditor_run(
    key: Annotated[Optional[Path], typer.Option("--key", help="signing key (default $CASESTREAM_AUDIT_KEY)")] = None,
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Tail the events topic; publish a signed tree head per partition to case.audit.v1
    every $CASESTREAM_AUDITOR_EVERY_EVENTS events or $CASESTREAM_AUDITOR_EVERY_SECONDS seconds."""
    from casestream.grpc_server import start_metrics
    from casestream.logging import configure_logging
    from casestream.runtime import shutdown_event
    from prometheus_client import Counter

    from casectl import auditor
    from casectl.audit.keys import load_or_create_signing_key

    log = configure_logging("auditor", os.environ.get("CASESTREAM_LOG_LEVEL", "INFO"))
    stop = shutdown_event()
    every_events = int(os.environ.get("CASESTREAM_AUDITOR_EVERY_EVENTS", "1000"))
    every_seconds = float(os.environ.get("CASESTREAM_AUDITOR_EVERY_SECONDS", "10"))
    start_metrics(int(os.environ.get("CASESTREAM_METRICS_PORT", "0")))
    published = Counter("casestream_auditor_checkpoints_total", "signed checkpoints published", ["origin"])
    signing_key = load_or_create_signing_key(key)
    t = config.topics()
    log.info("auditor_started", events=t.events, audit=t.audit, every_events=every_events,
             every_seconds=every_seconds)
    auditor.run(config.bootstrap(bootstrap), t.events, t.audit, signing_key, stop, every_events=every_events,
                every_seconds=every_seconds, log=log,
                on_publish=lambda doc: published.labels(doc["origin"]).inc())
    log.info("auditor_stopped")


# --------------------------------------------------------------------------- dlq


@dlq_app.command("list")
def dlq_list(
    limit: Annotated[int, typer.Option("--limit", min=1, help="show at most the last N")] = 50,
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Dead-lettered records: where they came from and why they were refused."""
    from casectl.dlq import describe

    rows = [describe(r) for r in _records(config.bootstrap(bootstrap), config.topics().dlq, "reading DLQ", not as_json)]
    rows = rows[-limit:]
    if as_json:
        _emit({"records": rows})
        return
    t = Table(title=f"{config.topics().dlq} (last {len(rows)})")
    for col in ("id", "code", "field", "reason", "source"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["id"], r["error_code"] or "", r["field"] or "", r["reason"] or "",
                  f"{r['source_topic']}/{r['source_partition']}:{r['source_offset']}")
    console.print(t)


@dlq_app.command("resubmit")
def dlq_resubmit(
    record_id: Annotated[str, typer.Argument(metavar="ID", help="PARTITION:OFFSET of the DLQ record")],
    value_file: Annotated[Optional[Path], typer.Option("--value-file", help="the corrected value to send instead")] = None,
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Republish a dead-lettered record (or its corrected value) to case.inbound.v1, without the DLQ headers."""
    from casestream import kafka as cskafka

    from casectl.dlq import parse_id, resubmission
    from casectl.kafka_io import to_record

    try:
        partition, offset = parse_id(record_id)
    except ValueError as e:
        _fail(str(e), as_json, 2)
    bs, t = config.bootstrap(bootstrap), config.topics()
    found = next((to_record(m) for m in cskafka.read_partition(bs, t.dlq, partition, offset, offset + 1)), None)
    if found is None or found.offset != offset:
        _fail(f"no DLQ record at {t.dlq} {partition}:{offset}", as_json)
    corrected = value_file.read_bytes() if value_file else None
    sub = resubmission(found, corrected)
    p = cskafka.producer(bs)
    try:
        md = p.send(t.inbound, key=sub.key, value=sub.value, headers=sub.headers).get(timeout=30)
    finally:
        p.close()
    doc = {"ok": True, "dlq_id": record_id, "inbound": {"topic": md.topic, "partition": md.partition,
                                                         "offset": md.offset}, "corrected": corrected is not None}
    if as_json:
        _emit(doc)
    else:
        console.print(f"[green]resubmitted[/] {record_id} to {md.topic}/{md.partition}:{md.offset}"
                      + (" with the corrected value" if corrected is not None else ""))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
