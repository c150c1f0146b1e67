"""The escalation process: the faust worker and the gRPC server beside it; stops cleanly on SIGTERM."""

from __future__ import annotations

from casestream import kafka as cskafka, topics
from casestream.grpc_server import GrpcServer, start_metrics
from casestream.logging import configure_logging
from casestream.streaming import serve_with_grpc
from casestream.v1 import escalation_pb2, escalation_pb2_grpc

from escalation.adapters.progress import FoldProgress
from escalation.config import EscalationSettings
from escalation.domain.policy import load_policy
from escalation.service_layer import EscalationService, InMemoryCaseRepository
from escalation.entrypoints import faust_app
from escalation.entrypoints.grpc_api import EscalationApi


def main() -> None:
    cfg = EscalationSettings()
    log = configure_logging("escalation", cfg.log_level)
    policy = load_policy(cfg.policy_path)
    log.info("starting", clock=cfg.clock, policy_version=policy.version, grpc_port=cfg.grpc_port)
    cskafka.wait_for_broker(cfg.kafka_bootstrap)
    topics.ensure_topics(cfg.kafka_bootstrap)
    start_metrics(cfg.metrics_port)

    service = EscalationService(InMemoryCaseRepository(), policy)
    progress = FoldProgress()
    app = faust_app.build(cfg, service, progress, log)
    api = EscalationApi(service, progress, cfg.max_read_wait_s)

    def register(server):
        escalation_pb2_grpc.add_EscalationServiceServicer_to_server(api, server)
        return [escalation_pb2.DESCRIPTOR.services_by_name["EscalationService"].full_name]

    serve_with_grpc(app, lambda: GrpcServer(register, host=cfg.grpc_host, port=cfg.grpc_port).start(), log)
    log.info("stopped")


if __name__ == "__main__":
    main()
