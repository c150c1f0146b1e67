"""Billing's settings, from CASESTREAM_* environment variables."""

from __future__ import annotations

from pathlib import Path

from casestream.settings import CommonSettings


class BillingSettings(CommonSettings):
    grpc_port: int = 50053
    # None: the packaged policies/default.yaml.
    billing_policy_file: Path | None = None
    # How often wall-clock dunning runs (CASESTREAM_CLOCK=wall only).
    dunning_interval_s: float = 1.0
    # A member killed with -9 holds its partitions until its session expires; keep it short
    # so a restarted billing resumes quickly (the broker's minimum is 6 s).
    # How long GetAccount with min_events may wait for the projection at most.
    max_read_wait_s: float = 10.0
