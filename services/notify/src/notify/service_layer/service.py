"""NotifyService: fold a fact into the case file, plan, deliver, and report decisions.

Decisions (`casestream.notify.notification_sent` / `notification_failed`) carry
channel, template, rule, locale, recipient_role, message_id, attempts, trigger_ref and,
when failed, reason. Never the body, never the address. Their ids are
`notify:<message_id>:sent` / `notify:<message_id>:failed`, so intake dedupes repeats.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Iterable, Mapping, Protocol

from casestream.facts import Decision, Fact

from notify.adapters.delivery_log import DeliveryLog
from notify.domain import case_file
from notify.domain.case_file import CaseFile
from notify.domain.delivery import DeliveryOutcome, DeliveryRecord, OutboundMessage
from notify.domain.plan import Notification, context_for, plan, promises_due_soon, quiet_until, resolve_recipient
from notify.domain.rules import PROMISE_DUE_SOON, ConfigInvalid, Directory, RuleBook
from notify.service_layer.messages import Templates, compose

NOTIFICATION_SENT = "casestream.notify.notification_sent"
NOTIFICATION_FAILED = "casestream.notify.notification_failed"


class Sender(Protocol):
    def send(self, message: OutboundMessage) -> DeliveryOutcome: ...


class UnknownRule(LookupError):
    """`preview` was asked for a rule id that is not in the rule book."""


@dataclass(frozen=True, slots=True)
class Preview:
    subject: str
    body: str
    channel: str
    recipient_role: str
    locale: str
    blocked: str = ""  # non-empty (e.g. "pii_guard") when the message would not be sent


def _check_templates(rules: RuleBook, templates: Templates) -> None:
    resolve = getattr(templates, "resolve", None)
    if resolve is None:
        return
    fallback = getattr(templates, "fallback_locale", "en")
    for i, rule in enumerate(rules.rules):
        try:
            resolve(rule.template, rule.locale or fallback)
        except LookupError:
            raise ConfigInvalid(
                f"rules.{i}.template: {rule.template!r} (rule {rule.id!r}) has no template file; "
                f"expected <templates>/{fallback}/{rule.template}.txt"
            ) from None


class NotifyService:
    """The notify use cases; time is always passed in (stream time), never read."""

    def __init__(
        self,
        rules: RuleBook,
        directory: Directory,
        templates: Templates,
        senders: Mapping[str, Sender],
        dedupe_store: DeliveryLog,
        *,
        send_during_replay: bool = False,
    ) -> None:
        self.rules, self.directory, self.templates = rules, directory, templates
        _check_templates(rules, templates)
        self.senders = dict(senders)
        self.store = dedupe_store
        self.send_during_replay = send_during_replay
        self._cases: dict[str, CaseFile] = {}
        self._last_data: dict[tuple[str, str], Mapping[str, Any]] = {}
        # Deferred by quiet hours, keyed by message id; re-planned on replay after a restart.
        self._deferred: dict[str, Notification] = {}
        # Message ids whose notify decision has come back sequenced (sent or failed).
        self._confirmed: set[str] = set()

    # ---- use cases ---------------------------------------------------------------------

    def handle(self, fact: Fact, now: datetime, *, replaying: bool = False) -> list[Decision]:
        """Apply `fact`, then send what it (and stream time `now`) calls for; returns notify decisions."""
        if fact.type in (NOTIFICATION_SENT, NOTIFICATION_FAILED):
            # Our own decisions come back sequenced: a sent one is proof of delivery.
            mid = str(fact.data.get("message_id") or "")
            if mid:
                self._confirmed.add(mid)
            if fact.type == NOTIFICATION_SENT and mid:
                self.store.mark_sent(mid, fact.case_id)
                self._deferred.pop(mid, None)
            return []
        planned = self._fold(fact, now)
        if replaying and not self.send_during_replay:
            return []
        return self._dispatch(self._due_deferred(now) + planned, now)

    def flush(self, now: datetime) -> list[Decision]:
        """Send messages deferred by quiet hours whose not-before time has passed."""
        return self._dispatch(self._due_deferred(now), now)

    def tick(self, now: datetime) -> list[Decision]:
        """Time passing with no fact: flush deferred messages and remind owners of promises due soon."""
        due = self._due_deferred(now)
        for case in list(self._cases.values()):
            reminders = promises_due_soon(case, self.rules, self.directory, now)
            if reminders:
                # A reminder already tried (sent, failed or deferred) is not retried on every tick.
                tried = {r.message_id for r in self.store.for_case(case.case_id)}
                due.extend(n for n in reminders if n.message_id not in tried and n.message_id not in self._deferred)
        return self._dispatch(due, now)

    def rehydrate(self, facts: Iterable[Fact], now: datetime) -> list[Decision]:
        """Fold facts already processed before a restart, sending nothing.

        Returns the decisions of deliveries the store recorded but whose decision never
        came back sequenced (a crash between sending and submitting); their ids are
        deterministic, so resubmitting them is deduped by intake. Messages still
        deferred by quiet hours are deferred again.
        """
        cases: set[str] = set()
        for fact in facts:
            cases.add(fact.case_id)
            if fact.type in (NOTIFICATION_SENT, NOTIFICATION_FAILED):
                self.handle(fact, now, replaying=True)
                continue
            for n in self._fold(fact, fact.time):
                if n.message_id not in self._deferred:
                    self._deferred[n.message_id] = n  # kept only if the store says it is still deferred
        pending: list[Decision] = []
        for case_id in sorted(cases):
            records = {r.message_id: r for r in self.store.for_case(case_id)}
            for mid, n in list(self._deferred.items()):
                if n.case_id != case_id:
                    continue
                rec = records.get(mid)
                if rec is None or rec.status != "deferred" or self.store.was_sent(mid):
                    del self._deferred[mid]
                elif n.recipient is not None and not n.urgent:
                    self._deferred[mid] = replace(n, not_before=quiet_until(now, n.recipient.time_zone,
                                                                            n.recipient.quiet_hours))
            account = self._cases[case_id].account if case_id in self._cases else ""
            for rec in records.values():
                if rec.status in ("sent", "failed") and rec.message_id not in self._confirmed:
                    pending.append(self._decision_from_record(rec, account))
        return pending

    def forget(self, case_ids: Iterable[str]) -> None:
        """Drop these cases' state and deferred messages (another instance owns them now)."""
        gone = set(case_ids)
        for case_id in gone:
            self._cases.pop(case_id, None)
        self._last_data = {k: v for k, v in self._last_data.items() if k[0] not in gone}
        self._deferred = {mid: n for mid, n in self._deferred.items() if n.case_id not in gone}

    def deliveries(self, case_id: str) -> list[DeliveryRecord]:
        """What this case's customer and staff were sent, failed to be sent, or will be sent."""
        return self.store.for_case(case_id)

    def case(self, case_id: str) -> CaseFile | None:
        return self._cases.get(case_id)

    def preview(self, rule_id: str, case_id: str, locale: str | None = None, now: datetime | None = None) -> Preview:
        """Render what `rule_id` would send for `case_id` now, without sending or recording."""
        rule = self.rules.get(rule_id)
        if rule is None:
            raise UnknownRule(f"rule_id: {rule_id!r} is not a rule; expected one of {[r.id for r in self.rules.rules]}")
        case = self._cases.get(case_id) or CaseFile(case_id=case_id)
        data: Mapping[str, Any] = self._last_data.get((case_id, rule.event), {})
        promise = None
        if rule.event == PROMISE_DUE_SOON and case.open_promises():
            promise = case.open_promises()[0]
            data = {"promise_ref": promise.ref, "what": promise.what}
        recipient = resolve_recipient(rule.recipient, data, case, self.directory)
        use_locale = locale or rule.locale or (recipient.locale if recipient else self.directory.defaults.locale)
        context = context_for(data, case, self.directory, recipient, now, promise)
        composed = compose(self.templates, rule.template, use_locale, context)
        return Preview(composed.subject, composed.body, rule.channel, rule.recipient, composed.locale, composed.blocked)

    # ---- folding and delivery ------------------------------------------------------------

    def _fold(self, fact: Fact, now: datetime) -> list[Notification]:
        case = case_file.apply(self._cases.get(fact.case_id), fact)
        self._cases[fact.case_id] = case
        self._last_data[(fact.case_id, fact.type)] = fact.data
        return plan(fact, case, self.rules, self.directory, now)

    def _due_deferred(self, now: datetime) -> list[Notification]:
        due = [n for n in self._deferred.values() if n.not_before is None or n.not_before <= now]
        for n in due:
            del self._deferred[n.message_id]
        return due

    def _dispatch(self, notifications: list[Notification], now: datetime) -> list[Decision]:
        decisions = []
        for n in notifications:
            if self.store.was_sent(n.message_id):
                continue
            if n.not_before is not None and n.not_before > now:
                if n.message_id not in self._deferred:
                    self._deferred[n.message_id] = n
                    self.store.record(self._record(n, "deferred", 0, "quiet_hours", now, n.locale))
                continue
            decisions.append(self._deliver(n, now))
        return decisions

    def _deliver(self, n: Notification, now: datetime) -> Decision:
        composed = compose(self.templates, n.template, n.locale, n.context)
        locale = composed.locale
        address = n.recipient.address(n.channel) if n.recipient else None
        sender = self.senders.get(n.channel)
        if composed.blocked:
            outcome = DeliveryOutcome.failed(0, composed.blocked)
        elif not address:
            outcome = DeliveryOutcome.failed(0, "no_recipient")
        elif sender is None:
            outcome = DeliveryOutcome.failed(0, f"no_sender_for_channel: {n.channel}")
        elif self.store.status(n.message_id) == "sending":
            # A crash came between handing this message over and recording the outcome: it may
            # have gone out. Sending again could duplicate it, so it is reported, not resent.
            outcome = DeliveryOutcome.failed(0, "interrupted: outcome unknown after a restart; not resent")
        else:
            # Recorded before the hand-over, so a crash mid-send is known after the restart.
            self.store.record(self._record(n, "sending", 0, "", now, locale))
            outcome = sender.send(OutboundMessage(
                message_id=n.message_id, channel=n.channel, to=address, subject=composed.subject,
                body=composed.body, case_id=n.case_id, account=n.subject, rule_id=n.rule_id,
                template=n.template, locale=locale, recipient_role=n.recipient_role,
                trigger_ref=n.trigger_ref, time=now,
            ))
        self.store.record(self._record(n, outcome.status, outcome.attempts, outcome.reason, now, locale))
        return self._decision(n, outcome, now, locale)

    @staticmethod
    def _record(n: Notification, status: Any, attempts: int, reason: str, now: datetime, locale: str) -> DeliveryRecord:
        return DeliveryRecord(
            message_id=n.message_id, case_id=n.case_id, rule=n.rule_id, template=n.template,
            channel=n.channel, recipient_role=n.recipient_role, locale=locale, status=status,
            attempts=attempts, reason=reason, at=now, trigger_ref=n.trigger_ref,
        )

    @staticmethod
    def _decision_from_record(rec: DeliveryRecord, account: str) -> Decision:
        data: dict[str, Any] = {
            "channel": rec.channel, "template": rec.template, "rule": rec.rule, "locale": rec.locale,
            "recipient_role": rec.recipient_role, "message_id": rec.message_id, "attempts": rec.attempts,
            "trigger_ref": rec.trigger_ref,
        }
        if rec.status == "sent":
            return Decision(NOTIFICATION_SENT, f"notify:{rec.message_id}:sent", rec.case_id, account, rec.at, data)
        data["reason"] = rec.reason
        return Decision(NOTIFICATION_FAILED, f"notify:{rec.message_id}:failed", rec.case_id, account, rec.at, data)

    @staticmethod
    def _decision(n: Notification, outcome: DeliveryOutcome, now: datetime, locale: str) -> Decision:
        data: dict[str, Any] = {
            "channel": n.channel,
            "template": n.template,
            "rule": n.rule_id,
            "locale": locale,
            "recipient_role": n.recipient_role,
            "message_id": n.message_id,
            "attempts": outcome.attempts,
            "trigger_ref": n.trigger_ref,
        }
        if outcome.status == "sent":
            return Decision(NOTIFICATION_SENT, f"notify:{n.message_id}:sent", n.case_id, n.subject, now, data)
        data["reason"] = outcome.reason
        return Decision(NOTIFICATION_FAILED, f"notify:{n.message_id}:failed", n.case_id, n.subject, now, data)
