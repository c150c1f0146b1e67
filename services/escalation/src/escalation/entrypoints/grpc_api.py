"""gRPC: EscalationService. Thin: check the arguments, wait for the fold (min_sequence),
query the service layer, map to messages; unknown cases are NOT_FOUND."""

from __future__ import annotations

import re
from datetime import datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from casestream.grpc_server import abort_invalid, require
from casestream.v1 import escalation_pb2 as pb, escalation_pb2_grpc

from escalation.adapters.progress import FoldProgress
from escalation.domain.state import Breach, OwnerSpell, Promise
from escalation.service_layer import EscalationService
from escalation.service_layer.services import UnknownCase

CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def _ts(dt: datetime | None) -> Timestamp | None:
    if dt is None:
        return None
    t = Timestamp()
    t.FromDatetime(dt)
    return t


def _wait_budget(context: grpc.ServicerContext, cap: float) -> float:
    remaining = context.time_remaining()
    return max(0.0, min(cap, remaining - 0.05 if remaining is not None else cap))


class EscalationApi(escalation_pb2_grpc.EscalationServiceServicer):
    def __init__(self, service: EscalationService, progress: FoldProgress, max_wait_s: float) -> None:
        self._service = service
        self._progress = progress
        self._max_wait = max_wait_s

    def _case(self, request: object, context: grpc.ServicerContext) -> str:
        """The validated case id, once the fold has reached `min_sequence` (read-your-writes)."""
        case_id: str = request.case_id  # type: ignore[attr-defined]
        min_sequence: int = request.min_sequence  # type: ignore[attr-defined]
        require(context, case_id, "case_id", "is required: the case id intake assigned, e.g. C-0123456789AB")
        if not CASE_ID.match(case_id):
            abort_invalid(context, "case_id", f"{case_id[:40]!r} is not a case id; expected letters, digits, "
                                              "'.', '_', ':' or '-', at most 128 characters")
        if min_sequence and not self._progress.wait(case_id, min_sequence,
                                                    _wait_budget(context, self._max_wait)):
            have = self._progress.sequence(case_id)
            if have:
                context.abort(grpc.StatusCode.DEADLINE_EXCEEDED,
                              f"case {case_id} is folded up to sequence {have}; "
                              f"min_sequence {min_sequence} not reached in time")
        if self._service.last_sequence(case_id) == 0:
            context.abort(grpc.StatusCode.NOT_FOUND, f"case_id: no case {case_id!r} is known to escalation")
        return case_id

    def _owner(self, spell: OwnerSpell, case_id: str) -> pb.Owner:
        o = spell.owner
        return pb.Owner(owner=o.id, kind=o.kind, queue=o.queue or "", duty_owner=o.accountable,
                        since_sequence=spell.sequence, reason=spell.reason)

    def GetOwnership(self, request: pb.GetOwnershipRequest, context: grpc.ServicerContext) -> pb.GetOwnershipResponse:
        case_id = self._case(request, context)
        try:
            own = self._service.ownership(case_id)
            state = self._service.state(case_id)
        except UnknownCase as e:
            context.abort(grpc.StatusCode.NOT_FOUND, str(e))
        history = [self._owner(s, case_id) for s in own.history]
        return pb.GetOwnershipResponse(
            current=history[-1] if history else None, history=history, priority=state.priority or "",
            escalation_level=state.level, policy_version=self._service.policy.version)

    @staticmethod
    def _promise(p: Promise) -> pb.Promise:
        return pb.Promise(ref=p.ref, what=p.what, promised_by=p.promised_by, due=_ts(p.due), status=p.status,
                          followed_up=p.follow_up_due)

    def ListOpenPromises(self, request: pb.ListOpenPromisesRequest, context: grpc.ServicerContext) -> pb.ListOpenPromisesResponse:
        case_id = self._case(request, context)
        try:
            found = (self._service.promises if request.include_resolved else self._service.open_promises)(case_id)
        except UnknownCase as e:
            context.abort(grpc.StatusCode.NOT_FOUND, str(e))
        return pb.ListOpenPromisesResponse(promises=[self._promise(p) for p in found])

    def ListBreaches(self, request: pb.ListBreachesRequest, context: grpc.ServicerContext) -> pb.ListBreachesResponse:
        case_id = self._case(request, context)
        try:
            state = self._service.state(case_id)
        except UnknownCase as e:
            context.abort(grpc.StatusCode.NOT_FOUND, str(e))
        top = self._service.policy.top_level
        prefix = f"escalate:{case_id}:"

        def level(b: Breach) -> int:
            # The escalation a breach caused carries the breach id without the case in it.
            cause = prefix + b.id.replace(f":{case_id}:", ":", 1)
            return min(state.escalations.index(cause) + 1, top) if cause in state.escalations else 0

        def detail(b: Breach) -> str:
            if b.kind == "promise":
                p = state.promises.get(b.name)
                return f"promise {b.name} ({p.what if p else '?'}) by {p.promised_by if p else '?'} not kept by its due time"
            return f"SLA {b.name} passed its deadline"

        return pb.ListBreachesResponse(breaches=[
            pb.Breach(kind=b.kind, ref=b.ref, at=_ts(b.due), detail=detail(b), escalated_to_level=level(b))
            for b in state.breaches])

    def GetSla(self, request: pb.GetSlaRequest, context: grpc.ServicerContext) -> pb.GetSlaResponse:
        case_id = self._case(request, context)
        try:
            views = self._service.sla(case_id)
            state = self._service.state(case_id)
        except UnknownCase as e:
            context.abort(grpc.StatusCode.NOT_FOUND, str(e))
        return pb.GetSlaResponse(priority=state.priority or "", clocks=[
            pb.SlaClock(name=v.name, state=v.state, started_at=_ts(v.started_at), deadline=_ts(v.deadline),
                        business_time=v.basis == "business", calendar=v.calendar or "")
            for v in views])
