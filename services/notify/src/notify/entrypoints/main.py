"""The notify process: faust worker (events -> deliveries -> decisions) and gRPC server."""

from __future__ import annotations

from casestream import kafka as cskafka, topics
from casestream.grpc_server import GrpcServer, start_metrics
from casestream.logging import configure_logging
from casestream.streaming import serve_with_grpc
from casestream.v1 import notify_pb2, notify_pb2_grpc

from notify.adapters.config_files import load_directory, load_rules
from notify.adapters.delivery_log import SqliteDeliveryLog
from notify.adapters.smtp import SmtpSender
from notify.adapters.templates import TemplateLibrary
from notify.adapters.webhook import WebhookSender
from notify.config import DEV_WEBHOOK_SECRET, NotifySettings
from notify.entrypoints import faust_app
from notify.entrypoints.grpc_api import NotifyApi
from notify.service_layer.service import NotifyService


def build_service(cfg: NotifySettings) -> NotifyService:
    """The service wired to real rules, templates, SMTP, webhooks and the SQLite dedupe store."""
    policy = cfg.retry_policy()
    senders = {
        "email": SmtpSender(cfg.smtp_host, cfg.smtp_port, cfg.smtp_from, policy, cfg.notify_send_timeout_s),
        "webhook": WebhookSender(cfg.webhook_secret, policy, cfg.notify_send_timeout_s),
    }
    return NotifyService(
        load_rules(cfg.notify_rules_path), load_directory(cfg.notify_directory_path),
        TemplateLibrary(cfg.notify_templates_path), senders, SqliteDeliveryLog(cfg.delivery_log_path()),
        send_during_replay=cfg.replay_sends,
    )


def main() -> None:
    cfg = NotifySettings()
    log = configure_logging("notify", cfg.log_level)
    if cfg.webhook_secret == DEV_WEBHOOK_SECRET:
        log.warning("webhook_dev_secret", hint="set CASESTREAM_WEBHOOK_SECRET in production")
    service = build_service(cfg)  # fails fast on invalid rules, directory or templates
    cskafka.wait_for_broker(cfg.kafka_bootstrap)
    topics.ensure_topics(cfg.kafka_bootstrap)
    start_metrics(cfg.metrics_port)
    app, worker = faust_app.create_app(cfg, service, log)
    log.info("starting", smtp=f"{cfg.smtp_host}:{cfg.smtp_port}", clock=cfg.clock, replay_sends=cfg.replay_sends,
             replay_window_s=cfg.notify_replay_window_s, max_attempts=cfg.notify_max_attempts)

    def start_grpc() -> GrpcServer:
        def register(server) -> list[str]:  # type: ignore[no-untyped-def]
            notify_pb2_grpc.add_NotifyServiceServicer_to_server(NotifyApi(service, worker.hydrate), server)
            return [notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name]

        return GrpcServer(register, host=cfg.grpc_host, port=cfg.grpc_port).start()

    serve_with_grpc(app, start_grpc, log)


if __name__ == "__main__":
    main()
