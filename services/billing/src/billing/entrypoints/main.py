"""The billing process: the faust ledger projection and the gRPC server; stops cleanly on SIGTERM."""

from __future__ import annotations

from casestream import kafka as cskafka, streaming, topics
from casestream.grpc_server import GrpcServer, start_metrics
from casestream.logging import configure_logging
from casestream.v1 import billing_pb2, billing_pb2_grpc

from billing.config import BillingSettings
from billing.entrypoints import faust_app
from billing.entrypoints.grpc_api import BillingApi


def main() -> None:
    cfg = BillingSettings()
    log = configure_logging("billing", cfg.log_level)
    cskafka.wait_for_broker(cfg.kafka_bootstrap)
    topics.ensure_topics(cfg.kafka_bootstrap)
    start_metrics(cfg.metrics_port)
    billing = faust_app.build(cfg, log)
    log.info("starting", clock=cfg.clock, policy_version=billing.service.policy.version)

    def register(server):  # noqa: ANN001, ANN202
        billing_pb2_grpc.add_BillingServiceServicer_to_server(BillingApi(billing.service, cfg.max_read_wait_s), server)
        return [billing_pb2.DESCRIPTOR.services_by_name["BillingService"].full_name]

    streaming.serve_with_grpc(billing.app, lambda: GrpcServer(register, host=cfg.grpc_host, port=cfg.grpc_port).start(), log)


if __name__ == "__main__":
    main()
