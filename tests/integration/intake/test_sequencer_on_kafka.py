"""Intake against the real broker. Producers and checks use plain kafka-python and
hashlib, as an outside system would."""

from __future__ import annotations

import json
import threading
import time

import pytest
from kafka import KafkaProducer
from kafka.partitioner.default import murmur2

from support.arms_length import check_chains, read_topic
from support.stack import wait_until

pytestmark = pytest.mark.kafka


def contact(i: int, account: str, source: str = "pbx") -> dict:
    return {"specversion": "1.0", "id": f"{source}-{i}", "source": source, "type": "casestream.contact.logged",
            "subject": account, "time": f"2026-11-02T09:{i % 60:02d}:00Z", "datacontenttype": "application/json",
            "data": {"channel": "phone", "direction": "inbound", "agent": f"agent-{i % 7}", "summary": f"call {i}"}}


def send_structured(p: KafkaProducer, topic: str, doc: dict | bytes, key: bytes) -> None:
    value = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    p.send(topic, key=key, value=value, headers=[("content-type", b"application/cloudevents+json")])


def test_valid_duplicate_and_malformed_events(stack_factory):
    stack = stack_factory()
    stack.start("intake")
    p = KafkaProducer(bootstrap_servers=stack.bootstrap, max_request_size=4 * 1024 * 1024)
    for i in range(10):
        send_structured(p, stack.inbound, contact(i, f"ACC-{i % 3}"), f"ACC-{i % 3}".encode())
    for i in (2, 5, 5, 9):  # redeliveries
        send_structured(p, stack.inbound, contact(i, f"ACC-{i % 3}"), f"ACC-{i % 3}".encode())
    binary = contact(10, "ACC-0")
    headers = [(f"ce_{k}", str(v).encode()) for k, v in binary.items() if k not in ("data", "datacontenttype")]
    p.send(stack.inbound, key=b"ACC-0", value=json.dumps(binary["data"]).encode(),
           headers=headers + [("content-type", b"application/json")])
    bad = {
        "MALFORMED_JSON": b'{"specversion": "1.0", "id": ',
        "BAD_ENCODING": b'{"id": "\xff\xfe"}',
        "UNKNOWN_TYPE": {**contact(20, "ACC-1"), "type": "casestream.contact.teleported"},
        "MISSING_FIELD": {**contact(21, "ACC-1"), "data": {"channel": "phone", "direction": "inbound", "agent": "a"}},
        "INVALID_FIELD": {**contact(22, "ACC-1"), "data": {**contact(22, "ACC-1")["data"], "direction": "sideways"}},
        "TOO_LARGE": {**contact(23, "ACC-1"), "data": {**contact(23, "ACC-1")["data"], "summary": "x" * 1_100_000}},
        "MISSING_ATTRIBUTE": {k: v for k, v in contact(24, "ACC-1").items() if k != "id"},
    }
    for doc in bad.values():
        send_structured(p, stack.inbound, doc, b"ACC-1")
    p.flush()

    events = wait_until(lambda: (r := read_topic(stack.bootstrap, stack.events)) and len(r) >= 14 and r,
                        what="14 sequenced records")
    time.sleep(1.0)  # anything extra (a duplicate) would show up now
    events = read_topic(stack.bootstrap, stack.events)
    cases = check_chains(events)
    ids = [dict(r.headers)["ce_id"].decode() for r in events]
    contact_ids = sorted(i for i in ids if i.startswith("pbx-"))
    assert contact_ids == sorted(f"pbx-{i}" for i in range(11)), "each contact exactly once"
    assert len(cases) == 3 and len(events) == 11 + 3, "3 accounts -> 3 cases, each with case.opened"
    for r in events:  # co-partitioning: an event lands on the partition number its inbound record had
        ce_id = dict(r.headers)["ce_id"].decode()
        if ce_id.startswith("pbx-"):
            account = b"ACC-0" if ce_id == "pbx-10" else f"ACC-{int(ce_id[4:]) % 3}".encode()
            assert r.partition == (murmur2(account) & 0x7FFFFFFF) % stack.partitions, ce_id
    dlq = wait_until(lambda: (d := read_topic(stack.bootstrap, stack.dlq)) and len(d) >= len(bad) and d, what="DLQ")
    by_code = {dict(r.headers)["cs_error_code"].decode(): r for r in dlq}
    assert set(by_code) == set(bad)
    for code, doc in bad.items():
        r = by_code[code]
        h = dict(r.headers)
        original = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        assert r.value == original, f"{code}: the DLQ keeps the original bytes"
        assert h["cs_source_topic"].decode() == stack.inbound and h["cs_error"], code
    assert b"data.summary" in dict(by_code["MISSING_FIELD"].headers)["cs_error"]
    assert b"data.direction" in dict(by_code["INVALID_FIELD"].headers)["cs_error"]
    assert stack.procs["intake"].popen.poll() is None, "intake never crashes on input"


def test_kill_9_mid_stream_loses_and_duplicates_nothing(stack_factory):
    stack = stack_factory()
    intake = stack.start("intake")
    p = KafkaProducer(bootstrap_servers=stack.bootstrap, linger_ms=5)
    total = 3000
    stop = threading.Event()

    def produce() -> None:
        for i in range(total):
            acct = f"ACC-{i % 40}"
            send_structured(p, stack.inbound, contact(i, acct), acct.encode())
            if i % 100 == 0:
                p.flush()
                time.sleep(0.02)
        p.flush()
        stop.set()

    t = threading.Thread(target=produce)
    t.start()
    wait_until(lambda: len(read_topic(stack.bootstrap, stack.events)) > 500, what="some progress before the kill", stack=stack)
    intake.kill9()
    t.join()
    # A resend of part of the stream after the crash, as a producer retry would do.
    for i in range(0, total, 7):
        acct = f"ACC-{i % 40}"
        send_structured(p, stack.inbound, contact(i, acct), acct.encode())
    p.flush()
    stack.start("intake")
    events = wait_until(lambda: (r := read_topic(stack.bootstrap, stack.events)) and len(r) >= total + 40 and r,
                        timeout=120, what="all events after restart", stack=stack)
    time.sleep(1.5)
    events = read_topic(stack.bootstrap, stack.events)
    cases = check_chains(events)
    ids = [dict(r.headers)["ce_id"].decode() for r in events if dict(r.headers)["ce_type"] != b"casestream.case.opened"]
    assert len(ids) == len(set(ids)) == total, f"{len(ids)} contacts, {len(set(ids))} unique, expected {total}"
    assert len(cases) == 40


def test_an_event_on_the_wrong_partition_still_joins_the_accounts_case(stack_factory):
    """librdkafka (kcat) partitions keys with CRC32, Java and kafka-python with murmur2: intake
    re-routes so that all of an account's events meet in one sequencer, one case."""
    stack = stack_factory()
    stack.start("intake")
    p = KafkaProducer(bootstrap_servers=stack.bootstrap)
    home = (murmur2(b"ACC-ROUTE") & 0x7FFFFFFF) % stack.partitions
    wrong = (home + 1) % stack.partitions
    send_structured(p, stack.inbound, contact(1, "ACC-ROUTE", source="crm"), b"ACC-ROUTE")
    p.flush()
    wait_until(lambda: len(read_topic(stack.bootstrap, stack.events)) >= 2, what="the first contact")
    doc = contact(2, "ACC-ROUTE", source="crm")
    p.send(stack.inbound, key=b"ACC-ROUTE", value=json.dumps(doc).encode(), partition=wrong,
           headers=[("content-type", b"application/cloudevents+json")])
    p.flush()
    events = wait_until(lambda: (r := read_topic(stack.bootstrap, stack.events)) and len(r) >= 3 and r,
                        what="the mis-partitioned contact")
    cases = check_chains(events)
    assert len(cases) == 1, "one account, one case"
    assert {r.partition for r in events} == {home}
    assert [dict(r.headers)["ce_id"].decode() for r in events][1:] == ["crm-1", "crm-2"]
