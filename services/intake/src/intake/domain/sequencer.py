"""The sequencer: one instance per partition of case.inbound.v1 / case.events.v1.

It links an inbound event to a case, dedupes on (source, id) forever, tokenises PII,
assigns the per-case sequence and the hash chain. State changes only through `apply`,
which is also how a restart folds the tail of the events partition back in, so live
sequencing and recovery share one code path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from casestream import catalogue, chain, envelope
from casestream.cloudevents_codec import InboundEvent
from casestream.envelope import Record
from casestream.pii import Tokeniser
from casestream.v1 import events_pb2

INTAKE_SOURCE = "casestream/intake"
CLOSE_REQUESTED = "casestream.case.close_requested"
REOPEN_REQUESTED = "casestream.case.reopen_requested"
CLOCK_TICKED = "casestream.clock.ticked"
OPENED, REOPENED, CLOSED = "casestream.case.opened", "casestream.case.reopened", "casestream.case.closed"


@dataclass(slots=True)
class CaseHead:
    case_id: str
    account: str
    sequence: int = 0
    last_hash: bytes = chain.ZERO_HASH
    open: bool = True


@dataclass(slots=True)
class PartitionState:
    """Everything the sequencer of one partition knows; rebuilt from the log."""

    partition: int
    cases: dict[str, CaseHead] = field(default_factory=dict)
    open_by_account: dict[str, str] = field(default_factory=dict)
    seen: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    # Next offset of case.events.v1 (this partition) not yet folded in.
    events_offset: int = 0
    # What changed since the last checkpoint (drained by the checkpoint store).
    dirty_cases: set[str] = field(default_factory=set)
    new_seen: list[tuple[str, str, str, int]] = field(default_factory=list)

    def apply(self, ev: events_pb2.CaseEvent, digest: bytes) -> None:
        """Fold one canonical event. Idempotent: an event at or below the head is ignored."""
        head = self.cases.get(ev.case_id)
        if head is None:
            head = self.cases[ev.case_id] = CaseHead(ev.case_id, ev.account_id)
        if ev.sequence <= head.sequence:
            return
        head.sequence, head.last_hash = ev.sequence, digest
        if ev.type in (OPENED, REOPENED):
            head.open = True
            self.open_by_account[head.account] = ev.case_id
        elif ev.type == CLOSED:
            head.open = False
            if self.open_by_account.get(head.account) == ev.case_id:
                del self.open_by_account[head.account]
        key = (ev.source, ev.event_id)
        if key not in self.seen:
            self.seen[key] = (ev.case_id, ev.sequence)
            self.new_seen.append((ev.source, ev.event_id, ev.case_id, ev.sequence))
        self.dirty_cases.add(ev.case_id)


@dataclass(frozen=True, slots=True)
class Rejected:
    code: str
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one inbound event: records appended, a duplicate, or a rejection."""

    records: tuple[Record, ...] = ()
    duplicate_of: tuple[str, int] | None = None
    rejected: Rejected | None = None

    @property
    def case_id(self) -> str | None:
        if self.records:
            return self.records[-1].key.decode()
        return self.duplicate_of[0] if self.duplicate_of else None


def new_case_id(source: str, event_id: str) -> str:
    """Deterministic: the same opening event always opens the same case id."""
    return "C-" + hashlib.sha256(f"{source}\x00{event_id}".encode()).hexdigest()[:12].upper()


class Sequencer:
    def __init__(self, state: PartitionState, tokeniser: Tokeniser) -> None:
        self.state = state
        self._tokeniser = tokeniser

    def sequence(self, event: InboundEvent, *, now: datetime, inbound_offset: int = -1) -> Outcome:
        """Sequence one validated inbound event at intake time `now`."""
        st = self.state
        if event.key in st.seen:
            return Outcome(duplicate_of=st.seen[event.key])
        target, rejected = self._link(event)
        if rejected:
            return Outcome(rejected=rejected)
        data, hits = self._tokeniser.redact(event.data)
        out: list[Record] = []
        if target is None:  # first fact of an account with no open case
            target = new_case_id(event.source, event.id)
            if target in st.cases:
                return Outcome(rejected=Rejected("CASE_ID_COLLISION", "id", f"case id {target} exists"))
            out.append(self._append(target, event.subject, INTAKE_SOURCE, f"open:{target}", OPENED,
                                    event.time, now, {"account": event.subject, "opened_by": f"{event.source}/{event.id}"}))
        out.append(self._append(target, event.subject, event.source, event.id, event.type, event.time, now,
                                data, event.extensions, hits, inbound_offset))
        if event.type == CLOSE_REQUESTED:
            out.append(self._append(target, event.subject, INTAKE_SOURCE, f"close:{target}:{st.cases[target].sequence}",
                                    CLOSED, event.time, now, {"by": data["by"], "resolution": data["resolution"]}))
        elif event.type == REOPEN_REQUESTED:
            out.append(self._append(target, event.subject, INTAKE_SOURCE, f"reopen:{target}:{st.cases[target].sequence}",
                                    REOPENED, event.time, now, {"by": data["by"], "reason": data["reason"]}))
        return Outcome(records=tuple(out))

    def _link(self, event: InboundEvent) -> tuple[str | None, Rejected | None]:
        """The case this event belongs to (None = open a new one), or why it can't be linked."""
        st = self.state
        explicit = event.case_id
        is_decision = catalogue.is_decision(event.type)
        if explicit:
            head = st.cases.get(explicit)
            if head is None:
                return None, Rejected("UNKNOWN_CASE", "caseid", f"no case {explicit!r} on this partition")
            if head.account != event.subject:
                return None, Rejected("ACCOUNT_MISMATCH", "subject",
                                      f"case {explicit} belongs to another account, not {event.subject!r}")
            if event.type == REOPEN_REQUESTED:
                if head.open:
                    return None, Rejected("CASE_OPEN", "caseid", f"case {explicit} is already open")
                if event.subject in st.open_by_account:
                    return None, Rejected("CASE_OPEN", "subject", f"account already has open case {st.open_by_account[event.subject]}")
                return explicit, None
            if not head.open and not is_decision:
                return None, Rejected("CASE_CLOSED", "caseid",
                                      f"case {explicit} is closed; send {REOPEN_REQUESTED} to reopen it")
            return explicit, None
        if is_decision:
            return None, Rejected("MISSING_ATTRIBUTE", "caseid", "service decisions must name their case in the 'caseid' extension")
        if event.type == REOPEN_REQUESTED:
            return None, Rejected("MISSING_ATTRIBUTE", "caseid", "a reopen must name the case in the 'caseid' extension")
        open_case = st.open_by_account.get(event.subject)
        if open_case is None and event.type in (CLOSE_REQUESTED, CLOCK_TICKED):
            return None, Rejected("NO_OPEN_CASE", "subject", f"account {event.subject!r} has no open case")
        return open_case, None

    def _append(
        self, case_id: str, account: str, source: str, event_id: str, type_: str, time: datetime,
        now: datetime, data: dict[str, Any], extensions: dict[str, str] | None = None,
        redactions: list[tuple[str, str, str]] | None = None, inbound_offset: int = -1,
    ) -> Record:
        head = self.state.cases.get(case_id) or CaseHead(case_id, account)
        ev = envelope.build_event(
            case_id=case_id, sequence=head.sequence + 1, prev_hash=head.last_hash, event_id=event_id,
            source=source, type=type_, account_id=account, time=time, sequenced_at=now, data=data,
            extensions={k: v for k, v in (extensions or {}).items() if k != "caseid"},
            redactions=redactions or (), inbound_partition=self.state.partition, inbound_offset=inbound_offset,
        )
        record = envelope.seal(ev)
        self.state.apply(ev, record.hash)
        return record
