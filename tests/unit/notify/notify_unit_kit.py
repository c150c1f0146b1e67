"""Shared builders for notify unit tests: facts, a directory, in-memory fakes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from casestream.facts import Fact

from notify.adapters.config_files import load_directory, load_rules
from notify.adapters.delivery_log import InMemoryDeliveryLog
from notify.adapters.templates import TemplateLibrary
from notify.domain.delivery import DeliveryOutcome, OutboundMessage
from notify.service_layer.service import NotifyService

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)  # 13:00 in Copenhagen, 07:00 in New York


def fact(seq: int, type_: str, data: dict[str, Any] | None = None, at: datetime = T0,
         case_id: str = "C-1", account: str = "ACC-2") -> Fact:
    return Fact(case_id=case_id, sequence=seq, type=type_, source="test", id=f"ev-{case_id}-{seq}",
                time=at, subject=account, data=data or {})


def opening(case_id: str = "C-1", account: str = "ACC-2", owner: str = "a-17") -> list[Fact]:
    return [
        fact(1, "casestream.case.opened", {"account": account, "opened_by": "test/1"}, case_id=case_id, account=account),
        fact(2, "casestream.escalation.owner_assigned", {"owner": owner, "queue": "frontline"},
             case_id=case_id, account=account),
    ]


class RecordingSender:
    def __init__(self, outcome: DeliveryOutcome | None = None) -> None:
        self.sent: list[OutboundMessage] = []
        self.outcome = outcome or DeliveryOutcome.sent(1)

    def send(self, message: OutboundMessage) -> DeliveryOutcome:
        self.sent.append(message)
        return self.outcome


def service(**kwargs: Any) -> tuple[NotifyService, RecordingSender, RecordingSender]:
    email, webhook = RecordingSender(), RecordingSender()
    svc = NotifyService(load_rules(), load_directory(), TemplateLibrary(), {"email": email, "webhook": webhook},
                        kwargs.pop("store", None) or InMemoryDeliveryLog(), **kwargs)
    return svc, email, webhook


def feed(svc: NotifyService, facts: list[Fact]) -> list:
    out = []
    for f in facts:
        out.extend(svc.handle(f, f.time))
    return out


H = timedelta(hours=1)
