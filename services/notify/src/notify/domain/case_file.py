"""The small per-case projection notify needs to personalise messages.

It is a fold over facts: `apply(case, fact)` returns a new `CaseFile`. Decisions from
other services are read tolerantly: every field is looked up with a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Mapping

from casestream.facts import Fact

ESC = "casestream.escalation."


@dataclass(frozen=True, slots=True)
class Promise:
    ref: str
    what: str
    due: datetime | None
    promised_by: str
    status: str = "open"  # open, fulfilled, kept, breached
    new_due: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaseFile:
    case_id: str
    account: str = ""
    owner: str = ""
    queue: str = ""
    closed: bool = False
    promises: Mapping[str, Promise] = field(default_factory=dict)

    def promise(self, ref: str | None) -> Promise | None:
        return self.promises.get(ref) if ref else None

    def open_promises(self) -> list[Promise]:
        return [p for p in self.promises.values() if p.status == "open" and p.due is not None]


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from a datetime or an RFC 3339 string, else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else None
    return None


def _set_promise(case: CaseFile, ref: str, **changes: Any) -> CaseFile:
    current = case.promises.get(ref)
    if current is None:
        return case
    promises = dict(case.promises)
    promises[ref] = replace(current, **changes)
    return replace(case, promises=promises)


def apply(case: CaseFile | None, fact: Fact) -> CaseFile:
    """Fold one fact into the case file."""
    case = case or CaseFile(case_id=fact.case_id)
    data = fact.data
    if not case.account and fact.subject:
        case = replace(case, account=fact.subject)
    t = fact.type
    if t == "casestream.case.opened":
        case = replace(case, account=str(data.get("account") or case.account))
    elif t == "casestream.case.closed":
        case = replace(case, closed=True)
    elif t == "casestream.case.reopened":
        case = replace(case, closed=False)
    elif t in (ESC + "owner_assigned", ESC + "escalated", ESC + "handoff_accepted"):
        case = replace(
            case,
            # The accountable person: escalation's owner may be a queue, whose duty owner answers.
            owner=str(data.get("accountable") or data.get("owner") or case.owner),
            queue=str(data.get("queue") or data.get("to_queue") or case.queue),
        )
    elif t == "casestream.promise.made":
        promises = dict(case.promises)
        promises[fact.ref] = Promise(
            ref=fact.ref,
            what=str(data.get("what", "")),
            due=parse_time(data.get("due")),
            promised_by=str(data.get("promised_by", "")),
        )
        case = replace(case, promises=promises)
    elif t == "casestream.promise.fulfilled":
        case = _set_promise(case, str(data.get("promise_ref", "")), status="fulfilled")
    elif t == ESC + "promise_kept":
        case = _set_promise(case, str(data.get("promise_ref", "")), status="kept")
    elif t == ESC + "promise_breached":
        case = _set_promise(case, str(data.get("promise_ref", "")), status="breached")
    elif t == ESC + "customer_notice_due" and parse_time(data.get("new_due")):
        case = _set_promise(case, str(data.get("promise_ref", "")), new_due=parse_time(data.get("new_due")))
    return case
