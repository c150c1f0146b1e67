"""Webhook delivery: a CloudEvent (structured mode) POSTed with an HMAC-SHA256 signature.

Signature: `X-Casestream-Signature: v1=<hex hmac_sha256(secret, f"{timestamp}.{body}")>`
with `X-Casestream-Timestamp` in Unix seconds. Receivers check it with
`verify_signature`, which also rejects stale timestamps (replay protection).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any, Callable

from notify.adapters.retry import Attempt, with_retries
from notify.domain.delivery import DeliveryOutcome, OutboundMessage, RetryPolicy

SIGNATURE_HEADER = "X-Casestream-Signature"
TIMESTAMP_HEADER = "X-Casestream-Timestamp"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
EVENT_TYPE = "casestream.notify.message"


def _as_text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def sign(secret: str | bytes, timestamp: int | str, body: str | bytes) -> str:
    """The `v1=<hex>` signature of `body` sent at `timestamp`."""
    key = secret.encode() if isinstance(secret, str) else secret
    payload = f"{timestamp}.{_as_text(body)}".encode("utf-8")
    return "v1=" + hmac.new(key, payload, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str | bytes,
    timestamp: str | int,
    body: str | bytes,
    signature: str,
    now: float | datetime,
    tolerance_s: int = 300,
) -> bool:
    """True if `signature` (possibly several, comma-separated) matches and `timestamp` is fresh."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    now_s = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(now_s - ts) > tolerance_s:
        return False
    expected = sign(secret, ts, body)
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in signature.split(","))


def cloudevent(message: OutboundMessage) -> dict[str, Any]:
    """The notification as a CloudEvent; carries the message, never the recipient's address."""
    return {
        "specversion": "1.0",
        "id": message.message_id,
        "source": "casestream/notify",
        "type": EVENT_TYPE,
        "subject": message.account,
        "caseid": message.case_id,
        "time": message.time.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": {
            "message_id": message.message_id,
            "case_id": message.case_id,
            "rule": message.rule_id,
            "template": message.template,
            "locale": message.locale,
            "recipient_role": message.recipient_role,
            "trigger_ref": message.trigger_ref,
            "subject": message.subject,
            "body": message.body,
        },
    }


class WebhookSender:
    """POSTs signed CloudEvents; 2xx is success, 408/429/5xx and network errors are retried."""

    channel = "webhook"

    def __init__(
        self,
        secret: str | bytes,
        policy: RetryPolicy = RetryPolicy(),
        timeout_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("webhook secret must not be empty")
        self._secret = secret
        self.policy, self.timeout_s = policy, timeout_s
        self._sleep, self._uniform, self._wall_clock = sleep, uniform, wall_clock
        # Webhook targets are configured explicitly; ambient *_proxy variables must not reroute them.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _attempt(self, url: str, body: str) -> Attempt:
        # Each attempt is signed afresh, so a late retry is not rejected as stale.
        timestamp = int(self._wall_clock())
        request = urllib.request.Request(
            url,
            data=body.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": CONTENT_TYPE,
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                response.read()
                return Attempt(ok=True)
        except urllib.error.HTTPError as exc:
            code = exc.code
            exc.close()
            retryable = code in (408, 429) or code >= 500
            return Attempt(False, f"http_{code}", retryable=retryable)
        except (urllib.error.URLError, OSError) as exc:
            cause = getattr(exc, "reason", exc)
            return Attempt(False, f"webhook_unavailable: {type(cause).__name__}")

    def send(self, message: OutboundMessage) -> DeliveryOutcome:
        body = json.dumps(cloudevent(message), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return with_retries(lambda: self._attempt(message.to, body), self.policy, self._sleep, self._uniform)
