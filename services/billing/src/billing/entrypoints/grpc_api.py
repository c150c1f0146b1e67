"""gRPC: BillingService. Thin: parse, call one query, map errors to status codes naming the field."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Mapping, NoReturn

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from casestream.grpc_server import abort_invalid, require
from casestream.v1 import billing_pb2 as pb, billing_pb2_grpc

from billing.service_layer import BadRequest, BillingService, NotFound
from billing.service_layer.services import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

Context = grpc.ServicerContext


def _ts(t: datetime | None) -> Timestamp | None:
    if t is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(t.astimezone(timezone.utc))
    return ts


def _money(balance: Mapping[str, int]) -> list[pb.Money]:
    return [pb.Money(amount_minor=v, currency=c) for c, v in sorted(balance.items())]


def _fail(context: Context, exc: Exception) -> NoReturn:
    """Service errors carry 'field: problem'; they become INVALID_ARGUMENT or NOT_FOUND, never a trace."""
    message = str(exc)
    if isinstance(exc, NotFound):
        context.abort(grpc.StatusCode.NOT_FOUND, message)
    field, _, description = message.partition(": ")
    abort_invalid(context, field, description or message)


class BillingApi(billing_pb2_grpc.BillingServiceServicer):
    def __init__(self, service: BillingService, max_wait_s: float = 10.0) -> None:
        self._service = service
        self._max_wait = max_wait_s

    def GetAccount(self, request: pb.GetAccountRequest, context: Context) -> pb.GetAccountResponse:
        require(context, request.account_id, "account_id")
        remaining = context.time_remaining()
        deadline = time.monotonic() + min(self._max_wait, remaining - 0.05 if remaining is not None else self._max_wait)
        while True:  # read-your-writes: wait until min_events facts are folded
            try:
                view = self._service.account(request.account_id)
            except NotFound as exc:
                view, missing = None, exc
            if view is not None and view.events_folded >= request.min_events:
                break
            if time.monotonic() >= deadline or not request.min_events:
                if view is None:
                    _fail(context, missing)
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED,
                              f"account {request.account_id} has {view.events_folded} events folded; "
                              f"min_events {request.min_events} not reached in time")
            time.sleep(0.05)
        return pb.GetAccountResponse(
            account_id=view.account_id, balance=_money(view.balance), holder=view.holder or "",
            holder_history=[pb.HolderChange(holder=h.holder, reason=h.reason, at=_ts(h.at))
                            for h in view.holder_history],
            active_holds=[pb.DunningHold(ref=h.ref, scope=h.scope, reason=h.reason,
                                         placed_at=_ts(h.placed_at)) for h in view.active_holds],
            ageing_json=json.dumps({b: dict(v) for b, v in view.ageing.items()}, sort_keys=True),
            events_folded=view.events_folded, policy_version=view.policy_version,
        )

    def ListLedger(self, request: pb.ListLedgerRequest, context: Context) -> pb.ListLedgerResponse:
        require(context, request.account_id, "account_id")
        if request.page_size > MAX_PAGE_SIZE:
            abort_invalid(context, "page_size",
                          f"must be from 1 to {MAX_PAGE_SIZE} (0 = {DEFAULT_PAGE_SIZE}), got {request.page_size}")
        as_of = request.as_of.ToDatetime(tzinfo=timezone.utc) if request.HasField("as_of") else None
        try:
            page = self._service.ledger(request.account_id, as_of=as_of,
                                        page_size=request.page_size or DEFAULT_PAGE_SIZE,
                                        page_token=request.page_token or None)
        except (BadRequest, NotFound) as exc:
            _fail(context, exc)
        return pb.ListLedgerResponse(
            entries=[pb.LedgerEntry(
                at=_ts(e.at), kind=e.kind, reference=e.reference,
                amount=pb.Money(amount_minor=e.amount_minor, currency=e.currency),
                case_id=e.case_id, sequence=e.sequence) for e in page.entries],
            balance=_money(page.balance), next_page_token=page.next_page_token or "",
        )

    def GetDispute(self, request: pb.GetDisputeRequest, context: Context) -> pb.GetDisputeResponse:
        require(context, request.account_id, "account_id")
        require(context, request.reference, "reference", "is required: a charge reference or \"account\"")
        try:
            d = self._service.dispute(request.account_id, request.reference)
        except (BadRequest, NotFound) as exc:
            _fail(context, exc)
        return pb.GetDisputeResponse(
            reference=d.reference, status=d.status, reason=d.reason, opened_at=_ts(d.opened_at),
            resolved_at=_ts(d.resolved_at), hold_ref=d.hold_ref,
        )

    def ExplainDunning(self, request: pb.ExplainDunningRequest, context: Context) -> pb.ExplainDunningResponse:
        require(context, request.account_id, "account_id")
        require(context, request.charge_reference, "charge_reference")
        at = request.at.ToDatetime(tzinfo=timezone.utc) if request.HasField("at") else None
        try:
            a = self._service.explain_dunning(request.account_id, request.charge_reference, at)
        except (BadRequest, NotFound) as exc:
            _fail(context, exc)
        return pb.ExplainDunningResponse(would_send=a.would_send, reasons=list(a.reasons),
                                                  notices_sent=list(a.notices_sent))
