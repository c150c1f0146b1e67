"""The domain-facing view of the case stream.

Every service's pure domain consumes `Fact`s (sequenced events, already decoded from
the canonical protobuf body) and returns `Decision`s (events it wants sequenced). The
adapters translate between these and Kafka/CloudEvents; the domain never sees bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Mapping


def _frozen(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(data or {}))


@dataclass(frozen=True, slots=True)
class Fact:
    """One sequenced event of a case, as the domain sees it."""

    case_id: str
    sequence: int
    type: str
    source: str
    id: str
    time: datetime
    subject: str  # the account id
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _frozen(self.data))

    @property
    def ref(self) -> str:
        """A stable reference to this fact that later events can name."""
        return f"{self.case_id}#{self.sequence}"


@dataclass(frozen=True, slots=True)
class Decision:
    """An event a service wants sequenced into the case stream.

    `id` must be deterministic (derived from the facts that caused it), so that a
    replay or a restart produces the same id and intake's (source, id) dedupe drops it.
    """

    type: str
    id: str
    case_id: str
    subject: str
    time: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _frozen(self.data))
