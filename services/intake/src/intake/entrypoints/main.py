"""The intake process: sequencer workers, case projection and gRPC server; stops cleanly on SIGTERM."""

from __future__ import annotations

import threading

from casestream import kafka as cskafka, topics
from casestream.grpc_server import GrpcServer, start_metrics
from casestream.logging import configure_logging
from casestream.runtime import freeze_gc, run_threads, shutdown_event
from casestream.v1 import case_pb2, case_pb2_grpc, intake_pb2, intake_pb2_grpc

from intake.adapters.projection import CaseProjection, ProjectionFeeder
from intake.config import DEV_PII_KEY, IntakeSettings
from intake.entrypoints.grpc_api import CaseApi, IntakeApi
from intake.entrypoints.sequencers import Sequencers, worker_count


def main() -> None:
    cfg = IntakeSettings()
    log = configure_logging("intake", cfg.log_level)
    if cfg.pii_key == DEV_PII_KEY:
        log.warning("pii_dev_key", hint="set CASESTREAM_PII_KEY in production")
    cskafka.wait_for_broker(cfg.kafka_bootstrap)
    topics.ensure_topics(cfg.kafka_bootstrap)
    stop = shutdown_event()
    start_metrics(cfg.metrics_port)

    inbound_partitions = len(cskafka.end_offsets(cfg.kafka_bootstrap, topics.INBOUND))
    sequencers = Sequencers(worker_count(cfg.sequencers, inbound_partitions),
                            cfg.state_dir("intake") / "metrics", log)
    projection = CaseProjection()
    feeder = ProjectionFeeder(cfg.kafka_bootstrap, projection, log)
    submit_producer = cskafka.producer(cfg.kafka_bootstrap, linger_ms=1)

    server = GrpcServer(lambda s: (
        intake_pb2_grpc.add_IntakeServiceServicer_to_server(IntakeApi(submit_producer, projection, cfg.max_read_wait_s), s),
        case_pb2_grpc.add_CaseServiceServicer_to_server(CaseApi(projection, cfg.max_read_wait_s), s),
        [intake_pb2.DESCRIPTOR.services_by_name["IntakeService"].full_name,
         case_pb2.DESCRIPTOR.services_by_name["CaseService"].full_name],
    )[-1], host=cfg.grpc_host, port=cfg.grpc_port).start()
    log.info("grpc_listening", port=server.port)

    def ready_watch() -> None:
        if not sequencers.wait_ready(stop):
            return
        feeder.caught_up.wait()
        if not stop.is_set():
            server.set_serving(True)
            log.info("serving", port=server.port)
            freeze_gc(stop)  # the projection only grows: keep the cycle collector off it

    threads = [threading.Thread(target=sequencers.run, args=(stop,), name="sequencers"),
               threading.Thread(target=feeder.run, args=(stop,), name="projection"),
               threading.Thread(target=ready_watch, name="ready", daemon=True)]
    clean = run_threads(threads, stop, log)
    server.stop(grace=5)
    submit_producer.close(timeout=5)
    log.info("stopped", clean=clean)
    if not clean:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
