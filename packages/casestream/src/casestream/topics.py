"""The topics of the contract, and their creation with the settings ARCHITECTURE.md gives."""

from __future__ import annotations

import argparse
import os
import time

# An optional prefix for topics and consumer groups, so tests (or two stacks on one
# broker) never see each other's records. Empty in production.
NAMESPACE = os.environ.get("CASESTREAM_TOPIC_NAMESPACE", "")

INBOUND = f"{NAMESPACE}case.inbound.v1"
EVENTS = f"{NAMESPACE}case.events.v1"
DLQ = f"{NAMESPACE}case.inbound.dlq.v1"
AUDIT = f"{NAMESPACE}case.audit.v1"


def group(name: str) -> str:
    """A consumer group id in this namespace."""
    return f"{NAMESPACE}{name}"

SEVEN_DAYS_MS = str(7 * 24 * 3600 * 1000)

# name -> config. The events topic keeps everything forever and is never compacted.
TOPIC_CONFIGS: dict[str, dict[str, str]] = {
    INBOUND: {"cleanup.policy": "delete", "retention.ms": SEVEN_DAYS_MS, "max.message.bytes": "2097152"},
    EVENTS: {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1",
             "max.message.bytes": "2097152", "min.insync.replicas": "1"},
    DLQ: {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1", "max.message.bytes": "4194304"},
    AUDIT: {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"},
}


def ensure_topics(
    bootstrap: str, partitions: int = 3, replication: int = 1, timeout_s: float = 60.0, namespace: str | None = None,
) -> list[str]:
    """Create any missing topic; events and inbound get the same partition count. Returns the created names."""
    ns = NAMESPACE if namespace is None else namespace
    inbound, events = (ns + n[len(NAMESPACE):] for n in (INBOUND, EVENTS))
    configs = {ns + n[len(NAMESPACE):]: cfg for n, cfg in TOPIC_CONFIGS.items()}
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            from casestream.settings import CommonSettings

            admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="casestream-topics",
                                     **CommonSettings().kafka_security())
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        existing = set(admin.list_topics())
        if events in existing and inbound in existing:
            desc = {t["name"]: len(t["partitions"]) for t in admin.describe_topics([inbound, events])}
            if desc[inbound] != desc[events]:
                raise RuntimeError(f"{inbound} has {desc[inbound]} partitions but {events} has {desc[events]}")
            partitions = desc[inbound]
        elif inbound in existing:
            partitions = len(admin.describe_topics([inbound])[0]["partitions"])
        created = []
        for name, cfg in configs.items():
            if name in existing:
                continue
            n = 1 if name.endswith("case.audit.v1") else partitions
            try:
                admin.create_topics([NewTopic(name, n, replication, topic_configs=cfg)])
                created.append(name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


def main() -> None:
    p = argparse.ArgumentParser(description="Create the Casestream topics if missing.")
    p.add_argument("--bootstrap", default="127.0.0.1:9092")
    p.add_argument("--partitions", type=int, default=3)
    a = p.parse_args()
    created = ensure_topics(a.bootstrap, a.partitions)
    print("topics: created " + (", ".join(created) if created else "nothing (all present)"))


if __name__ == "__main__":
    main()
