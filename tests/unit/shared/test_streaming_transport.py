"""The faust transport's two guarantees, without a broker: the fetch gate and the commit barrier.

Both were found losing an event after a kill -9 (billing's restart test); see casestream.streaming.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from casestream import streaming

EVENTS = TP("case.events.v1", 0)
CHANGELOG = TP("casestream-billing-account_to_facts-changelog", 0)


def _app(completed: bool, in_recovery: bool = False, rebalancing: bool = False) -> SimpleNamespace:
    done = asyncio.Event()
    if completed:
        done.set()
    return SimpleNamespace(tables=SimpleNamespace(recovery=SimpleNamespace(completed=done)),
                           in_recovery=in_recovery, rebalancing=rebalancing)


@pytest.mark.parametrize("flags, ready", [
    (dict(completed=False), False),                    # the first restore is still running
    (dict(completed=True, in_recovery=True), False),   # a later restore (completed stays set)
    (dict(completed=True, rebalancing=True), False),   # revoked, or restored but not yet sought back
    (dict(completed=True), True),
])
def test_streams_are_ready_only_after_the_restore_and_outside_a_rebalance(flags, ready):
    assert streaming.streams_ready(_app(**flags)) is ready


def _consumer(app: SimpleNamespace) -> streaming._Consumer:
    consumer = object.__new__(streaming._Consumer)  # no faust service: only the fetch gate is under test
    consumer.__dict__["app"] = app
    consumer.__dict__["_is_changelog_tp"] = lambda tp: tp.topic.endswith("-changelog")
    return consumer


def test_while_the_tables_restore_only_changelogs_are_fetched(monkeypatch):
    asked: list[set] = []

    async def fetch(self, active_partitions, timeout):
        asked.append(set(active_partitions))
        return {tp: ["record"] for tp in active_partitions}

    monkeypatch.setattr(faust_aiokafka.Consumer, "_getmany", fetch)
    consumer = _consumer(_app(completed=False))

    got = asyncio.run(consumer._getmany({EVENTS, CHANGELOG}, 0.01))
    assert asked == [{CHANGELOG}] and set(got) == {CHANGELOG}, "events stay unfetched, at the committed position"

    assert asyncio.run(consumer._getmany({EVENTS}, 0.01)) == {} and len(asked) == 1, "nothing to fetch yet"

    consumer.app = _app(completed=True)
    got = asyncio.run(consumer._getmany({EVENTS, CHANGELOG}, 0.01))
    assert asked[-1] == {EVENTS, CHANGELOG} and set(got) == {EVENTS, CHANGELOG}


def _producer(monkeypatch) -> streaming._Producer:
    async def flushed(self) -> None:
        return None

    monkeypatch.setattr(faust_aiokafka.Producer, "flush", flushed)
    producer = object.__new__(streaming._Producer)
    producer.__dict__["_unsent"] = set()
    return producer


def test_flush_waits_for_every_buffered_record_before_the_offsets_commit(monkeypatch):
    producer = _producer(monkeypatch)

    async def scenario() -> bool:
        record = asyncio.get_running_loop().create_future()
        producer._unsent.add(record)
        record.add_done_callback(producer._unsent.discard)
        asyncio.get_running_loop().call_later(0.05, record.set_result, "acked")
        await producer.flush()
        return record.done()

    assert asyncio.run(scenario()), "flush returned before the table write was acked"
    assert not producer._unsent


def test_a_record_never_acked_stops_the_commit_instead_of_passing_it(monkeypatch):
    producer = _producer(monkeypatch)
    producer.UNSENT_TIMEOUT_S = 0.05

    async def scenario() -> None:
        producer._unsent.add(asyncio.get_running_loop().create_future())
        await producer.flush()

    with pytest.raises(RuntimeError, match="1 buffered records not acked"):
        asyncio.run(scenario())
