"""Bad input gets a clear reason that names the field."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from casestream import cloudevents_codec as codec
from casestream.v1 import cloudevent_pb2

GOOD = {"specversion": "1.0", "id": "crm-0001", "source": "crm", "type": "casestream.contact.logged",
        "subject": "ACC-1", "time": "2026-11-02T09:00:00Z", "datacontenttype": "application/json",
        "data": {"channel": "phone", "direction": "inbound", "agent": "a-17", "summary": "no dial tone"}}


def structured(doc: dict) -> bytes:
    return json.dumps(doc).encode()


def without(key: str, where: dict = GOOD) -> dict:
    return {k: v for k, v in where.items() if k != key}


def test_the_readme_example_parses():
    ev = codec.parse_kafka(structured(GOOD), [("content-type", b"application/cloudevents+json")])
    assert ev.key == ("crm", "crm-0001") and ev.subject == "ACC-1" and ev.data["agent"] == "a-17"


@pytest.mark.parametrize("value, code, field", [
    (b"{oops", "MALFORMED_JSON", "value"),
    (b"[1,2]", "MALFORMED_JSON", "value"),
    (b"\xff\xfe{}", "BAD_ENCODING", "value"),
    (structured(without("id")), "MISSING_ATTRIBUTE", "id"),
    (structured(without("source")), "MISSING_ATTRIBUTE", "source"),
    (structured(without("time")), "MISSING_ATTRIBUTE", "time"),
    (structured(without("subject")), "MISSING_ATTRIBUTE", "subject"),
    (structured({**GOOD, "type": "casestream.nope"}), "UNKNOWN_TYPE", "type"),
    (structured({**GOOD, "type": "casestream.case.opened"}), "UNKNOWN_TYPE", "type"),
    (structured({**GOOD, "specversion": "0.3"}), "INVALID_FIELD", "specversion"),
    (structured({**GOOD, "time": "yesterday"}), "INVALID_FIELD", "time"),
    (structured({**GOOD, "data": without("agent", GOOD["data"])}), "MISSING_FIELD", "data.agent"),
    (structured({**GOOD, "data": {**GOOD["data"], "channel": "pigeon"}}), "INVALID_FIELD", "data.channel"),
    (structured({**GOOD, "data": "text"}), "INVALID_FIELD", "data"),
    (structured({**GOOD, "data": {**GOOD["data"], "summary": "x" * (codec.MAX_RECORD_BYTES + 1)}}), "TOO_LARGE", "value"),
])
def test_bad_structured_input_is_rejected_naming_the_field(value, code, field):
    with pytest.raises(codec.Rejection) as err:
        codec.parse_kafka(value, [])
    assert (err.value.code, err.value.field) == (code, field)
    assert field in str(err.value)


def test_binary_mode_and_bad_header_encoding():
    key, value, headers = codec.to_kafka(id="1", source="crm", type="casestream.note.added", subject="ACC-1",
                                         time=datetime(2026, 11, 2, tzinfo=timezone.utc),
                                         data={"author": "a", "text": "t"}, extensions={"caseid": "C-1"})
    ev = codec.parse_kafka(value, headers)
    assert ev.case_id == "C-1" and ev.type == "casestream.note.added" and key == b"ACC-1"
    bad = [(k, b"\xff" if k == "ce_source" else v) for k, v in headers]
    with pytest.raises(codec.Rejection) as err:
        codec.parse_kafka(value, bad)
    assert err.value.code == "BAD_ENCODING" and err.value.field == "ce_source"
    no_id = [(k, v) for k, v in headers if k != "ce_id"]
    with pytest.raises(codec.Rejection) as err:
        codec.parse_kafka(value, no_id)
    assert err.value.field == "id", "the SDK must not get the chance to invent an id"


def test_amounts_must_be_integer_minor_units():
    doc = {**GOOD, "type": "casestream.billing.payment_received",
           "data": {"reference": "R-1", "amount_minor": 12.5, "currency": "USD"}}
    with pytest.raises(codec.Rejection) as err:
        codec.parse_json(structured(doc))
    assert err.value.field == "data.amount_minor"


def test_protobuf_format():
    ce = cloudevent_pb2.CloudEvent(id="p-1", source="crm", spec_version="1.0", type="casestream.note.added",
                                   text_data=json.dumps({"author": "a", "text": "hello"}))
    ce.attributes["subject"].ce_string = "ACC-1"
    ce.attributes["time"].ce_timestamp.FromJsonString("2026-11-02T09:00:00Z")
    ev = codec.parse_proto(ce)
    assert ev.data == {"author": "a", "text": "hello"} and ev.subject == "ACC-1"
