"""The measured entry points of casectl, callable without the CLI (the bench harness uses them).

    rebuild(bootstrap, store_path, *, topic=None, partitions=None, progress=None, workers=None)
        -> projection.RebuildResult
        .events, .cases, .seconds, .events_per_second, .to_dict()
    verify_log(bootstrap, *, topic=None, partitions=None, progress=None) -> logverify.LogReport
        .ok, .records, .cases, .seconds, .events_per_second, .first_bad, .to_dict()
    verify_bundle(bundle_dir, *, trusted_public_key=None) -> audit.bundle.VerifyResult   (offline)

`topic` defaults to the events topic under $CASESTREAM_TOPIC_NAMESPACE. Reads go through the
librdkafka reader in `casectl.kafka_io` (read_committed, explicit offsets, no commits); `rebuild`
reads and folds the partitions in worker processes (`casectl.parallel_replay`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from casectl import config, kafka_io, parallel_replay, projection
from casectl.audit.bundle import verify_bundle
from casectl.logverify import LogReport
from casectl.logverify import verify as _verify
from casectl.projection import CaseSpansPartitions, RebuildResult, rebuild_batches

__all__ = ["rebuild", "verify_log", "verify_bundle"]


def rebuild(bootstrap: str, store_path: str | Path, *, topic: str | None = None,
            partitions: Sequence[int] | None = None, progress: Callable[[int], None] | None = None,
            span_: kafka_io.Span | None = None, workers: int | None = None) -> RebuildResult:
    """Rebuild the SQLite case projection from offset 0 into a fresh store at `store_path`.

    With two or more non-empty partitions the partitions fold in `workers` processes
    (default `parallel_replay.default_workers`) and are merged; `workers=1` folds in this
    process. Either way the store holds the same rows.
    """
    t0 = time.perf_counter()
    t = topic or config.topics().events
    store = Path(store_path)
    s = span_ or kafka_io.fast_span(bootstrap, t, partitions)
    filled = sum(1 for p in s.end if s.end[p] > s.begin[p])
    n = parallel_replay.default_workers(filled) if workers is None else min(workers, filled)
    if n > 1:
        try:
            return parallel_replay.rebuild(bootstrap, t, s, store, workers=n, progress=progress, t0=t0)
        except CaseSpansPartitions:  # the parts cannot be joined: fold the span in one pass
            progress = None
    res = rebuild_batches(kafka_io.scan_batches(bootstrap, t, span_=s, progress=progress,
                                                batch=projection.FOLD_BATCH), store, t)
    res.seconds = time.perf_counter() - t0
    return res


def verify_log(bootstrap: str, *, topic: str | None = None, partitions: list[int] | None = None,
               progress: Callable[[int], None] | None = None, span_: kafka_io.Span | None = None) -> LogReport:
    """Check every case chain of the events topic (what `casectl log verify` does)."""
    return _verify(bootstrap, topic, partitions, progress=progress, span_=span_)
