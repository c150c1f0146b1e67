"""Settings common to every process, from the environment only (CASESTREAM_*)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """What every service reads; each service's config.py subclasses it."""

    model_config = SettingsConfigDict(env_prefix="CASESTREAM_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    run_dir: Path = Path(".run")
    log_level: str = "INFO"
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 0
    metrics_port: int = 0  # 0 = no metrics HTTP server
    instance_id: str = "0"
    # "wall" in production; "stream" in tests, replays and the demo.
    clock: str = Field(default="wall", pattern="^(wall|stream)$")

    def state_dir(self, service: str) -> Path:
        path = self.run_dir / "state" / f"{service}-{self.instance_id}"
        path.mkdir(parents=True, exist_ok=True)
        return path
