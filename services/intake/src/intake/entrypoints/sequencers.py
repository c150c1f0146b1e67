"""Intake's sequencers as worker processes, one per group of inbound partitions.

The sequencer is CPU-bound Python: in one process it shares the GIL with the projection
feeder and the gRPC server. Each worker here is a full member of the intake consumer group
with its own transactional id, so Kafka spreads the inbound partitions over them exactly as
it would over separate pods, and fencing works the same way after a crash.

The parent supervises: it is ready when every worker has restored its partitions, it stops
them on SIGTERM, and it stops itself (non-zero) when one dies. A worker whose parent vanishes
(kill -9) finishes its batch in flight and exits. Their Prometheus metrics are collected
through prometheus_client's multiprocess mode and served by the parent's metrics endpoint.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

ENV_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
READY = b"ready\n"


def worker_count(configured: int, partitions: int) -> int:
    """How many workers: as configured (0 = one), never more than there are partitions: more
    would sit in the group without one (each still becomes ready, since the group tells every
    member its assignment, even an empty one). One per partition is for throughput (the bench
    sets it); three more processes per intake slowed the test suite's stacks on two cores
    enough to make timing-bound tests flaky, so the default is one."""
    want = configured or 1
    return max(1, min(want, partitions))


def run_worker(index: int, parent_pid: int, ready_fd: int) -> None:
    """The body of one worker process: `python -m intake.entrypoints.sequencers INDEX PARENT_PID`.

    It writes READY to `ready_fd` (its stdout) once its first assignment is restored."""
    from casestream import kafka as cskafka, topics
    from casestream.clock import WallClock
    from casestream.logging import configure_logging
    from casestream.pii import Tokeniser
    from casestream.runtime import freeze_gc, shutdown_event

    from intake.adapters.checkpoint import CheckpointStore
    from intake.adapters.kafka_loop import SequencerLoop
    from intake.config import IntakeSettings
    from intake.service_layer.sequencing import SequencingService

    cfg = IntakeSettings()
    log = configure_logging("intake", cfg.log_level).bind(sequencer=index)
    stop = shutdown_event()

    def orphan_watch() -> None:  # kill -9 of the parent leaves no one to stop us
        while not stop.wait(1.0):
            if os.getppid() != parent_pid:
                log.warning("parent_gone", parent=parent_pid)
                stop.set()

    threading.Thread(target=orphan_watch, name="orphan-watch", daemon=True).start()
    checkpoints = CheckpointStore(cfg.state_dir("intake") / f"sequencer-{topics.EVENTS}.sqlite")
    inbound_partitions = len(cskafka.end_offsets(cfg.kafka_bootstrap, topics.INBOUND))
    service = SequencingService(Tokeniser(cfg.pii_key.encode()), topics.INBOUND, inbound_partitions)
    loop = SequencerLoop(bootstrap=cfg.kafka_bootstrap, instance_id=f"{cfg.instance_id}-s{index}", service=service,
                         checkpoints=checkpoints, clock=WallClock(), log=log, max_batch=cfg.max_batch,
                         session_timeout_s=cfg.consumer_session_timeout_s, txn_interval_s=cfg.txn_interval_ms / 1000)

    def signal_ready() -> None:
        loop.ready.wait()
        try:
            os.write(ready_fd, READY)
        except OSError:  # the parent is gone; orphan_watch stops us
            pass
        freeze_gc(stop)  # the sequencer state (cases, seen ids) only grows

    threading.Thread(target=signal_ready, name="ready", daemon=True).start()
    try:
        loop.run(stop)
    finally:
        checkpoints.close()
        log.info("sequencer_stopped")


class Sequencers:
    """Starts, watches and stops the worker processes (run it as a thread of the parent)."""

    def __init__(self, count: int, metrics_dir: Path, log: Any) -> None:
        self._log = log
        self.count = count
        self._procs: list[subprocess.Popen[bytes]] = []
        self._ready = [threading.Event() for _ in range(count)]
        _enable_multiprocess_metrics(metrics_dir)

    def ready(self) -> bool:
        return all(e.is_set() for e in self._ready)

    def wait_ready(self, stop: threading.Event) -> bool:
        while not stop.wait(0.2):
            if self.ready():
                return True
        return False

    def _watch_ready(self, k: int, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        if proc.stdout.readline() == READY:
            self._ready[k].set()

    def run(self, stop: threading.Event) -> None:
        """Until `stop`; returns early (so the parent stops) if a worker dies."""
        for k in range(self.count):
            # A plain child process (not multiprocessing): it imports only what a sequencer needs,
            # and its stderr is the parent's, so its JSON logs land in the same place.
            p = subprocess.Popen([sys.executable, "-m", "intake.entrypoints.sequencers", str(k), str(os.getpid())],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
            threading.Thread(target=self._watch_ready, args=(k, p), name=f"ready-{k}", daemon=True).start()
            self._procs.append(p)
        self._log.info("sequencers_started", count=self.count, pids=[p.pid for p in self._procs])
        try:
            while not stop.wait(0.5):
                dead = [(k, p.returncode) for k, p in enumerate(self._procs) if p.poll() is not None]
                if dead:
                    self._log.error("sequencer_died", workers=[{"index": k, "exitcode": c} for k, c in dead])
                    return
        finally:
            for p in self._procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in self._procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self._log.error("sequencer_kill", pid=p.pid)
                    p.kill()
                    p.wait(timeout=5)
            _mark_dead(self._procs)


def _enable_multiprocess_metrics(metrics_dir: Path) -> None:
    """Workers write their metrics to files in `metrics_dir`; the parent's registry reads them.

    The parent's own metrics stay in memory (prometheus_client chose that at import), and it
    never defines the sequencer's metrics itself, so no name is exposed twice."""
    from prometheus_client import REGISTRY
    from prometheus_client.multiprocess import MultiProcessCollector

    shutil.rmtree(metrics_dir, ignore_errors=True)  # a previous run's counters are not ours
    metrics_dir.mkdir(parents=True)
    os.environ[ENV_METRICS_DIR] = str(metrics_dir)  # inherited by the spawned workers
    MultiProcessCollector(REGISTRY, path=str(metrics_dir))


def _mark_dead(procs: list[subprocess.Popen[bytes]]) -> None:
    from prometheus_client import multiprocess

    for p in procs:
        if p.pid is not None:
            multiprocess.mark_process_dead(p.pid)


if __name__ == "__main__":
    run_worker(int(sys.argv[1]), int(sys.argv[2]), sys.stdout.fileno())
