"""The measured entry points of casectl, callable without the CLI (the bench harness uses them).

    rebuild(bootstrap, store_path, *, topic=None, partitions=None, progress=None) -> projection.RebuildResult
        .events, .cases, .seconds, .events_per_second, .to_dict()
    verify_log(bootstrap, *, topic=None, partitions=None, progress=None) -> logverify.LogReport
        .ok, .records, .cases, .seconds, .events_per_second, .first_bad, .to_dict()
    verify_bundle(bundle_dir, *, trusted_public_key=None) -> audit.bundle.VerifyResult   (offline)

`topic` defaults to the events topic under $CASESTREAM_TOPIC_NAMESPACE. Reads go through the
librdkafka reader in `casectl.kafka_io` (read_committed, explicit offsets, no commits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from casectl import config, kafka_io
from casectl.audit.bundle import verify_bundle
from casectl.logverify import LogReport
from casectl.logverify import verify as _verify
from casectl.projection import RebuildResult, rebuild_batches

__all__ = ["rebuild", "verify_log", "verify_bundle"]


def rebuild(bootstrap: str, store_path: str | Path, *, topic: str | None = None,
            partitions: Sequence[int] | None = None, progress: Callable[[int], None] | None = None,
            span_: kafka_io.Span | None = None) -> RebuildResult:
    """Rebuild the SQLite case projection from offset 0 into a fresh store at `store_path`."""
    t = topic or config.topics().events
    return rebuild_batches(kafka_io.scan_batches(bootstrap, t, partitions, span_=span_, progress=progress),
                           Path(store_path), t)


def verify_log(bootstrap: str, *, topic: str | None = None, partitions: list[int] | None = None,
               progress: Callable[[int], None] | None = None, span_: kafka_io.Span | None = None) -> LogReport:
    """Check every case chain of the events topic (what `casectl log verify` does)."""
    return _verify(bootstrap, topic, partitions, progress=progress, span_=span_)
