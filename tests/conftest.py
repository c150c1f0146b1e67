"""Fixtures shared by every tier.

The broker is chosen in this order: CASESTREAM_KAFKA_BOOTSTRAP if set; a testcontainers
Kafka if a Docker engine answers; otherwise the local KRaft broker from `make kafka-up`.
Every integration module gets its own topic namespace, so modules never see each
other's records and can assert on whole topics.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    explicit = os.environ.get("CASESTREAM_KAFKA_BOOTSTRAP")
    if explicit:
        yield explicit
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("confluentinc/cp-kafka:7.6.1").with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
        return
    subprocess.run([str(ROOT / "tools/kafka/kafka.sh"), "up"], check=True)
    yield "127.0.0.1:9092"


@pytest.fixture
def namespace() -> str:
    """A fresh topic namespace: 'it-<random>.'"""
    return f"it-{uuid.uuid4().hex[:10]}."


@pytest.fixture(scope="module")
def stack_factory(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Makes stacks (fresh topics + real processes); all are stopped when the module ends."""
    from support.stack import Stack

    stacks: list[Stack] = []

    def make(partitions: int = 3, **env: str) -> Stack:
        s = Stack(kafka_bootstrap, f"it-{uuid.uuid4().hex[:10]}.", tmp_path_factory.mktemp("stack"), partitions, env)
        stacks.append(s)
        return s

    yield make
    for s in stacks:
        s.close()
