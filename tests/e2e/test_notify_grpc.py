"""NotifyService through its public door: the live process, gRPC health and errors."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from casestream.procs import health
from casestream.v1 import notify_pb2, notify_pb2_grpc
from support.stack import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]


@pytest.fixture(scope="module")
def stub(stack_factory):
    stack = stack_factory()
    port = str(free_port())
    stack.start("smtp-sink", CASESTREAM_SMTP_PORT=port)
    stack.start("intake")
    stack.start("notify", CASESTREAM_SMTP_PORT=port)
    assert health(stack.procs["notify"].grpc_port) == "SERVING"
    with grpc.insecure_channel(stack.grpc_addr("notify")) as ch:
        yield notify_pb2_grpc.NotifyServiceStub(ch)


def violation(err: grpc.RpcError) -> str:
    status = rpc_status.from_call(err)
    bad = error_details_pb2.BadRequest()
    status.details[0].Unpack(bad)
    return bad.field_violations[0].field


@pytest.mark.parametrize("call,request_,field", [
    ("ListDeliveries", notify_pb2.ListDeliveriesRequest(case_id=""), "case_id"),
    ("ListDeliveries", notify_pb2.ListDeliveriesRequest(case_id="C" * 300), "case_id"),
    ("PreviewNotification", notify_pb2.PreviewNotificationRequest(case_id="C-1"), "rule_id"),
    ("PreviewNotification", notify_pb2.PreviewNotificationRequest(rule_id="promise-breached-customer"), "case_id"),
    ("PreviewNotification", notify_pb2.PreviewNotificationRequest(
        rule_id="promise-breached-customer", case_id="C-1", locale="english"), "locale"),
])
def test_bad_arguments_are_invalid_argument_naming_the_field(stub, call, request_, field):
    with pytest.raises(grpc.RpcError) as e:
        getattr(stub, call)(request_, timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violation(e.value) == field and field in e.value.details()
    assert "Traceback" not in e.value.details()


def test_unknown_case_is_not_found(stub):
    for call, req in (("ListDeliveries", notify_pb2.ListDeliveriesRequest(case_id="C-nope")),
                      ("PreviewNotification", notify_pb2.PreviewNotificationRequest(
                          rule_id="promise-breached-customer", case_id="C-nope"))):
        with pytest.raises(grpc.RpcError) as e:
            getattr(stub, call)(req, timeout=10)
        assert e.value.code() == grpc.StatusCode.NOT_FOUND and "C-nope" in e.value.details()
