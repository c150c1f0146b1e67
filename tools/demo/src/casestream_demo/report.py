"""The demo's report: computed only from the services' gRPC answers and from the log.

Nothing here knows the expected outcome; every number comes from an answer of intake
(the case log), escalation, billing or notify, or from the records of case.events.v1.
The invariants are checked on the same answers; a missing service fails them loudly.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console
from rich.table import Table

from casestream import topics
from casestream.v1 import billing_pb2, case_pb2, escalation_pb2, notify_pb2

from casestream_demo.scenario import NY, Driver, TelecomStory, WidowStory

ESC = "casestream.escalation."
BIL = "casestream.billing."
ZERO = "0" * 64


def _data(e: case_pb2.CaseEventRecord) -> dict[str, Any]:
    try:
        return json.loads(e.data_json or "{}")
    except ValueError:
        return {}


def _time(e: case_pb2.CaseEventRecord) -> datetime:
    return e.time.ToDatetime(tzinfo=timezone.utc)


def _ts(t: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(t.astimezone(timezone.utc))
    return ts


def _ny(t: datetime) -> str:
    return t.astimezone(NY).strftime("%a %d %b %H:%M")


def _call(what: str, fn: Callable[[], Any], errors: list[str]) -> Any:
    try:
        return fn()
    except grpc.RpcError as e:
        errors.append(f"{what}: {e.code().name} {e.details()}")
        return None


# ---- what the services answer ---------------------------------------------------------------------

@dataclass
class Answers:
    tel_events: list[case_pb2.CaseEventRecord]
    wid_events: list[case_pb2.CaseEventRecord]
    tel_cases: list[case_pb2.CaseSummary]
    tel_summary: case_pb2.CaseSummary | None
    ownership: escalation_pb2.GetOwnershipResponse | None
    wid_ownership: escalation_pb2.GetOwnershipResponse | None
    promises: escalation_pb2.ListOpenPromisesResponse | None
    breaches: escalation_pb2.ListBreachesResponse | None
    sla: escalation_pb2.GetSlaResponse | None
    account: billing_pb2.GetAccountResponse | None
    dispute: billing_pb2.GetDisputeResponse | None
    dunning: billing_pb2.ExplainDunningResponse | None
    ledger: billing_pb2.ListLedgerResponse | None
    tel_deliveries: notify_pb2.ListDeliveriesResponse | None
    wid_deliveries: notify_pb2.ListDeliveriesResponse | None
    errors: list[str] = field(default_factory=list)

    def of(self, events: list[case_pb2.CaseEventRecord], type_: str) -> list[case_pb2.CaseEventRecord]:
        return [e for e in events if e.type == type_]


def gather(d: Driver, tel: TelecomStory, wid: WidowStory) -> Answers:
    errors: list[str] = []
    for case_id in (tel.case_id, wid.case_id):
        d.settle(case_id)
    tel_last = d.last_sequence(tel.case_id)
    down = [n for n in ("escalation", "billing", "notify") if n not in d.up]
    errors += [f"{n}: not SERVING at {d.addrs[n]} ({d.status[n]})" for n in down]

    def esc(what: str, fn: Callable[[], Any]) -> Any:
        return _call(f"escalation {what}", fn, errors) if "escalation" in d.up else None

    def bil(what: str, fn: Callable[[], Any]) -> Any:
        return _call(f"billing {what}", fn, errors) if "billing" in d.up else None

    def ntf(what: str, fn: Callable[[], Any]) -> Any:
        return _call(f"notify {what}", fn, errors) if "notify" in d.up else None

    t = 10
    return Answers(
        tel_events=list(d.events(tel.case_id)),
        wid_events=list(d.events(wid.case_id)),
        tel_cases=list(d.cases.FindCases(case_pb2.FindCasesRequest(account_id=tel.account), timeout=t).cases),
        tel_summary=d.cases.GetCase(case_pb2.GetCaseRequest(case_id=tel.case_id), timeout=t).case,
        ownership=esc("GetOwnership", lambda: d.escalation.GetOwnership(
            escalation_pb2.GetOwnershipRequest(case_id=tel.case_id, min_sequence=tel_last), timeout=t)),
        wid_ownership=esc("GetOwnership", lambda: d.escalation.GetOwnership(
            escalation_pb2.GetOwnershipRequest(case_id=wid.case_id), timeout=t)),
        promises=esc("ListOpenPromises", lambda: d.escalation.ListOpenPromises(
            escalation_pb2.ListOpenPromisesRequest(case_id=tel.case_id, min_sequence=tel_last, include_resolved=True),
            timeout=t)),
        breaches=esc("ListBreaches", lambda: d.escalation.ListBreaches(
            escalation_pb2.ListBreachesRequest(case_id=tel.case_id, min_sequence=tel_last), timeout=t)),
        sla=esc("GetSla", lambda: d.escalation.GetSla(
            escalation_pb2.GetSlaRequest(case_id=tel.case_id, min_sequence=tel_last), timeout=t)),
        account=bil("GetAccount", lambda: d.billing.GetAccount(
            billing_pb2.GetAccountRequest(account_id=wid.account), timeout=t)),
        dispute=bil("GetDispute", lambda: d.billing.GetDispute(
            billing_pb2.GetDisputeRequest(account_id=wid.account, reference=wid.reference), timeout=t)),
        dunning=bil("ExplainDunning", lambda: d.billing.ExplainDunning(billing_pb2.ExplainDunningRequest(
            account_id=wid.account, charge_reference=wid.reference, at=_ts(wid.end)), timeout=t)),
        ledger=bil("ListLedger", lambda: d.billing.ListLedger(
            billing_pb2.ListLedgerRequest(account_id=wid.account, page_size=100), timeout=t)),
        tel_deliveries=ntf("ListDeliveries", lambda: d.notify.ListDeliveries(
            notify_pb2.ListDeliveriesRequest(case_id=tel.case_id), timeout=t)),
        wid_deliveries=ntf("ListDeliveries", lambda: d.notify.ListDeliveries(
            notify_pb2.ListDeliveriesRequest(case_id=wid.case_id), timeout=t)),
        errors=errors,
    )


# ---- ownership over time ------------------------------------------------------------------------

def owner_at(ownership: escalation_pb2.GetOwnershipResponse | None, seq: int) -> escalation_pb2.Owner | None:
    """The owner escalation reports for `seq`: the last history entry that started at or before it."""
    if ownership is None:
        return None
    history = list(ownership.history) or ([ownership.current] if ownership.HasField("current") else [])
    best = None
    for o in sorted(history, key=lambda o: o.since_sequence):
        if o.since_sequence <= seq and o.owner:
            best = o
    return best


def _owner_text(o: escalation_pb2.Owner | None) -> str:
    if o is None:
        return "-"
    return o.owner if not o.queue or o.queue == o.owner else f"{o.owner} ({o.queue})"


# ---- the timeline ---------------------------------------------------------------------------------

_ACTOR_KEYS = ("agent", "promised_by", "by", "author", "requested_by", "approver", "accepted_by", "ruled_by",
               "escalate_to", "owner", "regulator")


def actor(data: dict[str, Any]) -> str:
    return next((str(data[k]) for k in _ACTOR_KEYS if data.get(k)), "")


def summary(type_: str, data: dict[str, Any]) -> str:
    name = type_.removeprefix("casestream.")
    g = data.get
    match name:
        case "contact.logged":
            return f"{g('channel')} {g('direction')}: {g('summary')}"
        case "promise.made":
            return f"promises '{g('what')}' by {_ny(datetime.fromisoformat(g('due')))}" if g("due") else str(g("what"))
        case "promise.fulfilled":
            return f"fulfils {g('promise_ref')}"
        case "handoff.requested":
            return f"hand off to {g('to_queue')}: {g('reason')}"
        case "handoff.responded":
            return f"{'accepts' if g('accepted') else 'declines'} {g('handoff_ref')}"
        case "complaint.regulatory_filed":
            return f"complaint to {g('regulator')} ref {g('reference')}"
        case "escalation.owner_assigned":
            return f"owner {g('owner')} ({g('reason')})"
        case "escalation.handoff_refused":
            alt = f"; try {g('alternative_queue')}" if g("alternative_queue") else ""
            return f"{g('to_queue')} refused: {g('reason')}{alt}"
        case "escalation.handoff_accepted":
            return f"{g('to_queue')} accepted by {g('accepted_by')}"
        case "escalation.promise_breached" | "escalation.promise_kept" | "escalation.follow_up_due" \
                | "escalation.customer_notice_due":
            due = f" due {_ny(datetime.fromisoformat(g('due')))}" if g("due") else ""
            return f"{g('promise_ref')}{due}"
        case "escalation.priority_changed":
            return f"priority {g('from')} -> {g('to')} ({g('reason')})"
        case "escalation.escalated":
            return f"level {g('level')} -> {g('escalate_to')} ({g('reason')})"
        case "escalation.sla_started" | "escalation.sla_breached" | "escalation.sla_paused" | "escalation.sla_resumed":
            return f"{g('sla')} {g('priority') or g('status') or ''}".strip()
        case "billing.dunning_notice_issued":
            return f"NOTICE level {g('level')} for {g('reference')}: {g('reason')}"
        case "billing.payment_matched":
            return f"{g('kind')} matched to {g('reference')} ({g('amount_minor')} {g('currency')})"
        case "billing.dispute_resolved":
            return f"dispute {g('reference')} {g('outcome')}"
        case "notify.notification_sent" | "notify.notification_failed":
            return f"{g('template') or g('rule') or ''} via {g('channel') or ''}".strip()
    keep = {k: v for k, v in data.items() if k not in ("policy_version",) and not isinstance(v, (dict, list))}
    return ", ".join(f"{k}={v}" for k, v in list(keep.items())[:3])


def timeline_rows(case_id: str, events: list[case_pb2.CaseEventRecord],
                  ownership: escalation_pb2.GetOwnershipResponse | None) -> tuple[list[tuple[str, ...]], str]:
    """(seq, time, source, type, actor, owner, summary) rows, and which fold made them.

    The rows come from casectl's own fold (what `casectl case show` prints) when casectl is
    installed; the owner column is always escalation's answer (GetOwnership history).
    """
    tl = casectl_timeline()
    note = ""
    if tl is not None and hasattr(tl, "fold") and hasattr(tl, "CaseEvent"):
        try:
            from casestream.envelope import decoded_view

            view = tl.fold(case_id, [tl.CaseEvent.from_view(decoded_view(e.value)) for e in events])
            return [(str(r.seq), _ny(tl.parse_time(r.time)), r.source, r.type.removeprefix("casestream."),
                     r.actor or "", _owner_text(owner_at(ownership, r.seq)), r.summary) for r in view.rows], \
                "casectl.timeline.fold, as `casectl case show`"
        except Exception as e:  # a colleague's module in flux: fall back to ours, and say so
            note = f" (casectl.timeline failed: {type(e).__name__}: {e})"
    rows = []
    for e in events:
        data = _data(e)
        rows.append((str(e.sequence), _ny(_time(e)), e.source, e.type.removeprefix("casestream."), actor(data),
                     _owner_text(owner_at(ownership, e.sequence)), summary(e.type, data)))
    return rows, "the demo's own fold" + note


def timeline_table(title: str, case_id: str, events: list[case_pb2.CaseEventRecord],
                   ownership: escalation_pb2.GetOwnershipResponse | None) -> Table:
    rows, made_by = timeline_rows(case_id, events, ownership)
    table = Table(title=f"{title}; rows by {made_by}; owner = escalation's GetOwnership history",
                  title_justify="left", pad_edge=False)
    for col, kw in (("seq", {"justify": "right"}), ("time (New York)", {}), ("source", {}), ("type", {}),
                    ("actor", {}), ("owner", {}), ("summary", {"overflow": "fold"})):
        table.add_column(col, **kw)
    for r in rows:
        style = ("bold red" if r[3].endswith(("breached", "refused", "dunning_notice_issued"))
                 else "green" if r[3].endswith(("kept", "accepted", "payment_matched")) else None)
        table.add_row(*r, style=style)
    return table


def casectl_timeline() -> Any | None:
    """casectl's own timeline module (`casectl case show`), when it is installed."""
    try:
        if importlib.util.find_spec("casectl") is None or importlib.util.find_spec("casectl.timeline") is None:
            return None
        import casectl.timeline as tl  # type: ignore[import-not-found]
    except Exception:
        return None
    return tl


# ---- the audit export --------------------------------------------------------------------------------

@dataclass
class AuditResult:
    ok: bool
    method: str
    lines: list[str]


def _case_records(bootstrap: str, case_id: str, partition: int) -> list[Any]:
    from casestream import kafka

    return [r for r in kafka.read_partition(bootstrap, topics.EVENTS, partition)
            if r.key is not None and r.key.decode() == case_id]


def _hashlib_verify(records: list[Any]) -> tuple[bool, str]:
    """cs_hash = sha256(prev_hash + value), seq 1.. with a zero first prev_hash: checked by hand."""
    prev, seq = ZERO, 0
    for r in records:
        h = {k: (v or b"").decode() for k, v in r.headers or []}
        seq += 1
        if int(h.get("cs_seq", "0")) != seq:
            return False, f"offset {r.offset}: cs_seq {h.get('cs_seq')} != {seq}"
        if h.get("cs_prev_hash") != prev:
            return False, f"seq {seq}: cs_prev_hash does not match the previous cs_hash"
        digest = hashlib.sha256(bytes.fromhex(prev) + r.value).hexdigest()
        if digest != h.get("cs_hash"):
            return False, f"seq {seq}: sha256(prev_hash + value) != cs_hash"
        prev = digest
    return seq > 0, f"{seq} events, head {prev[:16]}…"


def _casectl_cmd() -> list[str] | None:
    exe = Path(sys.executable).parent / "casectl"
    if exe.exists():
        return [str(exe)]
    if shutil.which("casectl"):
        return ["casectl"]
    return None


def audit(bootstrap: str, case_id: str, partition: int, out_root: Path, env: dict[str, str]) -> AuditResult:
    out_root.mkdir(parents=True, exist_ok=True)
    bundle = out_root / f"audit-{case_id}"
    records = _case_records(bootstrap, case_id, partition)
    hand_ok, hand_detail = _hashlib_verify(records)
    lines = [f"chain checked with hashlib: {'OK' if hand_ok else 'BROKEN'} ({hand_detail})"]
    key = out_root / "keys" / "audit_ed25519.pem"
    cli = _casectl_cmd()
    if cli is not None:
        helptext = subprocess.run([*cli, "audit", "export", "--help"], capture_output=True, text=True, env=env).stdout
        if "--case" in helptext:
            cmds = [[*cli, "audit", "export", "--case", case_id, "--out", str(bundle), "--key", str(key)],
                    [*cli, "audit", "verify", str(bundle)]]
            return _run_audit(cmds, "casectl audit export --case, casectl audit verify", lines, hand_ok, env)
    if importlib.util.find_spec("casectl") is not None and importlib.util.find_spec("casectl.audit.cli") is not None:
        from casectl.audit.records import Record, leaf_bytes  # type: ignore[import-not-found]

        jsonl = out_root / f"{case_id}.events.jsonl"
        with open(jsonl, "wb") as f:
            for r in records:
                rec = Record(topic=r.topic, partition=r.partition, offset=r.offset, timestamp=r.timestamp, key=r.key,
                             value=r.value, headers=tuple((k, v or b"") for k, v in r.headers or []))
                f.write(leaf_bytes(rec) + b"\n")
        cli = cli or [sys.executable, "-c", "from casectl.audit.cli import app; app()"]
        prefix = [*cli, "audit"] if cli[0] != sys.executable else cli
        cmds = [[*prefix, "export", "--records", str(jsonl), "--out", str(bundle), "--key", str(key),
                 "--scope", json.dumps({"case_id": case_id})],
                [*prefix, "verify", str(bundle)]]
        return _run_audit(cmds, "casectl audit export --records / verify (casectl has no --case yet)", lines,
                          hand_ok, env)
    lines.append("casectl is not installed: the chain above was verified with hashlib only")
    return AuditResult(hand_ok, "hashlib", lines)


def _run_audit(cmds: list[list[str]], method: str, lines: list[str], hand_ok: bool, env: dict[str, str]) -> AuditResult:
    ok = hand_ok
    for cmd in cmds:
        p = subprocess.run(cmd, capture_output=True, text=True, env={**env, "COLUMNS": "200"}, timeout=120)
        head = ["casectl audit"] if cmd[0] == sys.executable else [Path(cmd[0]).name]
        shown = " ".join(head + [c for c in cmd[1:] if c != sys.executable and not c.startswith("from casectl")])
        lines.append(f"$ {shown}  -> exit {p.returncode}")
        lines += ["  " + ln for ln in (p.stdout + p.stderr).strip().splitlines()[:8]]
        ok = ok and p.returncode == 0
    return AuditResult(ok, method, lines)


# ---- the before/after table and the invariants ---------------------------------------------------------

@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _policy() -> Any | None:
    try:
        from escalation.domain.policy import load_policy

        return load_policy()
    except Exception:
        return None


def _queue_open(policy: Any, queue: str, at: datetime) -> bool | None:
    try:
        from escalation.domain.calendar import BusinessCalendar

        return BusinessCalendar(policy.queues[queue]).is_open(at)
    except Exception:
        return None


Row = tuple[str, str, str]


def evaluate(a: Answers, tel: TelecomStory, wid: WidowStory,
             audit_result: AuditResult) -> tuple[list[Row], list[Check]]:
    ev = a.tel_events
    checks: list[Check] = []
    rows: list[Row] = []

    # contacts vs cases
    contacts = a.of(ev, "casestream.contact.logged")
    agents = {_data(e).get("agent") for e in contacts}
    channels = sorted({_data(e).get("channel") for e in contacts})
    days = len({_time(e).astimezone(NY).date() for e in contacts})
    rows.append(("Contacts and cases", "22 calls to 50+ employees over 5 days; no case, no history",
                 f"{len(contacts)} contacts ({', '.join(channels)}) by {len(agents)} agents over {days} days "
                 f"-> {len(a.tel_cases)} case ({tel.case_id})"))

    # owners
    last = ev[-1].sequence if ev else 0
    opened = next((e.sequence for e in ev if e.type == "casestream.case.opened"), 1)
    no_owner = [s for s in range(opened, last + 1) if owner_at(a.ownership, s) is None]
    chain: list[str] = []
    if a.ownership is not None:
        for o in sorted(a.ownership.history, key=lambda o: o.since_sequence):
            if not chain or chain[-1] != o.owner:
                chain.append(o.owner)
    rows.append(("Accountable owner", "no single agent could be tracked",
                 (f"{len(set(chain))} owners in turn: {' -> '.join(chain)}; "
                  f"{len(no_owner)} of {last - opened + 1} sequences without an owner")
                 if a.ownership is not None else "escalation did not answer"))
    checks.append(Check("one owner at every sequence after the case opened",
                        a.ownership is not None and not no_owner and last > 0,
                        "escalation did not answer" if a.ownership is None else
                        f"{last - opened + 1} sequences, {len(no_owner)} without an owner"
                        + (f" (first {no_owner[:5]})" if no_owner else "")))

    # promises
    promises = list(a.promises.promises) if a.promises is not None else []
    made = a.of(ev, "casestream.promise.made")
    follow_refs = {_data(e).get("promise_ref") for e in a.of(ev, ESC + "follow_up_due")}
    kept = [p for p in promises if p.status == "kept"]
    breached = [p for p in promises if p.status == "breached"]
    followed = [p for p in breached if p.followed_up and p.ref in follow_refs]
    bad = [p.ref for p in promises if not (p.status == "kept" or (p.status == "breached" and p.ref in follow_refs))]
    rows.append(("Promises", "3 restoration deadlines missed, no follow-up",
                 f"{len(made)} made: {len(kept)} kept, {len(breached)} breached -> {len(followed)} followed up "
                 f"at the deadline (follow_up_due to the owner)"
                 if a.promises is not None else "escalation did not answer"))
    checks.append(Check("every promise kept, or breached and followed by follow_up_due",
                        a.promises is not None and len(promises) == len(made) > 0 and not bad,
                        "escalation did not answer" if a.promises is None else
                        f"{len(promises)} promises known to escalation for {len(made)} made; "
                        f"not covered: {bad or 'none'}"))

    # handoffs
    policy = _policy()
    refused = a.of(ev, ESC + "handoff_refused")
    closed = [e for e in refused if _data(e).get("reason") in ("queue_closed", "queue_closing")]
    accepted = a.of(ev, ESC + "handoff_accepted")
    accepted_closed = []
    unknown = []
    for e in accepted:
        q = _data(e).get("to_queue", "")
        open_ = _queue_open(policy, q, _time(e)) if policy is not None else None
        if open_ is None:
            unknown.append(q)
        elif not open_:
            accepted_closed.append(f"{q} at {_ny(_time(e))}")
    alt = ", ".join(sorted({str(_data(e).get("alternative_queue")) for e in closed}))
    rows.append(("Handoffs", "transferred to billing, which was closed at the weekend",
                 f"{len(closed)} refused because the queue was closed ("
                 + "; ".join(f"{_data(e).get('to_queue')} on {_ny(_time(e))}" for e in closed)
                 + f"), alternative proposed: {alt or '-'}; {len(accepted)} accepted, into "
                 + (", ".join(_data(e).get("to_queue", "?") for e in accepted) or "-")
                 + f", {len(accepted_closed)} into a closed queue"))
    checks.append(Check("no handoff accepted into a queue that was closed at the time",
                        policy is not None and not accepted_closed and not unknown and len(closed) >= 1
                        and len(accepted) >= 1,
                        f"{len(closed)} refused as closed, {len(accepted)} accepted; accepted while closed: "
                        f"{accepted_closed or 'none'}" + (f"; calendar unknown for {unknown}" if unknown else "")
                        + ("" if policy is not None else "; escalation policy not importable")))

    # the complaint
    prio = a.of(ev, ESC + "priority_changed")
    top = policy.priorities[0] if policy is not None else "P1"
    senior = policy.regulatory.senior_owner if policy is not None else "dana.senior"
    complaint = a.of(ev, "casestream.complaint.regulatory_filed")
    reg_sla = [c for c in (a.sla.clocks if a.sla is not None else []) if c.name == "regulatory"]
    if prio and complaint:
        p = _data(prio[0])
        minutes = (_time(prio[0]) - _time(complaint[0])).total_seconds() / 60
        after = (f"priority {p.get('from')} -> {p.get('to')} {minutes:.0f} min after the complaint (event time); "
                 f"owner now {a.ownership.current.owner if a.ownership else '?'}; "
                 f"regulatory SLA {'started' if reg_sla else 'not seen'}")
    else:
        after = "no priority change seen"
    rows.append(("Regulatory complaint", "only a formal complaint to the state PSC fixed it", after))
    checks.append(Check("the regulatory complaint raised the priority to the top",
                        bool(prio) and _data(prio[-1]).get("to") == top and a.ownership is not None
                        and a.ownership.priority == top and a.ownership.current.owner == senior,
                        f"priority_changed: {[_data(e).get('to') for e in prio]}, escalation says priority "
                        f"{a.ownership.priority if a.ownership else '?'} and owner "
                        f"{a.ownership.current.owner if a.ownership else '?'} (top {top}, senior {senior})"))

    # the widow
    w = a.wid_events
    notices = a.of(w, BIL + "dunning_notice_issued")
    evidence_t = wid.evidence.time if wid.evidence else None
    dispute_open_t = wid.dispute.time if wid.dispute else None
    resolved = a.of(w, BIL + "dispute_resolved")
    resolved_t = _time(resolved[0]) if resolved else None
    blocked = [e for e in notices
               if (evidence_t and _time(e) >= evidence_t)
               or (dispute_open_t and _time(e) >= dispute_open_t and (resolved_t is None or _time(e) <= resolved_t))]
    violations = a.of(w, BIL + "invariant_violated")
    matched = a.of(w, BIL + "payment_matched")
    holder = a.account.holder if a.account is not None else "?"
    before_n = [e for e in notices if e not in blocked]
    rows.append(("Dunning", "widow kept receiving deficiency notices despite the cancelled check",
                 f"{len(blocked)} notices after the evidence or during the dispute; {len(before_n)} before "
                 f"(level {', '.join(str(_data(e).get('level')) for e in before_n) or '-'}, before the bereavement); "
                 + (f"billing now: would_send={a.dunning.would_send} ({'; '.join(a.dunning.reasons)})"
                    if a.dunning is not None else "billing did not answer")))
    checks.append(Check("zero dunning notices during the open dispute or after the evidence",
                        "billing" in _up(a) and not blocked and not violations and bool(matched),
                        f"{len(notices)} notices in all, {len(blocked)} blocked ones sent, "
                        f"{len(violations)} invariant_violated; billing "
                        + ("answered" if "billing" in _up(a) else "did not answer")))
    m = _data(matched[0]) if matched else {}
    rows.append(("Payment evidence", "cancelled check ignored after the account was renamed",
                 (f"{m.get('kind')} matched to {m.get('reference')} ({m.get('amount_minor')} {m.get('currency')}) "
                  f"by account and reference; holder now {holder}; dispute "
                  f"{a.dispute.status if a.dispute is not None else '?'}")
                 if matched else "no payment_matched in the log"))

    delivered = [x for r in (a.tel_deliveries, a.wid_deliveries) if r is not None for x in r.deliveries]
    rows.append(("Notifications", "no one told the customer anything",
                 f"{len(delivered)} deliveries recorded by notify: "
                 + ", ".join(f"{k}: {v}" for k, v in _count(
                     x.status + (f" ({x.reason})" if x.reason and x.status != "sent" else "")
                     for x in delivered).items())
                 + "; sent: " + (", ".join(sorted({f"{x.template} via {x.channel}" for x in delivered
                                                   if x.status == "sent"})) or "none")
                 if a.tel_deliveries is not None else "notify did not answer"))
    rows.append(("Audit", "no notes from earlier calls",
                 f"{len(ev)} events of {tel.case_id}, hash-chained; bundle "
                 f"{'verified' if audit_result.ok else 'NOT verified'} ({audit_result.method})"))
    checks.append(Check("the audit bundle of the telecom case verifies", audit_result.ok, audit_result.method))
    return rows, checks


def _up(a: Answers) -> set[str]:
    return {n for n, r in (("escalation", a.ownership), ("billing", a.account), ("notify", a.tel_deliveries))
            if r is not None}


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def console() -> Console:
    width = int(os.environ.get("COLUMNS", "0") or 0)
    return Console(width=width or (None if sys.stdout.isatty() else 160), highlight=False)


def render(c: Console, a: Answers, tel: TelecomStory, wid: WidowStory, rows: list[tuple[str, str, str]],
           checks: list[Check], audit_result: AuditResult) -> None:
    c.rule(f"[bold]The telecom case {tel.case_id}[/] (account {tel.account})")
    c.print(timeline_table("timeline", tel.case_id, a.tel_events, a.ownership))
    c.rule(f"[bold]The widow's case {wid.case_id}[/] (account {wid.account})")
    c.print(timeline_table("timeline", wid.case_id, a.wid_events, a.wid_ownership))
    c.rule("[bold]Before and after[/]")
    t = Table(show_lines=True)
    t.add_column("", style="bold")
    t.add_column("before (the case studies)", style="red", overflow="fold")
    t.add_column("with Casestream (this run, from the services' answers)", style="green", overflow="fold")
    for r in rows:
        t.add_row(*r)
    c.print(t)
    c.rule("[bold]Audit export[/]")
    for ln in audit_result.lines:
        c.print(ln, markup=False)
    if a.errors:
        c.rule("[bold red]Services that did not answer[/]")
        for e in a.errors:
            c.print(f"[red]{e}[/]")
    c.rule("[bold]Invariants[/]")
    for ch in checks:
        mark = "[green]PASS[/]" if ch.ok else "[bold red]FAIL[/]"
        c.print(f"{mark} {ch.name}: {ch.detail}")
