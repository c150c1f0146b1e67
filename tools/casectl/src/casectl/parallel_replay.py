"""`casectl replay` over several processes: each worker reads whole partitions (librdkafka,
read_committed) and folds each into a part file (`projection.fold_part`); the parent relays
progress and joins the parts in partition order as they come in (`projection.Merge`, all in
SQLite's C code), then builds the indexes.

The per-record work (librdkafka's message objects, their headers, the fold, the inserts)
is Python-bound, so one process keeps one core busy; the partitions are independent
(a case lives on one partition), so they fold side by side.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from casectl import kafka_io, projection
from casectl.projection import PartInfo, RebuildResult

MAX_WORKERS = 16
WORKERS_ENV = "CASECTL_REPLAY_WORKERS"
START_ENV = "CASECTL_REPLAY_START_METHOD"


class ReplayWorkerError(RuntimeError):
    """A worker failed in a way that could not be sent back as the exception itself."""


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers(partitions: int) -> int:
    """Worker processes for `partitions` non-empty partitions: $CASECTL_REPLAY_WORKERS if set,
    else one per partition up to twice the usable cores (a worker per partition balances
    3 partitions over 2 cores better than 2 workers would); 1 (no workers) on one core."""
    env = os.environ.get(WORKERS_ENV, "").strip()
    if env:
        return max(1, min(int(env), partitions))
    n = cpus()
    return 1 if n < 2 else max(1, min(partitions, 2 * n, MAX_WORKERS))


def assign(sizes: dict[int, int], workers: int) -> list[list[int]]:
    """Partitions to workers, largest first onto the least loaded (each list in partition order)."""
    loads = [[0, i, []] for i in range(workers)]
    for p in sorted(sizes, key=lambda q: (-sizes[q], q)):
        slot = min(loads, key=lambda x: (x[0], x[1]))
        slot[0] += sizes[p]
        slot[2].append(p)
    return [sorted(x[2]) for x in loads if x[2]]


def _context() -> Any:
    """fork on Linux: a worker starts in milliseconds with everything imported (spawn costs
    ~0.5 s of imports per worker). $CASECTL_REPLAY_START_METHOD overrides it, e.g. `spawn` for
    a caller that keeps librdkafka clients of its own running (`replay.rebuild` closes its own
    before the workers start)."""
    method = os.environ.get(START_ENV) or ("fork" if sys.platform.startswith("linux") else "spawn")
    return multiprocessing.get_context(method)


def _part_path(store: Path, partition: int) -> Path:
    return store.with_name(f".{store.name}.{os.getpid()}.p{partition}.tmp")


def _portable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return ReplayWorkerError(f"{type(exc).__name__}: {exc}")


def _work(bootstrap: str, topic: str, jobs: list[tuple[int, int, int, str]], conn: Any) -> None:
    """Worker process: fold each (partition, begin, end, part path) and report on `conn`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and stops its workers
    # A forked worker has copies of the parent's stdio objects, whose locks another thread of the
    # parent (a progress bar's refresher) may have held at the fork: write through fresh ones.
    sys.stdout = open(1, "w", closefd=False, buffering=1)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115
    try:
        for p, begin, end, path in jobs:
            span = kafka_io.Span({p: begin}, {p: end})
            batches = kafka_io.scan_batches(bootstrap, topic, span_=span, batch=projection.FOLD_BATCH,
                                            progress=lambda n: conn.send(("progress", n)))
            conn.send(("done", projection.fold_part(batches, Path(path), topic, p)))
    except BaseException as e:
        conn.send(("error", _portable(e), traceback.format_exc()))
    finally:
        conn.close()


def rebuild(bootstrap: str, topic: str, span: kafka_io.Span, store: Path, *, workers: int,
            progress: Callable[[int], None] | None = None, t0: float | None = None) -> RebuildResult:
    """Fold the span's partitions in `workers` processes and merge them into a fresh store
    (`t0`: when the rebuild started, for its `seconds`).

    Raises projection.CaseSpansPartitions (nothing written) when a case is on two partitions.
    """
    t0 = time.perf_counter() if t0 is None else t0
    store.parent.mkdir(parents=True, exist_ok=True)
    sizes = {p: span.end[p] - span.begin[p] for p in span.end if span.end[p] > span.begin[p]}
    paths = {p: _part_path(store, p) for p in sizes}
    order = sorted(sizes, reverse=True)  # partitions to merge, next one last
    ready: dict[int, PartInfo] = {}
    merge = projection.Merge(store, topic)
    ctx = _context()
    procs: list[Any] = []
    readers: dict[Any, tuple[Any, list[int]]] = {}
    try:
        for group in assign(sizes, max(1, workers)):
            r, w = ctx.Pipe(duplex=False)
            jobs = [(p, span.begin[p], span.end[p], str(paths[p])) for p in group]
            proc = ctx.Process(target=_work, args=(bootstrap, topic, jobs, w), daemon=True,
                               name=f"casectl-replay-p{'-'.join(map(str, group))}")
            proc.start()
            w.close()
            procs.append(proc)
            readers[r] = (proc, group)
        while readers:
            for r in wait(list(readers)):
                proc, group = readers[r]
                try:
                    msg = r.recv()
                except EOFError:
                    del readers[r]
                    r.close()
                    proc.join()
                    missing = [p for p in group if p not in ready]
                    if missing:
                        raise ReplayWorkerError(f"replay worker for partitions {missing} stopped "
                                                f"(exit code {proc.exitcode})") from None
                    continue
                if msg[0] == "progress":
                    if progress is not None:
                        progress(msg[1])
                elif msg[0] == "done":
                    ready[msg[1].partition] = msg[1]
                    while order and order[-1] in ready:  # merge what can be merged now, in order
                        merge.add(ready[order.pop()])
                else:
                    _, exc, tb = msg
                    raise exc from ReplayWorkerError(f"in the replay worker for partitions {group}:\n{tb}")
        return merge.finish(t0)
    finally:
        merge.close()
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()
        for r in readers:
            r.close()
        for path in paths.values():
            path.unlink(missing_ok=True)
