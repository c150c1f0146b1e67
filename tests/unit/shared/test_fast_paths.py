"""The shared hot paths' shortcuts give exactly what the long way gives, and step aside
whenever they are unsure (so bad input is still named by the long way)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st
from kafka.partitioner.default import murmur2

from casestream import cloudevents_codec as codec
from casestream.kafka import consume_ready, partition_for
from casestream.pii import Tokeniser

GOOD = {"specversion": "1.0", "id": "crm-0001", "source": "crm", "type": "casestream.contact.logged",
        "subject": "ACC-1", "time": "2026-11-02T09:00:00Z", "datacontenttype": "application/json",
        "data": {"channel": "phone", "direction": "inbound", "agent": "a-17", "summary": "no dial tone"}}


def slow_attributes(raw: dict) -> tuple:
    a = codec._Attributes.model_validate(raw)
    return a.id, a.source, a.type, a.subject, a.time, a.datacontenttype


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
       st.integers(min_value=-14 * 60, max_value=14 * 60), st.sampled_from([0, 3, 6]), st.booleans())
def test_fast_attributes_read_rfc3339_times_as_pydantic_does(when, offset_min, digits, zulu):
    tz = timezone.utc if zulu else timezone(timedelta(minutes=offset_min))
    text = when.replace(tzinfo=tz).isoformat(timespec={0: "seconds", 3: "milliseconds", 6: "microseconds"}[digits])
    if zulu:
        text = text.replace("+00:00", "Z")
    raw = {**GOOD, "time": text}
    fast = codec._fast_attributes(raw)
    assert fast is not None
    assert fast == slow_attributes(raw)


@pytest.mark.parametrize("change", [
    {"time": "2026-11-02T09:00:00"},            # no offset: pydantic says it must be aware
    {"time": "2026-11-02 09:00:00Z"},           # not RFC 3339's T
    {"time": "2026-13-02T09:00:00Z"},           # no month 13
    {"time": "2026-11-02T09:00:00.1234567Z"},   # more digits than a datetime keeps
    {"time": 1762074000},
    {"id": "x" * 513},
    {"source": 7},
    {"specversion": "0.3"},
    {"datacontenttype": 5},
])
def test_fast_attributes_step_aside_when_unsure(change):
    assert codec._fast_attributes({**GOOD, **change}) is None


@pytest.mark.parametrize("change, field", [
    ({"time": "2026-13-02T09:00:00Z"}, "time"),
    ({"time": "2026-11-02T09:00:00"}, "time"),
    ({"id": "x" * 513}, "id"),
    ({"specversion": "0.3"}, "specversion"),
])
def test_what_the_fast_path_declines_is_still_named(change, field):
    with pytest.raises(codec.Rejection) as e:
        codec.parse_json(json.dumps({**GOOD, **change}).encode())
    assert e.value.field == field


def test_tokeniser_skips_only_what_cannot_hold_pii():
    tok = Tokeniser(b"k" * 32)
    plain = {"channel": "phone", "agent": "a-17", "n": 12, "tags": ["x", "y"]}
    same, hits = tok.redact(plain)
    assert same is plain and hits == []
    nested = {"agent": "a-17", "notes": [{"text": "card 4111 1111 1111 1111 on file"}]}
    out, hits = tok.redact(nested)
    assert hits and hits[0][0] == "notes[0].text" and "4111" not in json.dumps(out)
    # non-ASCII text is always scanned (the patterns use Unicode digits)
    out, hits = tok.redact({"text": "SSN ０ 123-45-6789 é"})
    assert [h[1] for h in hits] == ["ssn"]


@pytest.mark.parametrize("key", [b"ACC-1", b"", b"C-0123456789AB", "Ærø".encode()])
def test_partition_for_is_the_java_partitioner(key):
    for n in (1, 3, 12):
        assert partition_for(key, n) == (murmur2(key) & 0x7FFFFFFF) % n


class FakeConsumer:
    """Records consume() calls; hands out what is 'ready', then what 'arrives' while waiting."""

    def __init__(self, ready: list[int], arrives: list[int]) -> None:
        self.ready, self.arrives, self.calls = ready, arrives, []

    def consume(self, num_messages: int, timeout: float) -> list[int]:
        self.calls.append((num_messages, timeout))
        if timeout == 0:
            out, self.ready = self.ready[:num_messages], self.ready[num_messages:]
            return out
        self.ready, got = self.arrives[1:], self.arrives[:1]
        return got


def test_consume_ready_never_waits_when_records_are_there():
    c = FakeConsumer([1, 2, 3], [])
    assert consume_ready(c, 10, 0.1) == [1, 2, 3]
    assert c.calls == [(10, 0)]


def test_consume_ready_waits_for_the_first_and_takes_what_came_with_it():
    c = FakeConsumer([], [7, 8, 9])
    assert consume_ready(c, 2, 0.1) == [7, 8]
    assert c.calls == [(2, 0), (1, 0.1), (1, 0)]
    assert consume_ready(FakeConsumer([], []), 5, 0.1) == []
