"""A case's timeline and state, folded from its events (pure: no Kafka, no clock).

`fold(case_id, events, as_of_seq=..., as_of_time=...)` keeps the events in sequence
order, drops those after the point (seq > N, or event time > T), and folds the rest
into a `CaseView`: one `TimelineRow` per event, and the `CaseState` at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

OWNER_ASSIGNED = "casestream.escalation.owner_assigned"
PRIORITY_CHANGED = "casestream.escalation.priority_changed"
PROMISE_MADE = "casestream.promise.made"
PROMISE_CLOSERS = {"casestream.escalation.promise_kept": "kept", "casestream.escalation.promise_breached": "breached"}
HOLD_PLACED = "casestream.billing.dunning_hold_placed"
HOLD_RELEASED = "casestream.billing.dunning_hold_released"
SLA_STATES = {
    "casestream.escalation.sla_started": "running",
    "casestream.escalation.sla_resumed": "running",
    "casestream.escalation.sla_paused": "paused",
    "casestream.escalation.sla_warned": "warned",
    "casestream.escalation.sla_breached": "breached",
}
CASE_STATUS = {"casestream.case.opened": "open", "casestream.case.reopened": "open", "casestream.case.closed": "closed"}
# The data field that names who acted, in order of preference.
ACTOR_FIELDS = ("agent", "by", "author", "promised_by", "requested_by", "approver", "decided_by")


def parse_time(value: str | datetime) -> datetime:
    """RFC 3339 (a trailing Z allowed) or a datetime; naive means UTC."""
    t = value if isinstance(value, datetime) else datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class CaseEvent:
    """One sequenced event of a case, as the timeline needs it."""

    seq: int
    time: datetime
    source: str
    type: str
    id: str
    data: Mapping[str, Any] = field(default_factory=dict)
    account: str = ""

    @classmethod
    def from_view(cls, view: Mapping[str, Any]) -> CaseEvent:
        """From `casestream.envelope.decoded_view` output."""
        return cls(view["sequence"], parse_time(view["time"]), view["source"], view["type"], view["id"],
                   view.get("data") or {}, view.get("account_id", ""))


@dataclass(frozen=True)
class TimelineRow:
    seq: int
    time: str
    source: str
    type: str
    actor: str | None
    owner: str | None
    summary: str


@dataclass
class CaseState:
    status: str | None = None
    owner: str | None = None
    priority: str | None = None
    sla: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {state, generation, since}
    open_promises: dict[str, dict[str, Any]] = field(default_factory=dict)  # ref -> promise
    holds: dict[str, dict[str, Any]] = field(default_factory=dict)  # hold_ref -> hold


@dataclass
class CaseView:
    case_id: str
    account: str
    as_of_seq: int | None
    as_of_time: str | None
    rows: list[TimelineRow]
    state: CaseState

    @property
    def last_seq(self) -> int:
        return self.rows[-1].seq if self.rows else 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["last_seq"] = self.last_seq
        d["state"]["open_promises"] = list(self.state.open_promises.values())
        d["state"]["holds"] = list(self.state.holds.values())
        return d


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def actor_of(e: CaseEvent) -> str | None:
    for name in ACTOR_FIELDS:
        v = e.data.get(name)
        if v:
            return str(v)
    return None


def summary_of(e: CaseEvent, limit: int = 90) -> str:
    """One line saying what happened, for the timeline table."""
    d = e.data
    kind = e.type.rsplit(".", 1)[-1]
    if e.type == "casestream.contact.logged":
        text = f"{d.get('channel')} {d.get('direction')}: {d.get('summary', '')}"
    elif e.type == "casestream.note.added":
        text = str(d.get("text", ""))
    elif e.type == PROMISE_MADE:
        text = f"promised {d.get('what')!s} by {d.get('due')}"
    elif e.type in PROMISE_CLOSERS:
        text = f"promise {d.get('promise_ref')} {PROMISE_CLOSERS[e.type]}"
    elif e.type == OWNER_ASSIGNED:
        text = f"owner -> {d.get('owner')}" + (f" ({d['reason']})" if d.get("reason") else "")
    elif e.type in SLA_STATES:
        text = f"sla {d.get('sla')} {SLA_STATES[e.type]}"
    elif e.type in (HOLD_PLACED, HOLD_RELEASED):
        text = f"hold {d.get('hold_ref')} {'placed' if e.type == HOLD_PLACED else 'released'}: {d.get('reason', '')}"
    else:
        text = kind.replace("_", " ") + (": " if d else "") + ", ".join(
            f"{k}={v}" for k, v in sorted(d.items()) if not isinstance(v, (dict, list)))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _apply(state: CaseState, case_id: str, e: CaseEvent) -> None:
    d = e.data
    if e.type in CASE_STATUS:
        state.status = CASE_STATUS[e.type]
    elif e.type == OWNER_ASSIGNED:
        state.owner = d.get("owner")
    elif e.type == PRIORITY_CHANGED:
        state.priority = d.get("to")
    elif e.type in SLA_STATES:
        name = str(d.get("sla"))
        gen = d.get("generation")
        cur = state.sla.get(name)
        if e.type != "casestream.escalation.sla_started" and cur is not None and gen is not None \
                and cur.get("generation") is not None and gen != cur["generation"]:
            return  # a late event of an earlier generation of this clock
        state.sla[name] = {"sla": name, "state": SLA_STATES[e.type], "generation": gen, "since": _iso(e.time)}
        if e.type == "casestream.escalation.sla_started" and d.get("priority") and state.priority is None:
            state.priority = d.get("priority")
    elif e.type == PROMISE_MADE:
        ref = f"{case_id}#{e.seq}"
        state.open_promises[ref] = {"ref": ref, "promised_by": d.get("promised_by"), "what": d.get("what"),
                                    "due": d.get("due")}
    elif e.type in PROMISE_CLOSERS:
        state.open_promises.pop(str(d.get("promise_ref", "")), None)
    elif e.type == HOLD_PLACED:
        ref = str(d.get("hold_ref") or e.id)
        state.holds[ref] = {"hold_ref": ref, "scope": d.get("scope"), "reason": d.get("reason"),
                            "dispute_ref": d.get("dispute_ref"), "placed_seq": e.seq}
    elif e.type == HOLD_RELEASED:
        state.holds.pop(str(d.get("hold_ref") or ""), None)


def fold(
    case_id: str, events: Iterable[CaseEvent], *, as_of_seq: int | None = None, as_of_time: datetime | None = None,
) -> CaseView:
    """The case as it stood at the point: events with seq <= as_of_seq and event time <= as_of_time."""
    state = CaseState()
    rows: list[TimelineRow] = []
    account = ""
    for e in sorted(events, key=lambda e: e.seq):
        if as_of_seq is not None and e.seq > as_of_seq:
            break
        if as_of_time is not None and e.time > as_of_time:
            continue  # event time can run behind the sequence; keep the later ones that happened earlier
        account = account or e.account
        _apply(state, case_id, e)
        rows.append(TimelineRow(e.seq, _iso(e.time), e.source, e.type, actor_of(e), state.owner, summary_of(e)))
    return CaseView(case_id, account, as_of_seq, _iso(as_of_time) if as_of_time else None, rows, state)
