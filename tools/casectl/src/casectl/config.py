"""Where casectl connects and which topics it reads: the environment, overridable by flags.

Topic names are computed on each call (not at import), so one process can serve
several namespaces (tests pass CASESTREAM_TOPIC_NAMESPACE per invocation).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_INTAKE_ADDR = "127.0.0.1:50051"


@dataclass(frozen=True)
class Topics:
    inbound: str
    events: str
    dlq: str
    audit: str


def topics() -> Topics:
    ns = os.environ.get("CASESTREAM_TOPIC_NAMESPACE", "")
    return Topics(f"{ns}case.inbound.v1", f"{ns}case.events.v1", f"{ns}case.inbound.dlq.v1", f"{ns}case.audit.v1")


def bootstrap(flag: str | None = None) -> str:
    return flag or os.environ.get("CASESTREAM_KAFKA_BOOTSTRAP") or DEFAULT_BOOTSTRAP


def intake_addr(flag: str | None = None) -> str:
    return flag or os.environ.get("CASESTREAM_INTAKE_ADDR") or DEFAULT_INTAKE_ADDR


def group(name: str) -> str:
    return os.environ.get("CASESTREAM_TOPIC_NAMESPACE", "") + name
