"""Notify's settings, from CASESTREAM_* environment variables."""

from __future__ import annotations

from pathlib import Path

from casestream.settings import CommonSettings
from pydantic import Field

from notify.domain.delivery import RetryPolicy

# A fixed development secret so local webhook receivers can verify signatures; production
# sets CASESTREAM_WEBHOOK_SECRET. The process logs a warning when it uses this one.
DEV_WEBHOOK_SECRET = "casestream-dev-webhook-secret-not-for-production"


class NotifySettings(CommonSettings):
    grpc_port: int = 50054
    # Mail goes to the local SMTP sink by default (`python -m notify.adapters.smtp_sink`).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_from: str = "Casestream <notify@casestream.example>"
    webhook_secret: str = DEV_WEBHOOK_SECRET
    # None = the packaged rules/default.yaml, rules/directory.yaml and templates/.
    notify_rules_path: Path | None = None
    notify_directory_path: Path | None = None
    notify_templates_path: Path | None = None
    # Replay rule: a fact sequenced more than `notify_replay_window_s` before this process
    # started is history; it is folded and planned but sent only if `replay_sends` is true.
    # Facts already folded before a restart (redeliveries) are skipped altogether.
    replay_sends: bool = False
    notify_replay_window_s: float = Field(default=300.0, ge=0)
    # Per message and channel: attempts, and exponential backoff with full jitter.
    notify_max_attempts: int = Field(default=5, ge=1, le=20)
    notify_backoff_base_s: float = Field(default=0.5, ge=0)
    notify_backoff_max_s: float = Field(default=30.0, ge=0)
    notify_send_timeout_s: float = Field(default=10.0, gt=0)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.notify_max_attempts, self.notify_backoff_base_s, self.notify_backoff_max_s)

    def delivery_log_path(self) -> Path:
        return self.state_dir("notify") / "deliveries.sqlite"
