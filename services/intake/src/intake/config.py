"""Intake's settings, from CASESTREAM_* environment variables."""

from __future__ import annotations

from casestream.settings import CommonSettings

# A fixed development key so tokens are stable across local runs; production sets
# CASESTREAM_PII_KEY from a secret. The process logs a warning when it uses this one.
DEV_PII_KEY = "casestream-dev-pii-key-not-for-production"


class IntakeSettings(CommonSettings):
    grpc_port: int = 50051
    pii_key: str = DEV_PII_KEY
    max_batch: int = 2000
    # Sequencer worker processes (0 = one; at most the inbound partitions; see entrypoints/sequencers.py).
    sequencers: int = 0
    # Each sequencer starts a Kafka transaction at most this often (see SequencerLoop); 0 = as
    # soon as records are there. 20 ms halves the broker's transaction load at 2,000 ev/s, but
    # billing's and escalation's kill -9 restart tests then decide differently (they race their
    # own decisions' round trip through intake), so it stays off until that race is fixed.
    txn_interval_ms: float = 0.0
    # How long a read with min_sequence may wait for the projection at most.
    max_read_wait_s: float = 10.0
