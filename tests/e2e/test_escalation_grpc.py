"""Escalation through its public door: real intake and escalation processes, real gRPC."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from casestream.v1 import escalation_pb2 as pb, escalation_pb2_grpc, intake_pb2_grpc

from integration.escalation.telecom_story import Story, ny, start_escalation
from support.stack import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]


@pytest.fixture(scope="module")
def live(stack_factory):
    stack = stack_factory()
    stack.start("intake")
    start_escalation(stack)
    intake_ch = grpc.insecure_channel(stack.grpc_addr("intake"))
    esc_ch = grpc.insecure_channel(stack.grpc_addr("escalation"))
    story = Story(intake_pb2_grpc.IntakeServiceStub(intake_ch), "ACC-E2E")
    story.call(ny(2026, 11, 9, 9, 0))
    story.promise("early", ny(2026, 11, 9, 9, 10), ny(2026, 11, 9, 11, 0), by="a-01")
    story.promise("late", ny(2026, 11, 9, 9, 20), ny(2026, 11, 12, 17, 0), by="a-02")
    yield stack, escalation_pb2_grpc.EscalationServiceStub(esc_ch), story, esc_ch
    intake_ch.close()
    esc_ch.close()


def bad_request(err: grpc.RpcError) -> list[str]:
    status = rpc_status.from_call(err)
    fields = []
    for detail in status.details:
        br = error_details_pb2.BadRequest()
        if detail.Unpack(br):
            fields += [v.field for v in br.field_violations]
    return fields


def test_health_and_reflection(live):
    _, _, _, channel = live
    resp = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="casestream.v1.EscalationService"))
    assert resp.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    [answer] = list(reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    assert "casestream.v1.EscalationService" in {s.name for s in answer.list_services_response.service}


def test_read_your_writes_ownership_and_promises(live):
    _, esc, story, _ = live
    own = esc.GetOwnership(pb.GetOwnershipRequest(case_id=story.case_id, min_sequence=story.last_sequence), timeout=10)
    assert own.current.owner == "frontline" and own.current.kind == "queue" and own.current.duty_owner == "fl-duty-lead"
    assert own.history[0].since_sequence == 1 and own.history[0].reason == "case_opened"
    assert own.priority == "P3" and own.policy_version == "us-telecom-2026.11"
    promises = esc.ListOpenPromises(pb.ListOpenPromisesRequest(case_id=story.case_id,
                                                               min_sequence=story.last_sequence), timeout=10)
    assert [p.ref for p in promises.promises] == [story.refs["early"], story.refs["late"]]  # by due time
    assert {p.status for p in promises.promises} == {"open"}
    assert promises.promises[0].due.ToJsonString() == "2026-11-09T16:00:00Z"


def test_a_missed_promise_shows_as_a_breach_and_the_complaint_as_top_priority(live):
    _, esc, story, _ = live
    story.tick(ny(2026, 11, 9, 11, 30))
    complaint = story.fact(ny(2026, 11, 9, 12, 0), "complaint.regulatory_filed", regulator="NY PSC", reference="PSC-9")

    def breached():
        got = esc.ListBreaches(pb.ListBreachesRequest(case_id=story.case_id, min_sequence=story.last_sequence), timeout=10)
        return [b for b in got.breaches if b.kind == "promise"]

    [breach] = wait_until(breached, timeout=20, what="the promise breach folded")
    assert story.refs["early"] in breach.detail and breach.escalated_to_level >= 1
    assert breach.at.ToJsonString() == "2026-11-09T16:00:00Z"
    resolved = esc.ListOpenPromises(pb.ListOpenPromisesRequest(case_id=story.case_id, include_resolved=True), timeout=10)
    assert {p.ref: p.status for p in resolved.promises}[story.refs["early"]] == "breached"
    open_only = esc.ListOpenPromises(pb.ListOpenPromisesRequest(case_id=story.case_id), timeout=10)
    assert [p.ref for p in open_only.promises] == [story.refs["late"]]

    def senior():
        own = esc.GetOwnership(pb.GetOwnershipRequest(case_id=story.case_id), timeout=10)
        return own if own.current.owner == "dana.senior" else None

    own = wait_until(senior, timeout=20, what="the senior owner")
    assert own.priority == "P1" and own.current.reason == "regulatory_complaint"
    assert own.current.since_sequence > int(complaint.split("#")[1])
    sla = wait_until(lambda: (r := esc.GetSla(pb.GetSlaRequest(case_id=story.case_id), timeout=10))
                     and "regulatory" in {c.name for c in r.clocks} and r, timeout=20, what="the regulatory clock")
    clocks = {c.name: c for c in sla.clocks}
    assert clocks["regulatory"].state == "running" and clocks["regulatory"].deadline.ToJsonString()
    assert clocks["first_response"].business_time and clocks["first_response"].calendar == "billing"
    assert sla.priority == "P1"


@pytest.mark.parametrize("case_id, field", [("", "case_id"), ("C 1; drop", "case_id"), ("x" * 300, "case_id")])
def test_bad_arguments_are_invalid_argument_naming_the_field(live, case_id, field):
    _, esc, _, _ = live
    for call, req in [(esc.GetOwnership, pb.GetOwnershipRequest), (esc.ListOpenPromises, pb.ListOpenPromisesRequest),
                      (esc.ListBreaches, pb.ListBreachesRequest), (esc.GetSla, pb.GetSlaRequest)]:
        with pytest.raises(grpc.RpcError) as err:
            call(req(case_id=case_id), timeout=5)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert bad_request(err.value) == [field]
        assert "Traceback" not in err.value.details()


def test_unknown_case_is_not_found_and_an_unreached_sequence_times_out(live):
    _, esc, story, _ = live
    with pytest.raises(grpc.RpcError) as err:
        esc.GetOwnership(pb.GetOwnershipRequest(case_id="C-000000000000"), timeout=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND and "C-000000000000" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        esc.GetSla(pb.GetSlaRequest(case_id=story.case_id, min_sequence=story.last_sequence + 10_000), timeout=1.0)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
