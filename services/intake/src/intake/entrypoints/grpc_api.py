"""gRPC: IntakeService (submit) and CaseService (read the case projection). Thin: parse,
call, map errors to status codes with field details."""

from __future__ import annotations

import functools
import time
from typing import Any, Iterator

import grpc
import orjson
from google.protobuf.timestamp_pb2 import Timestamp

from casestream import cloudevents_codec, envelope, topics
from casestream.grpc_server import abort_invalid, require
from casestream.v1 import case_pb2, case_pb2_grpc, intake_pb2, intake_pb2_grpc

from intake.adapters.projection import CaseProjection, CaseView, KeyStatus, StoredEvent

Status = intake_pb2.SubmitStatus


@functools.lru_cache(maxsize=1 << 16)
def _ts(iso: str) -> Timestamp:
    """Shared and cached (parsing is ~8 us a call, twice per case summary): only ever pass it
    to a message constructor, which copies it."""
    t = Timestamp()
    if iso:
        t.FromJsonString(iso)
    return t


def _wait_budget(context: grpc.ServicerContext, cap: float) -> float:
    remaining = context.time_remaining()
    return max(0.0, min(cap, remaining - 0.05 if remaining is not None else cap))


class IntakeApi(intake_pb2_grpc.IntakeServiceServicer):
    def __init__(self, producer: Any, projection: CaseProjection, max_wait_s: float) -> None:
        self._producer = producer
        self._projection = projection
        self._max_wait = max_wait_s

    def _parse(self, event: intake_pb2.InboundEvent, context: grpc.ServicerContext, prefix: str = "event") -> Any:
        which = event.WhichOneof("format")
        require(context, which, prefix, "is required: set cloud_event or json")
        try:
            if which == "json":
                return cloudevents_codec.parse_json(event.json.encode("utf-8", "surrogatepass"))
            return cloudevents_codec.parse_proto(event.cloud_event)
        except cloudevents_codec.Rejection as e:
            abort_invalid(context, f"{prefix}.{e.field}", e.reason, e.code)

    def _publish(self, ev: cloudevents_codec.InboundEvent) -> Any:
        # Re-encoded from the validated attributes: binary mode, keyed by account.
        key, value, headers = cloudevents_codec.to_kafka(
            id=ev.id, source=ev.source, type=ev.type, subject=ev.subject, time=ev.time,
            data=ev.data, extensions=ev.extensions,
        )
        return self._producer.send(topics.INBOUND, key=key, value=value, headers=headers)

    @staticmethod
    def _response(ev: Any, st: KeyStatus | None, duplicate: bool) -> intake_pb2.SubmitResponse:
        if st is None:
            return intake_pb2.SubmitResponse(status=Status.SUBMIT_STATUS_ACCEPTED, source=ev.source, id=ev.id)
        if st.rejected_code:
            return intake_pb2.SubmitResponse(status=Status.SUBMIT_STATUS_REJECTED, source=ev.source, id=ev.id,
                                             reason=f"{st.rejected_code}: {st.rejected_reason}")
        return intake_pb2.SubmitResponse(
            status=Status.SUBMIT_STATUS_DUPLICATE if duplicate else Status.SUBMIT_STATUS_SEQUENCED,
            case_id=st.case_id, sequence=st.sequence, hash=st.hash, partition=st.partition,
            offset=st.offset, source=ev.source, id=ev.id)

    def _submit_all(self, events: list[Any], wait: bool, timeout_ms: int, context: grpc.ServicerContext) -> list[Any]:
        known = {ev.key: self._projection.by_key.get(ev.key) for ev in events}
        futures = [self._publish(ev) for ev in events if known[ev.key] is None or known[ev.key].rejected_code]
        self._producer.flush()
        for f in futures:
            f.get(timeout=10)
        out = []
        deadline = time.monotonic() + min(timeout_ms / 1000 if timeout_ms else 5.0, _wait_budget(context, 30))
        for ev in events:
            prior = known[ev.key]
            if prior is not None and not prior.rejected_code:
                out.append(self._response(ev, prior, duplicate=True))
                continue
            st = self._projection.wait_key(ev.key, max(0.0, deadline - time.monotonic())) if wait else None
            if st is not None and st.rejected_code and prior is not None and st is prior:
                st = None  # the old rejection; the resubmission is still in flight
            out.append(self._response(ev, st, duplicate=False))
        return out

    def Submit(self, request: intake_pb2.SubmitRequest, context: grpc.ServicerContext) -> intake_pb2.SubmitResponse:
        ev = self._parse(request.event, context)
        return self._submit_all([ev], request.wait_sequenced, request.timeout_ms, context)[0]

    def SubmitBatch(self, request: intake_pb2.SubmitBatchRequest, context: grpc.ServicerContext) -> intake_pb2.SubmitBatchResponse:
        require(context, len(request.events), "events", "must hold at least one event")
        if len(request.events) > 1000:
            abort_invalid(context, "events", f"at most 1000 events per batch, got {len(request.events)}")
        events = [self._parse(e, context, f"events[{i}]") for i, e in enumerate(request.events)]
        return intake_pb2.SubmitBatchResponse(results=self._submit_all(events, request.wait_sequenced, request.timeout_ms, context))


def event_record(e: StoredEvent, account: str) -> case_pb2.CaseEventRecord:
    data = envelope.event_data(envelope.decode(e.value))
    return case_pb2.CaseEventRecord(
        case_id=e.case_id, sequence=e.sequence, type=e.type, source=e.source, id=e.id, time=_ts(e.time),
        hash=e.hash, prev_hash=e.prev_hash, partition=e.partition, offset=e.offset, value=e.value,
        data_json=orjson.dumps(data).decode(), account_id=account,
    )


def summary(v: CaseView) -> case_pb2.CaseSummary:
    return case_pb2.CaseSummary(
        case_id=v.case_id, account_id=v.account,
        state=case_pb2.CASE_STATE_OPEN if v.open else case_pb2.CASE_STATE_CLOSED,
        opened_at=_ts(v.opened_at), closed_at=_ts(v.closed_at) if v.closed_at else None,
        last_sequence=v.last.sequence, last_hash=v.last.hash, partition=v.partition,
        contact_count=v.contacts, last_type=v.last.type,
    )


class CaseApi(case_pb2_grpc.CaseServiceServicer):
    def __init__(self, projection: CaseProjection, max_wait_s: float) -> None:
        self._p = projection
        self._max_wait = max_wait_s

    def _ready(self, case_id: str, min_sequence: int) -> CaseView | None:
        """The case if it is already at `min_sequence`: a lock-free look-up (the feeder adds a
        view, then its first event, under the projection's lock: a view without events is not
        there yet)."""
        view = self._p.cases.get(case_id)
        if view is not None and view.events and view.events[-1].sequence >= min_sequence:
            return view
        return None

    def _case(self, case_id: str, min_sequence: int, context: grpc.ServicerContext) -> CaseView:
        require(context, case_id, "case_id")
        view = self._p.wait_case(case_id, min_sequence, _wait_budget(context, self._max_wait) if min_sequence else 0)
        if view is not None:
            return view
        if case_id in self._p.cases:
            have = self._p.cases[case_id].last.sequence
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED,
                          f"case {case_id} is at sequence {have}; min_sequence {min_sequence} not reached in time")
        context.abort(grpc.StatusCode.NOT_FOUND, f"no case {case_id!r}")
        raise AssertionError("unreachable")

    def GetCase(self, request: case_pb2.GetCaseRequest, context: grpc.ServicerContext) -> case_pb2.GetCaseResponse:
        view = self._ready(request.case_id, request.min_sequence) if request.case_id else None
        if view is None:  # missing, not there yet, or a read of one's own write still in flight
            view = self._case(request.case_id, request.min_sequence, context)
        return case_pb2.GetCaseResponse(case=summary(view))

    def ListCaseEvents(self, request: case_pb2.ListCaseEventsRequest, context: grpc.ServicerContext) -> case_pb2.ListCaseEventsResponse:
        if request.page_size > 1000:
            abort_invalid(context, "page_size", f"at most 1000, got {request.page_size}")
        size = request.page_size or 100
        start = max(1, request.from_sequence)
        if request.page_token:
            if not request.page_token.isdigit():
                abort_invalid(context, "page_token", "not a token this service issued")
            start = int(request.page_token)
        view = self._case(request.case_id, request.min_sequence, context)
        page = [e for e in view.events[start - 1:start - 1 + size]]
        nxt = str(start + size) if start - 1 + size < len(view.events) else ""
        return case_pb2.ListCaseEventsResponse(events=[event_record(e, view.account) for e in page], next_page_token=nxt)

    def WatchCase(self, request: case_pb2.WatchCaseRequest, context: grpc.ServicerContext) -> Iterator[case_pb2.WatchCaseResponse]:
        require(context, request.case_id, "case_id")
        after = request.after_sequence
        while context.is_active():
            view = self._p.wait_case(request.case_id, after + 1, 1.0)
            if view is None:
                continue
            for e in self._p.events_after(request.case_id, after):
                yield case_pb2.WatchCaseResponse(event=event_record(e, view.account))
                after = e.sequence

    def FindCases(self, request: case_pb2.FindCasesRequest, context: grpc.ServicerContext) -> case_pb2.FindCasesResponse:
        require(context, request.account_id, "account_id")
        ids = self._p.by_account.get(request.account_id, [])
        return case_pb2.FindCasesResponse(cases=[summary(self._p.cases[i]) for i in ids])
