"""`python -m casestream_demo`: drive both stories, print the report, exit 1 if an invariant fails."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from casestream import topics

from casestream_demo import report, scenario


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="casestream_demo", description=__doc__)
    for name, default in scenario.DEFAULT_ADDRS.items():
        env = f"CASESTREAM_DEMO_{name.upper()}"
        p.add_argument(f"--{name}", default=os.environ.get(env, default), help=f"{name} gRPC address (${env})")
    p.add_argument("--bootstrap", default=os.environ.get("CASESTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    p.add_argument("--run-id", default=None, help="default: a fresh random id")
    p.add_argument("--out", default=None, help="where the audit bundle goes (default $CASESTREAM_RUN_DIR/demo)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    c = report.console()
    run_id = args.run_id or scenario.new_run_id()
    addrs = {n: getattr(args, n) for n in scenario.DEFAULT_ADDRS}
    started = time.monotonic()
    try:
        latest = scenario.latest_event_time(args.bootstrap, topics.EVENTS)
        thursday = scenario.anchor_thursday(latest)
        d = scenario.Driver(addrs, run_id, log=c.print)
    except scenario.DemoError as e:
        c.print(f"[bold red]demo cannot start:[/] {e}")
        return 2
    c.rule(f"[bold]Casestream demo[/] run {run_id}")
    c.print(f"events topic {topics.EVENTS} on {args.bootstrap}; latest event time in the log: "
            f"{latest.isoformat() if latest else 'none (empty log)'} -> the story starts Thursday {thursday}")
    for name, status in d.status.items():
        style = "green" if status == "SERVING" else "bold red"
        c.print(f"  {name:<10} {addrs[name]:<18} [{style}]{status}[/]")
    missing = [n for n in scenario.DECISION_SERVICES if n not in d.up]
    if missing:
        c.print(f"[bold red]not running: {', '.join(missing)}[/] - the story is still submitted, but the "
                f"invariants that need their decisions will FAIL")
    try:
        with c.status("the telecom story: 22 contacts over 5 days…"):
            tel = scenario.run_telecom(d, thursday)
        c.print(f"telecom story: {len(tel.contacts)} contacts into {tel.case_id} "
                f"({time.monotonic() - started:.1f}s)")
        widow_start = (tel.end + timedelta(days=1)).astimezone(scenario.NY).date()
        with c.status("the widow's story…"):
            wid = scenario.run_widow(d, widow_start)
        c.print(f"widow's story: {wid.case_id} ({time.monotonic() - started:.1f}s)")
        for w in d.waits:
            c.print(f"  {'[green]ok[/]' if w.ok else '[bold red]MISSING[/]'} {w.what} ({w.seconds:.1f}s)")
        answers = report.gather(d, tel, wid)
        out = Path(args.out or Path(os.environ.get("CASESTREAM_RUN_DIR", ".run")) / "demo" / run_id)
        summary = answers.tel_summary
        audit_result = report.audit(args.bootstrap, tel.case_id, summary.partition if summary else 0, out,
                                    {**os.environ, "CASESTREAM_KAFKA_BOOTSTRAP": args.bootstrap})
        rows, checks = report.evaluate(answers, tel, wid, audit_result)
        report.render(c, answers, tel, wid, rows, checks, audit_result)
    except scenario.DemoError as e:
        c.print(f"[bold red]demo failed:[/] {e}")
        return 2
    finally:
        d.close()
    failed = [ch for ch in checks if not ch.ok]
    elapsed = time.monotonic() - started
    if failed:
        c.print(f"[bold red]DEMO FAILED[/]: {len(failed)} of {len(checks)} invariants failed "
                f"({', '.join(ch.name for ch in failed)}); driver time {elapsed:.1f}s")
        return 1
    c.print(f"[bold green]DEMO OK[/]: all {len(checks)} invariants hold; driver time {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
