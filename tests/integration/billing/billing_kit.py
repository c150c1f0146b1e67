"""Producing billing facts as internal systems do (plain kafka-python CloudEvents), and
reading billing's decisions back from case.events.v1."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import grpc
from kafka import KafkaProducer

from casestream import envelope, procs
from casestream.facts import Fact
from casestream.v1 import billing_pb2, billing_pb2_grpc
from support.arms_length import read_topic
from support.stack import free_port

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
BILLING_SOURCE = "casestream/billing"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


class Producer:
    """An internal system publishing structured-mode CloudEvents keyed by account."""

    def __init__(self, bootstrap: str, topic: str, source: str = "billing-core") -> None:
        self.p = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=2)
        self.topic, self.source = topic, source
        self._ids = itertools.count(1)

    def send(self, type_: str, account: str, at: datetime, data: dict[str, Any], *, source: str | None = None,
             id_: str | None = None, caseid: str | None = None) -> str:
        src = source or self.source
        doc = {"specversion": "1.0", "id": id_ or f"{src}-{account}-{next(self._ids)}", "source": src, "type": type_,
               "subject": account, "time": iso(at), "datacontenttype": "application/json", "data": data}
        if caseid:
            doc["caseid"] = caseid
        self.p.send(self.topic, key=account.encode(), value=json.dumps(doc).encode(),
                    headers=[("content-type", b"application/cloudevents+json")])
        return doc["id"]

    def charge(self, account: str, ref: str, amount: int, due: datetime, at: datetime | None = None) -> str:
        return self.send("casestream.billing.charge_posted", account, at or due - timedelta(days=14),
                         {"reference": ref, "amount_minor": amount, "currency": "USD", "due": iso(due)})

    def payment(self, account: str, ref: str, amount: int, at: datetime) -> str:
        return self.send("casestream.billing.payment_received", account, at,
                         {"reference": ref, "amount_minor": amount, "currency": "USD"})

    def holder(self, account: str, name: str, reason: str, at: datetime) -> str:
        return self.send("casestream.account.holder_changed", account, at, {"new_holder": name, "reason": reason})

    def tick(self, account: str, at: datetime) -> str:
        return self.send("casestream.clock.ticked", account, at, {})

    def evidence(self, account: str, ref: str, amount: int, at: datetime, **extra: Any) -> str:
        return self.send("casestream.billing.payment_evidence_submitted", account, at,
                         {"kind": "cancelled_check", "reference": ref, "amount_minor": amount, "currency": "USD", **extra})

    def dispute(self, account: str, ref: str, at: datetime, reason: str = "I paid this") -> str:
        return self.send("casestream.billing.dispute_opened", account, at, {"reference": ref, "reason": reason})

    def ruling(self, account: str, ref: str, outcome: str, at: datetime, by: str = "billing-supervisor-2") -> str:
        return self.send("casestream.billing.dispute_ruled", account, at, {"reference": ref, "outcome": outcome, "by": by})

    def flush(self) -> None:
        self.p.flush()


@dataclass(frozen=True)
class Sequenced:
    fact: Fact
    partition: int
    offset: int

    @property
    def kind(self) -> str:
        return self.fact.type.removeprefix("casestream.billing.")


def sequenced(bootstrap: str, topic: str) -> list[Sequenced]:
    return [Sequenced(envelope.fact_from_value(r.value), r.partition, r.offset) for r in read_topic(bootstrap, topic)]


def decisions(bootstrap: str, topic: str, account: str | None = None) -> list[Sequenced]:
    return [s for s in sequenced(bootstrap, topic)
            if s.fact.source == BILLING_SOURCE and (account is None or s.fact.subject == account)]


def start_billing(stack: Any, metrics_port: int = 0) -> procs.Process:
    """Start the real billing process on the stream clock (optionally with its metrics port)."""
    # The broker's minimum session: a member killed with -9 is given up on sooner.
    env = {**stack.env, "CASESTREAM_CLOCK": "stream", "CASESTREAM_CONSUMER_SESSION_TIMEOUT_S": "6"}
    p = procs.Process(procs.SERVICES["billing"], stack.run_dir, env,
                      grpc_port=free_port(), metrics_port=metrics_port).start()
    stack.procs["billing"] = p
    p.wait_serving()
    return p


def billing_stub(stack: Any) -> tuple[grpc.Channel, billing_pb2_grpc.BillingServiceStub]:
    ch = grpc.insecure_channel(stack.grpc_addr("billing"))
    return ch, billing_pb2_grpc.BillingServiceStub(ch)


def account_snapshot(stub: billing_pb2_grpc.BillingServiceStub, account: str, min_events: int = 0) -> tuple:
    """What gRPC says about an account: the account view and its whole ledger."""
    acc = stub.GetAccount(billing_pb2.GetAccountRequest(account_id=account, min_events=min_events), timeout=15)
    ledger = stub.ListLedger(billing_pb2.ListLedgerRequest(account_id=account, page_size=500), timeout=5)
    return acc.SerializeToString(deterministic=True), ledger.SerializeToString(deterministic=True)
