"""Notify's faust app: case.events.v1 -> NotifyService -> case.inbound.v1.

Each live fact is handled (deliveries happen here), its notify decisions are submitted
and acknowledged by the broker, and only then is the fact appended to `case_to_facts`
and its offset allowed to commit. Facts already in the table are redeliveries and are
skipped. Facts sequenced more than CASESTREAM_NOTIFY_REPLAY_WINDOW_S before this
process started are history: planned, not sent (unless CASESTREAM_REPLAY_SENDS=true).

The service layer does blocking I/O (SMTP, HTTP, SQLite, retries with backoff), so it
runs on one worker thread, which also serialises every use of its in-memory state.
"""

from __future__ import annotations

import asyncio
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import faust
from prometheus_client import Counter, Histogram

from casestream import streaming
from casestream.clock import StreamClock, WallClock
from casestream.facts import Decision, Fact

from notify.adapters.case_facts import CaseFacts, Rehydrator
from notify.config import NotifySettings
from notify.service_layer.service import NotifyService

SOURCE = "casestream/notify"
CLOCK_TICKED = "casestream.clock.ticked"

FACTS_FOLDED = Counter("casestream_notify_facts_folded_total", "Facts folded into notify's state",
                       ["path"])  # live, history (replay: planned, not sent), rehydrated, redelivery_skipped
DECISIONS_SUBMITTED = Counter("casestream_notify_decisions_submitted_total", "Notify decisions acked by the broker",
                              ["type"])
DECISION_LATENCY = Histogram(
    "casestream_notify_decision_latency_seconds",
    "From the trigger's sequencing (CaseEvent.sequenced_at) to its notify decisions acked by the broker",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


class NotifyWorker:
    """The synchronous use of the service, run on one thread: fold, decide, deliver."""

    def __init__(self, cfg: NotifySettings, service: NotifyService, cases: CaseFacts, started_at: datetime) -> None:
        self.service, self.cases = service, cases
        self.stream_time = cfg.clock == "stream"
        self.clock: StreamClock | WallClock = StreamClock() if self.stream_time else WallClock()
        self.replay_cutoff = started_at - timedelta(seconds=cfg.notify_replay_window_s)
        self.rehydrator = Rehydrator(cases, service, self._rehydrate_now)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify-service")

    def _rehydrate_now(self, facts: list[Fact]) -> datetime:
        if isinstance(self.clock, StreamClock):
            return self.clock.advance(max(f.time for f in facts))
        return self.clock.now()

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, functools.partial(fn, *args))

    def process(self, fact: Fact, sequenced_at: datetime) -> list[Decision] | None:
        """The decisions for one live fact, or None if it was folded before (a redelivery)."""
        folded = self.rehydrator.ensure(fact.case_id)
        if folded:
            FACTS_FOLDED.labels("rehydrated").inc(folded)
        if self.cases.is_folded(fact):
            FACTS_FOLDED.labels("redelivery_skipped").inc()
            return None
        history = sequenced_at < self.replay_cutoff
        now = self.clock.advance(fact.time) if isinstance(self.clock, StreamClock) else self.clock.now()
        decisions = self.service.handle(fact, now, replaying=history)
        if fact.type == CLOCK_TICKED and (not history or self.service.send_during_replay):
            decisions += self.service.tick(now)  # stream time moved for every case, not just this one
        FACTS_FOLDED.labels("history" if history else "live").inc()
        return self.rehydrator.take_outbox() + decisions

    def tick(self) -> list[Decision]:
        """Wall-clock time passing: deferred messages and promise reminders (no-op in stream mode)."""
        out = self.rehydrator.take_outbox()
        if not self.stream_time:
            out += self.service.tick(self.clock.now())
        return out

    def hydrate(self, case_id: str, timeout_s: float = 10.0) -> None:
        """Make sure `case_id`'s recovered state is folded (for gRPC readers on other threads)."""
        self.executor.submit(self.rehydrator.ensure, case_id).result(timeout_s)


def create_app(cfg: NotifySettings, service: NotifyService, log: Any) -> tuple[faust.App, NotifyWorker]:
    # model: CaseEvent bytes on case.events.v1 (decoded to casestream.facts.Fact); decisions
    # go out as CloudEvents built by streaming.submit.
    app = streaming.make_app("notify", cfg)

    events = streaming.events_topic(app)
    inbound = streaming.inbound_topic(app)

    case_to_facts = app.Table("case_to_facts", default=None)
    cases = CaseFacts(case_to_facts)
    worker = NotifyWorker(cfg, service, cases, datetime.now(timezone.utc))

    async def submit(decisions: list[Decision]) -> None:
        await streaming.submit(inbound, SOURCE, decisions)
        for d in decisions:
            DECISIONS_SUBMITTED.labels(d.type).inc()

    @app.agent(events)
    async def notify(stream: Any) -> None:
        async for value in stream:
            decoded = streaming.decode_event(value)
            if decoded is None:
                log.warning("undecodable_event_skipped")
                continue
            event, fact = decoded
            sequenced_at = event.sequenced_at.ToDatetime(tzinfo=timezone.utc)
            decisions = await worker.run(worker.process, fact, sequenced_at)
            if decisions is None:
                continue
            if decisions:
                await submit(decisions)  # acked before the offset can commit
                DECISION_LATENCY.observe(max(0.0, time.time() - sequenced_at.timestamp()))
                log.info("decisions_submitted", case_id=fact.case_id, trigger=fact.type, sequence=fact.sequence,
                         decisions=[d.type for d in decisions])
            cases.append(fact.case_id, fact)  # only after the decisions are durable

    # ---- ownership: the cases of this instance's partitions of case.events.v1, and no others
    @case_to_facts.on_recover
    async def rehydrate_owned() -> None:
        owns = streaming.subject_owner(app, events)
        released = await worker.run(worker.rehydrator.release, owns)
        folded = await worker.run(worker.rehydrator.ensure_all, owns)
        FACTS_FOLDED.labels("rehydrated").inc(folded)
        log.info("rehydrated", facts=folded, cases=len(cases.keys()), released=len(released))

    @app.on_partitions_revoked.connect
    async def _revoked(_app: Any, revoked: Any = None, **_: Any) -> None:
        gone = streaming.subject_owner(app, events, revoked or ())
        released = await worker.run(worker.rehydrator.release, lambda subject: not gone(subject))
        if released:
            log.info("cases_released", cases=len(released))

    @app.timer(interval=1.0)
    async def time_passes() -> None:
        if not streaming.streams_ready(app):  # mid-rebalance, held cases may be another instance's
            return
        decisions = await worker.run(worker.tick)
        if decisions:
            await submit(decisions)
            log.info("decisions_submitted", trigger="tick", decisions=[d.type for d in decisions])

    return app, worker
