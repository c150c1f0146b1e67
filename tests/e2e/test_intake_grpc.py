"""Intake through its public doors: a real process, real gRPC, real broker."""

from __future__ import annotations

import json

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from casestream.v1 import case_pb2, case_pb2_grpc, cloudevent_pb2, intake_pb2, intake_pb2_grpc

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]


def event_json(i: int, account: str = "ACC-E2E", **data) -> str:
    return json.dumps({
        "specversion": "1.0", "id": f"crm-{i}", "source": "crm", "type": "casestream.note.added",
        "subject": account, "time": "2026-11-02T09:00:00Z",
        "data": {"author": "a-17", "text": f"note {i}", **data}})


@pytest.fixture(scope="module")
def stubs(stack_factory):
    stack = stack_factory()
    stack.start("intake")
    channel = grpc.insecure_channel(stack.grpc_addr("intake"))
    yield intake_pb2_grpc.IntakeServiceStub(channel), case_pb2_grpc.CaseServiceStub(channel)
    channel.close()


def test_submit_then_read_your_write(stubs):
    intake, cases = stubs
    resp = intake.Submit(intake_pb2.SubmitRequest(event=intake_pb2.InboundEvent(json=event_json(1)), wait_sequenced=True))
    assert resp.status == intake_pb2.SUBMIT_STATUS_SEQUENCED
    assert resp.sequence == 2 and resp.case_id.startswith("C-") and len(resp.hash) == 64
    got = cases.GetCase(case_pb2.GetCaseRequest(case_id=resp.case_id, min_sequence=resp.sequence))
    assert got.case.last_sequence == 2 and got.case.account_id == "ACC-E2E" and got.case.last_hash == resp.hash
    again = intake.Submit(intake_pb2.SubmitRequest(event=intake_pb2.InboundEvent(json=event_json(1)), wait_sequenced=True))
    assert again.status == intake_pb2.SUBMIT_STATUS_DUPLICATE and again.sequence == resp.sequence


def test_protobuf_cloudevent_and_batches_and_paging(stubs):
    intake, cases = stubs
    ce = cloudevent_pb2.CloudEvent(id="crm-pb-1", source="crm", spec_version="1.0", type="casestream.note.added",
                                   text_data=json.dumps({"author": "a-1", "text": "via protobuf"}))
    ce.attributes["subject"].ce_string = "ACC-PAGE"
    ce.attributes["time"].ce_timestamp.FromJsonString("2026-11-02T10:00:00Z")
    first = intake.Submit(intake_pb2.SubmitRequest(event=intake_pb2.InboundEvent(cloud_event=ce), wait_sequenced=True))
    assert first.status == intake_pb2.SUBMIT_STATUS_SEQUENCED
    batch = intake.SubmitBatch(intake_pb2.SubmitBatchRequest(
        events=[intake_pb2.InboundEvent(json=event_json(100 + i, "ACC-PAGE")) for i in range(25)], wait_sequenced=True))
    assert [r.status for r in batch.results] == [intake_pb2.SUBMIT_STATUS_SEQUENCED] * 25
    seqs, token = [], ""
    while True:
        page = cases.ListCaseEvents(case_pb2.ListCaseEventsRequest(case_id=first.case_id, page_size=10, page_token=token,
                                                                    min_sequence=batch.results[-1].sequence))
        seqs += [e.sequence for e in page.events]
        token = page.next_page_token
        if not token:
            break
    assert seqs == list(range(1, 28))
    assert [c.case_id for c in cases.FindCases(case_pb2.FindCasesRequest(account_id="ACC-PAGE")).cases] == [first.case_id]
    stream = cases.WatchCase(case_pb2.WatchCaseRequest(case_id=first.case_id, after_sequence=25), timeout=5)
    watched = [next(stream).event.sequence, next(stream).event.sequence]
    stream.cancel()
    assert watched == [26, 27]


def field_violations(err: grpc.RpcError) -> list[str]:
    status = rpc_status.from_call(err)
    out = []
    for d in status.details:
        bad = error_details_pb2.BadRequest()
        d.Unpack(bad)
        out += [v.field for v in bad.field_violations]
    return out


@pytest.mark.parametrize("payload, field", [
    ("{not json", "event.value"),
    (json.dumps({"specversion": "1.0", "source": "crm", "type": "casestream.note.added", "subject": "A",
                 "time": "2026-11-02T09:00:00Z", "data": {"author": "a", "text": "t"}}), "event.id"),
    (event_json(2).replace("casestream.note.added", "casestream.note.shouted"), "event.type"),
    (event_json(3).replace('"author": "a-17", ', ""), "event.data.author"),
])
def test_bad_input_is_invalid_argument_naming_the_field(stubs, payload, field):
    intake, _ = stubs
    with pytest.raises(grpc.RpcError) as err:
        intake.Submit(intake_pb2.SubmitRequest(event=intake_pb2.InboundEvent(json=payload)))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err.value) == [field]
    assert "Traceback" not in err.value.details()


def test_reads_name_not_found_and_bad_arguments(stubs):
    _, cases = stubs
    with pytest.raises(grpc.RpcError) as err:
        cases.GetCase(case_pb2.GetCaseRequest(case_id="C-DOESNOTEXIST"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        cases.GetCase(case_pb2.GetCaseRequest())
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field_violations(err.value) == ["case_id"]
    with pytest.raises(grpc.RpcError) as err:
        cases.ListCaseEvents(case_pb2.ListCaseEventsRequest(case_id="C-X", page_size=5000))
    assert field_violations(err.value) == ["page_size"]
