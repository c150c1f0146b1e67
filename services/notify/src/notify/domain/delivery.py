"""What a sender is given and what it reports back, plus the retry policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A rendered, PII-checked message for one recipient on one channel."""

    message_id: str
    channel: str
    to: str  # e-mail address or webhook URL
    subject: str
    body: str
    case_id: str
    account: str
    rule_id: str
    template: str
    locale: str
    recipient_role: str
    trigger_ref: str
    time: datetime


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """`sent` or `failed` after `attempts` tries; `reason` says why it failed."""

    status: Literal["sent", "failed"]
    attempts: int
    reason: str = ""

    @classmethod
    def sent(cls, attempts: int) -> "DeliveryOutcome":
        return cls("sent", attempts)

    @classmethod
    def failed(cls, attempts: int, reason: str) -> "DeliveryOutcome":
        return cls("failed", attempts, reason)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: sleep uniform(0, min(cap, base * 2**n))."""

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")

    def ceiling(self, failed_attempts: int) -> float:
        """The upper bound of the sleep after `failed_attempts` failures (1-based)."""
        return min(self.max_delay_s, self.base_delay_s * (2 ** (failed_attempts - 1)))


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """What the deliveries view shows about one message; never the body or the address."""

    message_id: str
    case_id: str
    rule: str
    template: str
    channel: str
    recipient_role: str
    locale: str
    status: Literal["sending", "sent", "failed", "deferred"]  # "sending": handed over, outcome not yet known
    attempts: int
    reason: str
    at: datetime
    trigger_ref: str
