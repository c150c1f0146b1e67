"""Retry policy and webhook signing, without any network."""

import json
from datetime import datetime, timezone

import pytest

from notify.adapters.retry import Attempt, with_retries
from notify.adapters.webhook import cloudevent, sign, verify_signature
from notify.domain.delivery import OutboundMessage, RetryPolicy


def run(results, policy=RetryPolicy(max_attempts=5, base_delay_s=1.0, max_delay_s=5.0)):
    sleeps, ceilings = [], []
    it = iter(results)

    def uniform(lo, hi):
        ceilings.append((lo, hi))
        return hi / 2

    outcome = with_retries(lambda: next(it), policy, sleeps.append, uniform)
    return outcome, sleeps, ceilings


def test_backoff_is_exponential_with_full_jitter_and_capped():
    outcome, sleeps, ceilings = run([Attempt(False, "http_500")] * 5)
    assert ceilings == [(0.0, 1.0), (0.0, 2.0), (0.0, 4.0), (0.0, 5.0)]
    assert sleeps == [0.5, 1.0, 2.0, 2.5]
    assert (outcome.status, outcome.attempts) == ("failed", 5)
    assert outcome.reason == "retries_exhausted: http_500"


def test_success_after_retries_reports_attempts():
    outcome, sleeps, _ = run([Attempt(False, "x"), Attempt(False, "x"), Attempt(True)])
    assert (outcome.status, outcome.attempts, len(sleeps)) == ("sent", 3, 2)


def test_permanent_failure_is_not_retried():
    outcome, sleeps, _ = run([Attempt(False, "http_404", retryable=False)])
    assert (outcome.status, outcome.attempts, outcome.reason, sleeps) == ("failed", 1, "http_404", [])


def test_policy_rejects_zero_attempts():
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_signature_verifies_and_rejects_tampering_and_staleness():
    body = '{"a":1}'
    sig = sign("s3cret", 1_700_000_000, body)
    assert sig.startswith("v1=") and len(sig) == 3 + 64
    assert verify_signature("s3cret", "1700000000", body, sig, now=1_700_000_100)
    assert verify_signature("s3cret", 1700000000, body.encode(), f"v1=00, {sig}", now=1_700_000_000)
    assert not verify_signature("s3cret", 1700000000, '{"a":2}', sig, now=1_700_000_000)
    assert not verify_signature("other", 1700000000, body, sig, now=1_700_000_000)
    assert not verify_signature("s3cret", 1700000001, body, sig, now=1_700_000_000)
    assert not verify_signature("s3cret", 1700000000, body, sig, now=1_700_000_301)
    assert not verify_signature("s3cret", "nan?", body, sig, now=1_700_000_000)
    assert verify_signature("s3cret", 1700000000, body, sig, now=datetime.fromtimestamp(1_700_000_000, timezone.utc))


def test_cloudevent_carries_the_message_but_not_the_address():
    m = OutboundMessage("mid", "webhook", "http://127.0.0.1:1/secret-path", "Subj", "Body\n", "C-1", "ACC-1",
                        "rule", "tmpl", "en", "supervisor", "C-1#3", datetime(2026, 11, 2, 12, tzinfo=timezone.utc))
    ce = cloudevent(m)
    assert ce["specversion"] == "1.0" and ce["id"] == "mid" and ce["caseid"] == "C-1"
    assert ce["time"] == "2026-11-02T12:00:00Z" and ce["data"]["body"] == "Body\n"
    assert "secret-path" not in json.dumps(ce)
