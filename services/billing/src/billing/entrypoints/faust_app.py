"""Billing's stream processor: case.events.v1 -> ledger projection -> decisions on case.inbound.v1.

At-least-once: a fact's decisions are acked by the broker before the fact is recorded in
`account_to_facts`, and only then can its offset commit. After a restart each account is
rebuilt by folding its recorded facts without deciding; a redelivered fact is already
folded (same source/id) and yields nothing, and a fact whose decisions were sent but not
recorded is decided again with the same ids, which intake dedupes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import faust

from casestream import streaming
from casestream.clock import WallClock

from billing.adapters import metrics
from billing.adapters.account_store import FactLogAccounts
from billing.config import BillingSettings
from billing.domain import events as ev
from billing.domain.fold import MalformedFact
from billing.policy import load_policy
from billing.service_layer import BillingService

SOURCE = "casestream/billing"


@dataclass
class BillingStream:
    app: faust.App
    service: BillingService
    accounts: FactLogAccounts


def build(cfg: BillingSettings, log: Any) -> BillingStream:
    """The faust app with its topics, its table and its agents, around one BillingService."""
    policy = load_policy(cfg.billing_policy_file)

    # ---- app
    app = streaming.make_app("billing", cfg)

    # ---- topics
    events = streaming.events_topic(app)
    inbound = streaming.inbound_topic(app)

    # ---- tables
    account_to_facts = app.Table("account_to_facts", default=None)
    fact_log = streaming.FactLog(account_to_facts)

    def recovered() -> bool:
        return streaming.streams_ready(app)

    def owns(account_id: str) -> bool:  # an account's facts have it as their subject
        return streaming.subject_owner(app, events)(account_id)

    accounts = FactLogAccounts(fact_log, recovered, owns)
    service = BillingService(accounts, policy)

    # ---- agents
    @app.agent(events)
    async def ledger(stream: Any) -> None:
        async for value in stream:
            await _process(value)

    async def _process(value: bytes) -> None:
        decoded = streaming.decode_event(value)
        if decoded is None:
            metrics.FACTS_SKIPPED.labels("undecodable").inc()
            log.warning("fact_undecodable")
            return
        event, fact = decoded
        if fact.type not in ev.RELEVANT:
            return
        touched = service.accounts_touched(fact)
        try:
            decisions = service.handle(fact)
        except MalformedFact as exc:
            metrics.FACTS_SKIPPED.labels("malformed").inc()
            log.warning("fact_malformed", ref=fact.ref, type=fact.type, error=str(exc))
            return
        if decisions:
            await streaming.submit(inbound, SOURCE, decisions)
            metrics.decisions_submitted(decisions)
            sequenced_at = event.sequenced_at.ToDatetime(tzinfo=timezone.utc)
            metrics.DECISION_LATENCY.observe(max(0.0, (datetime.now(timezone.utc) - sequenced_at).total_seconds()))
            log.info("decided", ref=fact.ref, type=fact.type, account=fact.subject,
                     decisions=[d.type.removeprefix("casestream.billing.") for d in decisions])
        if any([fact_log.append(account, fact) for account in touched]):
            metrics.FACTS_FOLDED.inc()

    if cfg.clock == "wall":
        clock = WallClock()

        @app.timer(interval=cfg.dunning_interval_s)
        async def dun() -> None:
            if not recovered():
                return
            decisions = service.due_notices(clock.now())
            if decisions:
                await streaming.submit(inbound, SOURCE, decisions)
                metrics.decisions_submitted(decisions)

    # After a rebalance the accounts are rebuilt from the (re)recovered table, never from a cache.
    @app.on_partitions_revoked.connect
    async def _revoked(_app: Any, revoked: Any = None, **_: Any) -> None:
        accounts.forget()

    @app.on_partitions_assigned.connect
    async def _assigned(_app: Any, assigned: Any = None, **_: Any) -> None:
        accounts.forget()
        log.info("partitions_assigned", partitions=sorted(tp.partition for tp in assigned or ()
                                                          if tp.topic == events.get_topic_name()))

    return BillingStream(app, service, accounts)
