"""The escalation worker: case.events.v1 in, decisions out to case.inbound.v1.

Reads in this order: app, topics, tables, agents (the model is the shared `Fact`).
State is the fold of `case_to_facts`; after a restart it is rebuilt by folding the
recovered table without deciding anything, and redelivered facts are skipped.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Any

import faust

from casestream import streaming
from casestream.facts import Decision

from escalation.adapters.fact_log import restore_all, restore_case
from escalation.adapters.metrics import DECISION_LATENCY, DECISIONS_SUBMITTED, FACTS_FOLDED
from escalation.adapters.progress import FoldProgress
from escalation.adapters.recent import RecentlySubmitted
from escalation.config import EscalationSettings
from escalation.service_layer import EscalationService

SOURCE = "casestream/escalation"


def build(cfg: EscalationSettings, service: EscalationService, progress: FoldProgress, log: Any) -> faust.App:
    """The faust app with its topics, table, agent and (in wall-clock mode) timer."""
    # ---- app --------------------------------------------------------------------------
    app = streaming.make_app("escalation", cfg)

    # ---- topics -----------------------------------------------------------------------
    events = streaming.events_topic(app)
    inbound = streaming.inbound_topic(app)

    # ---- tables -----------------------------------------------------------------------
    case_to_facts = app.Table("case_to_facts", default=None)
    fact_log = streaming.FactLog(case_to_facts)
    recent = RecentlySubmitted(cfg.resubmit_after_s)

    # ---- ownership: the cases of this instance's partitions of case.events.v1, and no others
    @case_to_facts.on_recover
    async def _rehydrate() -> None:
        owns = streaming.subject_owner(app, events)
        released = service.release(owns)
        FACTS_FOLDED.labels("rehydrated").inc(restore_all(service, fact_log, progress, log, owns))
        if released:
            log.info("cases_released", cases=released)

    @app.on_partitions_revoked.connect
    async def _revoked(_app: Any, revoked: Any = None, **_: Any) -> None:
        gone = streaming.subject_owner(app, events, revoked or ())
        if released := service.release(lambda subject: not gone(subject)):
            log.info("cases_released", cases=released)

    async def submit(decisions: list[Decision]) -> None:
        """Send until the broker has them all; an unacked decision must never be forgotten."""
        fresh = recent.fresh(decisions)
        delay = 0.2
        while fresh:
            try:
                await streaming.submit(inbound, SOURCE, fresh)
                break
            except Exception as exc:  # broker trouble: retry, the offset is not committed meanwhile
                log.warning("submit_retry", error=str(exc), decisions=len(fresh))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        recent.acked(fresh)
        for d in fresh:
            DECISIONS_SUBMITTED.labels(d.type.rsplit(".", 1)[-1]).inc()

    # ---- agents -----------------------------------------------------------------------
    @app.agent(events)
    async def decide(stream: Any) -> None:
        async for value in stream:
            decoded = streaming.decode_event(value)
            if decoded is None:
                log.warning("undecodable_event")
                continue
            event, fact = decoded
            case_id = fact.case_id
            if service.last_sequence(case_id) == 0:
                restore_case(service, fact_log, progress, case_id)
            if fact.sequence <= service.last_sequence(case_id):
                FACTS_FOLDED.labels("redelivered").inc()
                continue
            decisions = service.handle(fact)
            await submit(decisions)  # acked before the fact is recorded and its offset committed
            fact_log.append(case_id, fact)
            progress.folded(case_id, fact.sequence)
            FACTS_FOLDED.labels("live").inc()
            if decisions:
                sequenced = event.sequenced_at.ToDatetime(tzinfo=timezone.utc).timestamp()
                DECISION_LATENCY.observe(max(0.0, time.time() - sequenced))

    if cfg.clock == "wall":
        @app.timer(interval=cfg.timer_interval_s)
        async def fire_due_timers() -> None:
            # Stream mode gets its time only from facts; wall mode also from this clock.
            if not streaming.streams_ready(app):
                return  # mid-rebalance: the cases held now may be another instance's in a moment
            await submit(service.advance(datetime.now(timezone.utc)))

    return app
