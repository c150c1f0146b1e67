"""Prometheus metrics of the escalation worker."""

from prometheus_client import Counter, Histogram

FACTS_FOLDED = Counter("casestream_escalation_facts_folded_total", "Case facts folded into escalation state",
                       ["path"])  # live | rehydrated | redelivered
DECISIONS_SUBMITTED = Counter("casestream_escalation_decisions_submitted_total",
                              "Decisions acknowledged by the broker on case.inbound.v1", ["type"])
DECISION_LATENCY = Histogram(
    "casestream_escalation_decision_latency_seconds",
    "From the causing fact's sequenced_at to the broker's ack of its decisions",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
