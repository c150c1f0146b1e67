"""A test stack: fresh topics in their own namespace and real service processes."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from casestream import procs, topics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, bootstrap: str, namespace: str, run_dir: Path, partitions: int, env: dict[str, str]) -> None:
        self.bootstrap = bootstrap
        self.ns = namespace
        self.run_dir = run_dir
        self.partitions = partitions
        self.inbound = f"{namespace}case.inbound.v1"
        self.events = f"{namespace}case.events.v1"
        self.dlq = f"{namespace}case.inbound.dlq.v1"
        self.audit = f"{namespace}case.audit.v1"
        self.env = {"CASESTREAM_KAFKA_BOOTSTRAP": bootstrap, "CASESTREAM_TOPIC_NAMESPACE": namespace,
                    "CASESTREAM_LOG_LEVEL": "INFO", **env}
        self.procs: dict[str, procs.Process] = {}
        topics.ensure_topics(bootstrap, partitions, namespace=namespace)

    def start(self, name: str, instance: str = "0", **env: str) -> procs.Process:
        spec = procs.SERVICES[name]
        p = procs.Process(spec, self.run_dir, {**self.env, **env}, grpc_port=free_port() if spec.grpc_port else 0,
                          metrics_port=0, instance=instance).start()
        p.wait_serving()
        self.procs[name] = p
        return p

    def grpc_addr(self, name: str) -> str:
        return f"127.0.0.1:{self.procs[name].grpc_port}"

    def logs(self, lines: int = 25) -> str:
        """The tail of every process's log, for failure messages."""
        return "\n".join(f"--- {name} ---\n{p.tail(lines)}" for name, p in self.procs.items())

    def close(self) -> None:
        for p in reversed(list(self.procs.values())):
            p.stop()
        self._delete_topics()

    def _delete_topics(self) -> None:
        """Best effort: a local broker slows down as thousands of test topics pile up."""
        from confluent_kafka.admin import AdminClient

        try:
            admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0})
            names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(self.ns)]
            if names:
                for f in admin.delete_topics(names, operation_timeout=30).values():
                    f.result()
        except Exception:
            pass


def wait_until(predicate: Any, timeout: float = 60.0, interval: float = 0.2, what: str = "condition",
               stack: "Stack | None" = None) -> Any:
    """Poll `predicate` until it is truthy; on time-out, fail with the services' log tails."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = f"\n{stack.logs()}" if stack is not None else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{logs}")
        time.sleep(interval)
