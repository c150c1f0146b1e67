"""Deciding who is told what, when: `plan(fact, case, rules, directory, now)`.

Pure: no clock (stream time `now` is passed in), no I/O, no rendering. Each planned
`Notification` carries a deterministic message id, so the same trigger and rule never
notify twice, and a not-before time when quiet hours defer it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from casestream.facts import Fact

from notify.domain.case_file import CaseFile, Promise, parse_time
from notify.domain.rules import PROMISE_DUE_SOON, Contact, Directory, QuietHours, Rule, RuleBook


@dataclass(frozen=True, slots=True)
class Recipient:
    role: str
    key: str  # person id or account id; never sent out in a decision
    name: str
    email: str | None
    webhook: str | None
    time_zone: str
    locale: str
    quiet_hours: QuietHours | None

    def address(self, channel: str) -> str | None:
        return self.email if channel == "email" else self.webhook


@dataclass(frozen=True, slots=True)
class Notification:
    message_id: str
    rule_id: str
    template: str
    channel: str
    recipient_role: str
    recipient: Recipient | None  # None: nobody in the directory fits the role
    locale: str
    urgent: bool
    case_id: str
    subject: str  # the account id
    trigger_ref: str
    not_before: datetime | None = None
    context: Mapping[str, Any] = field(default_factory=dict)


def message_id(case_id: str, trigger: str | int, rule_id: str) -> str:
    """Deterministic id of one rule firing for one trigger of one case."""
    raw = f"{case_id}\x1f{trigger}\x1f{rule_id}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def _trigger(fact: Fact) -> str | int:
    return fact.sequence if fact.sequence and fact.sequence > 0 else fact.id


# ---- recipients ----------------------------------------------------------------------

def _recipient(role: str, key: str, contact: Contact, directory: Directory) -> Recipient:
    d = directory.defaults
    return Recipient(
        role=role,
        key=key,
        name=contact.name,
        email=contact.email,
        webhook=contact.webhook,
        time_zone=contact.time_zone or d.time_zone,
        locale=contact.locale or d.locale,
        quiet_hours=contact.quiet_hours if contact.quiet_hours is not None else d.quiet_hours,
    )


def _person(role: str, person_id: str | None, directory: Directory) -> Recipient | None:
    if not person_id or person_id not in directory.people:
        return None
    return _recipient(role, person_id, directory.people[person_id], directory)


def resolve_recipient(role: str, data: Mapping[str, Any], case: CaseFile, directory: Directory) -> Recipient | None:
    """The person (or customer) who plays `role` for this event, or None."""
    owner = str(data.get("accountable") or data.get("owner") or case.owner or "")
    if owner in directory.queues:  # a queue owns the case: its duty owner is accountable
        owner = directory.queues[owner].duty_owner
    if role == "customer":
        account = case.account or str(data.get("account") or "")
        contact = directory.customer(account)
        return _recipient(role, account, contact, directory) if contact else None
    if role == "owner":
        return _person(role, owner, directory)
    if role == "queue_duty_owner":
        queue = directory.queues.get(str(data.get("to_queue") or data.get("queue") or ""))
        return _person(role, queue.duty_owner if queue else None, directory)
    if role == "supervisor":
        nxt = data.get("next_level_owner")
        if nxt:
            return _person(role, str(nxt), directory)
        person = directory.people.get(owner)
        return _person(role, person.supervisor if person else None, directory)
    if role == "approver":
        return _person(role, str(data.get("approver") or ""), directory)
    if role == "senior_owner":
        return _person(role, directory.senior_owner, directory)
    return None


# ---- quiet hours ---------------------------------------------------------------------

def quiet_until(now: datetime, time_zone: str, quiet: QuietHours | None) -> datetime | None:
    """When quiet hours end (UTC), if `now` falls inside them in `time_zone`; else None."""
    if quiet is None or quiet.start == quiet.end:
        return None
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    t = local.time().replace(tzinfo=None)
    start, end = quiet.start, quiet.end
    if start < end:
        inside, end_day = start <= t < end, local.date()
    else:  # the quiet period crosses midnight
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(now.tzinfo or ZoneInfo("UTC"))


# ---- template variables --------------------------------------------------------------

def _fmt_time(value: datetime | None, time_zone: str) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M %Z")


def _fmt_amount(data: Mapping[str, Any]) -> str:
    amount = data.get("amount_minor")
    if not isinstance(amount, int) or isinstance(amount, bool):
        return ""
    return f"{amount // 100}.{amount % 100:02d} {data.get('currency', '')}".strip()


def context_for(
    data: Mapping[str, Any],
    case: CaseFile,
    directory: Directory,
    recipient: Recipient | None,
    event_time: datetime | None,
    promise: Promise | None = None,
) -> dict[str, Any]:
    """Every template variable, always present (empty when unknown)."""
    tz = recipient.time_zone if recipient else directory.defaults.time_zone
    promise = promise or case.promise(str(data.get("promise_ref") or ""))
    owner = directory.people.get(case.owner or str(data.get("owner") or ""))
    customer = directory.accounts.get(case.account)
    new_due = parse_time(data.get("new_due")) or (promise.new_due if promise else None)
    return {
        "case_ref": case.case_id,
        "recipient_name": recipient.name if recipient else "",
        "customer_name": customer.name if customer else "",
        "owner_name": owner.name if owner else "",
        "promise_what": (promise.what if promise else "") or str(data.get("what") or ""),
        "promise_due": _fmt_time(promise.due if promise else parse_time(data.get("due")), tz),
        "new_due": _fmt_time(new_due, tz),
        "sla": str(data.get("sla") or ""),
        "priority": str(data.get("priority") or ""),
        "level": str(data.get("level") or ""),
        "queue": str(data.get("to_queue") or data.get("queue") or case.queue or ""),
        "reason": str(data.get("reason") or ""),
        "action": str(data.get("action") or ""),
        "amount": _fmt_amount(data),
        "reference": str(data.get("reference") or data.get("approval_ref") or ""),
        "outcome": str(data.get("outcome") or ""),
        "regulator": str(data.get("regulator") or ""),
        "event_time": _fmt_time(event_time, tz),
    }


# ---- planning ------------------------------------------------------------------------

def _notification(
    rule: Rule, trigger: str | int, trigger_ref: str, data: Mapping[str, Any], case: CaseFile,
    subject: str, directory: Directory, now: datetime, event_time: datetime, promise: Promise | None = None,
) -> Notification:
    recipient = resolve_recipient(rule.recipient, data, case, directory)
    locale = rule.locale or (recipient.locale if recipient else directory.defaults.locale)
    not_before = None
    if recipient and not rule.urgent:
        not_before = quiet_until(now, recipient.time_zone, recipient.quiet_hours)
    return Notification(
        message_id=message_id(case.case_id, trigger, rule.id),
        rule_id=rule.id,
        template=rule.template,
        channel=rule.channel,
        recipient_role=rule.recipient,
        recipient=recipient,
        locale=locale,
        urgent=rule.urgent,
        case_id=case.case_id,
        subject=subject,
        trigger_ref=trigger_ref,
        not_before=not_before,
        context=context_for(data, case, directory, recipient, event_time, promise),
    )


def plan(fact: Fact, case: CaseFile, rules: RuleBook, directory: Directory, now: datetime) -> list[Notification]:
    """The notifications `fact` calls for, given the case file already updated with it."""
    planned = [
        _notification(rule, _trigger(fact), fact.ref, fact.data, case, fact.subject, directory, now, fact.time)
        for rule in rules.for_event(fact.type, fact.data)
    ]
    planned.extend(promises_due_soon(case, rules, directory, now, fact.subject))
    return planned


def promises_due_soon(case: CaseFile, rules: RuleBook, directory: Directory, now: datetime, subject: str = "") -> list[Notification]:
    """Proactive reminders for open promises whose due time is within a rule's lead time."""
    if case.closed:
        return []
    out = []
    for rule in rules.rules:
        if rule.event != PROMISE_DUE_SOON:
            continue
        lead = timedelta(minutes=rule.lead_time_minutes or 0)
        for promise in case.open_promises():
            assert promise.due is not None
            data = {"promise_ref": promise.ref, "what": promise.what, "due": promise.due}
            if promise.due - lead <= now < promise.due and rule.matches(PROMISE_DUE_SOON, data):
                # Keyed by the promise, not the fact that noticed it, so it fires once.
                out.append(_notification(rule, promise.ref, promise.ref, data, case, subject or case.account,
                                         directory, now, now, promise))
    return out
