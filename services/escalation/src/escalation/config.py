"""Escalation's settings, from CASESTREAM_* environment variables."""

from __future__ import annotations

from pathlib import Path

from casestream.settings import CommonSettings


class EscalationSettings(CommonSettings):
    grpc_port: int = 50052
    metrics_port: int = 9102
    # None = the packaged policy (policies/default.yaml).
    policy_path: Path | None = None
    # How long a read with min_sequence may wait for the fold at most.
    max_read_wait_s: float = 10.0
    # Wall-clock mode only: how often due timers are fired.
    timer_interval_s: float = 1.0
    # A decision id already acknowledged by the broker is not sent again within this
    # window (a timer re-fires every tick until its decision comes back sequenced).
    resubmit_after_s: float = 30.0
    # A killed worker's partitions move to its successor after this long.
