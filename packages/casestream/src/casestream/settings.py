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
    # How long the group waits for a dead member (kill -9) before reassigning its partitions.
    consumer_session_timeout_s: float = Field(default=10.0, ge=6.0)
    # TLS to the brokers (Strimzi's mutual-TLS listener in deploy/k8s).
    kafka_security_protocol: str = Field(default="PLAINTEXT", pattern="^(PLAINTEXT|SSL)$")
    kafka_ssl_cafile: str | None = None
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None

    def kafka_security(self) -> dict[str, str]:
        """kafka-python client options for the configured protocol."""
        if self.kafka_security_protocol != "SSL":
            return {}
        opts = {"security_protocol": "SSL", "ssl_cafile": self.kafka_ssl_cafile,
                "ssl_certfile": self.kafka_ssl_certfile, "ssl_keyfile": self.kafka_ssl_keyfile}
        return {k: v for k, v in opts.items() if v}

    def ssl_context(self):  # type: ignore[no-untyped-def]
        """An SSL context for faust/aiokafka, or None for PLAINTEXT."""
        if self.kafka_security_protocol != "SSL":
            return None
        import ssl

        ctx = ssl.create_default_context(cafile=self.kafka_ssl_cafile)
        if self.kafka_ssl_certfile:
            ctx.load_cert_chain(self.kafka_ssl_certfile, self.kafka_ssl_keyfile)
        return ctx

    def state_dir(self, service: str) -> Path:
        path = self.run_dir / "state" / f"{service}-{self.instance_id}"
        path.mkdir(parents=True, exist_ok=True)
        return path
