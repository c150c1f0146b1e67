"""The streaming bootstrap shared by escalation, billing and notify.

Each of them is a faust app that reads case.events.v1 as `Fact`s, keeps its state in a
faust table (changelog-backed, so it survives restarts), and submits its decisions to
case.inbound.v1 for intake to sequence. At-least-once: the offset of an event is
committed only after the agent has processed it, and the agent awaits the broker's
acknowledgement of every decision first; deterministic decision ids plus intake's dedupe
make redelivery harmless.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Iterable

import faust
from faust.transport import drivers as faust_drivers
from faust.transport.drivers import aiokafka as faust_aiokafka

from casestream import cloudevents_codec, envelope, kafka as cskafka, topics
from casestream.facts import Decision, Fact
from casestream.settings import CommonSettings

class _ReadCommittedConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Faust reads uncommitted records unless it runs exactly-once; we must never act
        # on an event from an aborted intake transaction.
        consumer._isolation_level = "read_committed"
        return consumer


def streams_ready(app: faust.App) -> bool:
    """True once the tables are recovered and no rebalance is under way.

    `completed` is set once and never cleared, so a later rebalance shows in the flags.
    """
    recovery = app.tables.recovery if app.tables else None
    done = recovery is None or recovery.completed.is_set()
    return done and not app.in_recovery and not app.rebalancing


class _Consumer(faust_aiokafka.Consumer):
    """Stream records are fetched only while `streams_ready`; changelogs flow meanwhile.

    Faust resumes the whole assignment while it restores the tables, so the agents
    handled events against half-restored state; and at the end of the restore it seeks
    back to the committed offsets and clears its queues while a batch fetched earlier is
    still being delivered, whose higher offsets then made it skip the re-fetched records
    as already read. An event was lost that way after a kill -9 (found with the billing
    restart test). Left unfetched, the records stay buffered in aiokafka at the committed
    position, and the restore's seek finds nothing in flight.
    """

    def _new_consumer_thread(self) -> Any:
        return _ReadCommittedConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _getmany(self, active_partitions: Any, timeout: float) -> Any:
        if active_partitions and not streams_ready(self.app):
            active_partitions = {tp for tp in active_partitions if self._is_changelog_tp(tp)}
            if not active_partitions:
                await asyncio.sleep(min(timeout, 0.05))
                return {}
        return await super()._getmany(active_partitions, timeout)


class _Producer(faust_aiokafka.Producer):
    """Offsets commit only after every buffered record (table changelogs) is acked.

    Faust commits right after `producer.flush()`, but its buffer's flush gives up after
    0.1 s without a send and misses a record its sender task has taken but not yet
    handed to aiokafka. A table write (`send_soon`) could then be lost while its event's
    offset was committed: after a kill -9 the fact was neither in the recovered table
    nor redelivered, and the service decided without it.
    """

    UNSENT_TIMEOUT_S = 60.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self._unsent: set[Any] = set()

    def send_soon(self, fut: Any) -> None:
        self._unsent.add(fut)
        fut.add_done_callback(self._unsent.discard)
        super().send_soon(fut)

    async def flush(self) -> None:
        await super().flush()
        unsent = [f for f in self._unsent if not f.done()]
        if unsent:
            _done, late = await asyncio.wait(unsent, timeout=self.UNSENT_TIMEOUT_S)
            if late:  # never commit past them: crash, and the events are redelivered
                raise RuntimeError(f"{len(late)} buffered records not acked in {self.UNSENT_TIMEOUT_S:.0f} s")
        await super().flush()  # what the buffer handed to aiokafka meanwhile


class Transport(faust_aiokafka.Transport):
    Consumer = _Consumer
    Producer = _Producer


faust_drivers.TRANSPORTS.aliases["casestream"] = "casestream.streaming:Transport"


def make_app(service: str, cfg: CommonSettings) -> faust.App:
    """A faust app for `service`, partitioned like case.events.v1 so tables co-partition with it."""
    partitions = len(cskafka.end_offsets(cfg.kafka_bootstrap, topics.EVENTS)) or 1
    return faust.App(
        topics.group(f"casestream-{service}"),
        broker=f"casestream://{cfg.kafka_bootstrap}",
        store="memory://",
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        topic_partitions=partitions,
        topic_replication_factor=1,
        web_enabled=False,
        broker_commit_every=100,
        # faust's 60 s default would hold a dead member's partitions for a minute after kill -9.
        broker_session_timeout=cfg.consumer_session_timeout_s,
        broker_heartbeat_interval=min(3.0, cfg.consumer_session_timeout_s / 3),
        broker_commit_interval=0.5,
        producer_acks=-1,
        producer_max_request_size=cskafka.MAX_REQUEST_BYTES,
        table_cleanup_interval=3600.0,
        datadir=str(cfg.state_dir(service) / "faust"),
        **({"broker_credentials": faust.SSLCredentials(ctx)} if (ctx := cfg.ssl_context()) else {}),
    )


def events_topic(app: faust.App) -> Any:
    """case.events.v1 with raw bytes: the value is hashed, so it is never re-serialized."""
    return app.topic(topics.EVENTS, key_type=bytes, value_type=bytes, key_serializer="raw",
                     value_serializer="raw", internal=False)


def subject_owner(app: faust.App, events: Any, tps: Iterable[Any] | None = None) -> Callable[[str], bool]:
    """Whether a subject's events are on this instance's partitions of `events` (or on `tps`').

    Intake partitions case.events.v1 by subject (the account), so with several instances
    a case or an account belongs to the one holding its subject's partition."""
    name = events.get_topic_name()
    mine = {tp.partition for tp in (app.consumer.assignment() if tps is None else tps) if tp.topic == name}
    partitions = app.conf.topic_partitions
    return lambda subject: cskafka.partition_for(subject.encode(), partitions) in mine


def inbound_topic(app: faust.App) -> Any:
    return app.topic(topics.INBOUND, key_type=bytes, value_type=bytes, key_serializer="raw",
                     value_serializer="raw", internal=False)


def decode_event(value: bytes) -> tuple[Any, Fact] | None:
    """A stored value as (CaseEvent, Fact); None (and no crash) if it is not a CaseEvent."""
    try:
        event = envelope.decode(value)
        return event, envelope.to_fact(event)
    except Exception:
        return None


def to_fact(value: bytes) -> Fact | None:
    """Decode a stored value to a Fact; None (and no crash) if it is not a CaseEvent."""
    decoded = decode_event(value)
    return decoded[1] if decoded else None


async def submit(topic: Any, source: str, decisions: Iterable[Decision]) -> int:
    """Send decisions as CloudEvents and wait until the broker has them all."""
    futures = []
    for d in decisions:
        key, value, headers = cloudevents_codec.to_kafka(
            id=d.id, source=source, type=d.type, subject=d.subject, time=d.time, data=d.data,
            extensions={"caseid": d.case_id},
        )
        futures.append(await topic.send(key=key, value=value, headers=headers))
    for f in futures:
        await f
    return len(futures)


def fact_to_json(f: Fact) -> dict[str, Any]:
    return {"case_id": f.case_id, "sequence": f.sequence, "type": f.type, "source": f.source, "id": f.id,
            "time": f.time.isoformat(), "subject": f.subject, "data": dict(f.data)}


def fact_from_json(d: dict[str, Any]) -> Fact:
    from datetime import datetime

    return Fact(case_id=d["case_id"], sequence=d["sequence"], type=d["type"], source=d["source"], id=d["id"],
                time=datetime.fromisoformat(d["time"]), subject=d["subject"], data=d["data"])


class FactLog:
    """A faust table of `<key> -> [facts folded so far]`, as JSON (never pickle: the
    changelog is data, not code). A service's state is the fold of these facts, so after
    a restart it is rebuilt from the recovered table."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def append(self, key: str, fact: Fact) -> bool:
        """Record `fact` under `key`; False if it was already there (a redelivery)."""
        facts = list(self._table.get(key) or [])
        if facts and any(f["case_id"] == fact.case_id and f["sequence"] >= fact.sequence
                         for f in facts[-50:] if f["case_id"] == fact.case_id):
            return False
        facts.append(fact_to_json(fact))
        self._table[key] = facts
        return True

    def facts(self, key: str) -> list[Fact]:
        return [fact_from_json(d) for d in (self._table.get(key) or [])]

    def keys(self) -> list[str]:
        return list(self._table.keys())

    def subject(self, key: str) -> str:
        """The subject (account) of the key's latest recorded fact, without decoding the rest; "" if none."""
        facts = self._table.get(key) or []
        return str(facts[-1].get("subject") or "") if facts else ""


def serve_with_grpc(
    app: faust.App, start_grpc: Callable[[], Any], log: Any, loglevel: str = "WARNING",
) -> None:
    """Run the faust worker in this thread and the gRPC server beside it.

    Health turns SERVING once partitions are assigned and table recovery is complete; on
    SIGTERM the worker stops consuming, commits, and the gRPC server drains.
    """
    server = start_grpc()

    @app.task
    async def _mark_serving() -> None:
        while True:
            if streams_ready(app) and app.consumer.assignment():
                server.set_serving(True)
                log.info("serving", port=server.port)
                return
            await asyncio.sleep(0.2)

    @app.on_before_shutdown.connect
    async def _stop_grpc(_app: Any, **_: Any) -> None:
        threading.Thread(target=server.stop, kwargs={"grace": 5}, daemon=True).start()

    worker = faust.Worker(app, loglevel=loglevel, quiet=True, override_logging=False)
    try:
        worker.execute_from_commandline()
    finally:
        server.stop(grace=2)
