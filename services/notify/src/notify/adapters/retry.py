"""The retry loop shared by the SMTP and webhook senders."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable

from notify.domain.delivery import DeliveryOutcome, RetryPolicy


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try's result: ok, or failed with a reason and whether retrying may help."""

    ok: bool
    reason: str = ""
    retryable: bool = True


def with_retries(
    attempt: Callable[[], Attempt],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    uniform: Callable[[float, float], float] = random.uniform,
) -> DeliveryOutcome:
    """Run `attempt` until it succeeds, fails permanently, or the policy gives up."""
    result = Attempt(ok=False, reason="not attempted")
    for n in range(1, policy.max_attempts + 1):
        result = attempt()
        if result.ok:
            return DeliveryOutcome.sent(n)
        if not result.retryable:
            return DeliveryOutcome.failed(n, result.reason)
        if n < policy.max_attempts:
            sleep(uniform(0.0, policy.ceiling(n)))
    return DeliveryOutcome.failed(policy.max_attempts, f"retries_exhausted: {result.reason}")
