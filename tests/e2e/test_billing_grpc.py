"""Billing through its public doors: facts submitted via intake's gRPC, answers from the
live billing process over gRPC (real processes, real broker)."""

from __future__ import annotations

import json
import urllib.request

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from casestream.v1 import billing_pb2, intake_pb2, intake_pb2_grpc
from integration.billing.billing_kit import billing_stub, start_billing
from support.stack import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]

ACCOUNT = "ACC-E2E-BILL"


def ce(i: int, type_: str, time: str, data: dict, account: str = ACCOUNT) -> intake_pb2.InboundEvent:
    return intake_pb2.InboundEvent(json=json.dumps({
        "specversion": "1.0", "id": f"ledger-{i}", "source": "ledger", "type": type_, "subject": account,
        "time": time, "data": data}))


@pytest.fixture(scope="module")
def live(stack_factory):
    stack = stack_factory()
    stack.start("intake")
    start_billing(stack, metrics_port=free_port())
    intake_ch = grpc.insecure_channel(stack.grpc_addr("intake"))
    intake = intake_pb2_grpc.IntakeServiceStub(intake_ch)
    batch = intake.SubmitBatch(intake_pb2.SubmitBatchRequest(events=[
        ce(1, "casestream.billing.charge_posted", "2026-03-01T09:00:00Z",
           {"reference": "INV-1", "amount_minor": 5_000, "currency": "EUR", "due": "2026-03-15T00:00:00Z"}),
        ce(2, "casestream.billing.charge_posted", "2026-03-02T09:00:00Z",
           {"reference": "INV-2", "amount_minor": 700, "currency": "EUR", "due": "2026-04-15T00:00:00Z"}),
        ce(3, "casestream.billing.payment_received", "2026-03-10T09:00:00Z",
           {"reference": "INV-1", "amount_minor": 2_000, "currency": "EUR"}),
        ce(4, "casestream.billing.dispute_opened", "2026-03-11T09:00:00Z", {"reference": "INV-1", "reason": "overbilled"}),
        ce(5, "casestream.account.holder_changed", "2026-03-12T09:00:00Z", {"new_holder": "Ada L.", "reason": "rename"}),
    ], wait_sequenced=True, timeout_ms=30_000), timeout=40)
    assert [r.status for r in batch.results] == [intake_pb2.SUBMIT_STATUS_SEQUENCED] * 5, batch
    ch, stub = billing_stub(stack)
    yield stack, stub
    ch.close()
    intake_ch.close()


def field_violations(err: grpc.RpcError) -> list[str]:
    status = rpc_status.from_call(err)
    out = []
    for detail in status.details if status else []:
        bad = error_details_pb2.BadRequest()
        detail.Unpack(bad)
        out += [v.field for v in bad.field_violations]
    return out


def test_account_ledger_dispute_and_explain_answer_from_the_live_service(live):
    stack, stub = live
    acc = stub.GetAccount(billing_pb2.GetAccountRequest(account_id=ACCOUNT, min_events=5), timeout=15)
    assert acc.events_folded >= 5 and acc.policy_version == "2026-11-01"
    assert [(m.currency, m.amount_minor) for m in acc.balance] == [("EUR", 3_700)]
    assert acc.holder == "Ada L." and [h.reason for h in acc.holder_history] == ["rename"]
    assert [h.scope for h in acc.active_holds] == ["INV-1"], "the dispute placed a dunning hold"
    assert json.loads(acc.ageing_json)["0-30"] == {"EUR": 3_700}

    first = stub.ListLedger(billing_pb2.ListLedgerRequest(account_id=ACCOUNT, page_size=2), timeout=5)
    assert [(e.kind, e.reference, e.amount.amount_minor) for e in first.entries] == [
        ("charge", "INV-1", 5_000), ("charge", "INV-2", 700)]
    assert first.next_page_token
    rest = stub.ListLedger(billing_pb2.ListLedgerRequest(account_id=ACCOUNT, page_size=2,
                                                         page_token=first.next_page_token), timeout=5)
    assert [(e.kind, e.amount.amount_minor) for e in rest.entries] == [("payment", 2_000)] and not rest.next_page_token
    as_of = Timestamp()
    as_of.FromJsonString("2026-03-01T12:00:00Z")
    early = stub.ListLedger(billing_pb2.ListLedgerRequest(account_id=ACCOUNT, as_of=as_of), timeout=5)
    assert [m.amount_minor for m in early.balance] == [5_000] and len(early.entries) == 1

    dispute = stub.GetDispute(billing_pb2.GetDisputeRequest(account_id=ACCOUNT, reference="INV-1"), timeout=5)
    assert dispute.status == "open" and dispute.reason == "overbilled" and dispute.hold_ref.startswith("hold:")

    at = Timestamp()
    at.FromJsonString("2026-04-01T00:00:00Z")
    why = stub.ExplainDunning(billing_pb2.ExplainDunningRequest(account_id=ACCOUNT, charge_reference="INV-1", at=at),
                              timeout=5)
    assert not why.would_send and any(r.startswith("held by dispute") for r in why.reasons)


@pytest.mark.parametrize("call, request_, field", [
    ("GetAccount", billing_pb2.GetAccountRequest(), "account_id"),
    ("ListLedger", billing_pb2.ListLedgerRequest(), "account_id"),
    ("ListLedger", billing_pb2.ListLedgerRequest(account_id=ACCOUNT, page_size=501), "page_size"),
    ("ListLedger", billing_pb2.ListLedgerRequest(account_id=ACCOUNT, page_token="not-a-token"), "page_token"),
    ("GetDispute", billing_pb2.GetDisputeRequest(account_id=ACCOUNT), "reference"),
    ("ExplainDunning", billing_pb2.ExplainDunningRequest(account_id=ACCOUNT), "charge_reference"),
])
def test_bad_arguments_are_invalid_argument_naming_the_field(live, call, request_, field):
    _, stub = live
    with pytest.raises(grpc.RpcError) as err:
        getattr(stub, call)(request_, timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err.value) == [field]
    assert "Traceback" not in (err.value.details() or "")


def test_unknown_ids_are_not_found_and_unreached_min_events_is_deadline_exceeded(live):
    _, stub = live
    with pytest.raises(grpc.RpcError) as err:
        stub.GetAccount(billing_pb2.GetAccountRequest(account_id="ACC-NOBODY"), timeout=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND and "ACC-NOBODY" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        stub.GetDispute(billing_pb2.GetDisputeRequest(account_id=ACCOUNT, reference="INV-2"), timeout=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        stub.GetAccount(billing_pb2.GetAccountRequest(account_id=ACCOUNT, min_events=10_000), timeout=1)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_health_reflection_and_metrics(live):
    stack, _ = live
    with grpc.insecure_channel(stack.grpc_addr("billing")) as ch:
        status = health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(service="casestream.v1.BillingService"), timeout=5)
        assert status.status == health_pb2.HealthCheckResponse.SERVING
        answers = reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        names = {s.name for a in answers for s in a.list_services_response.service}
        assert "casestream.v1.BillingService" in names
    body = urllib.request.urlopen(f"http://127.0.0.1:{stack.procs['billing'].metrics_port}/metrics", timeout=5).read().decode()
    folded = next(float(line.split()[-1]) for line in body.splitlines()
                  if line.startswith("casestream_billing_facts_folded_total "))
    assert folded >= 5
    assert 'casestream_billing_decisions_submitted_total{type="dunning_hold_placed"} 1.0' in body
