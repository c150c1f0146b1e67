"""gRPC: NotifyService (what a case's people were told; what a rule would send). Thin:
parse, call the service, map errors to status codes with field details."""

from __future__ import annotations

import re
from typing import Callable

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from casestream.grpc_server import abort_invalid, require
from casestream.v1 import notify_pb2, notify_pb2_grpc

from notify.domain.delivery import DeliveryRecord
from notify.service_layer.service import NotifyService, UnknownRule

_LOCALE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
_MAX_ID = 256


def _ts(value) -> Timestamp:  # type: ignore[no-untyped-def]
    t = Timestamp()
    t.FromDatetime(value)
    return t


def delivery(r: DeliveryRecord) -> notify_pb2.Delivery:
    return notify_pb2.Delivery(
        message_id=r.message_id, rule=r.rule, template=r.template, channel=r.channel,
        recipient_role=r.recipient_role, status=r.status, attempts=r.attempts, reason=r.reason,
        at=_ts(r.at), trigger_ref=r.trigger_ref,
    )


class NotifyApi(notify_pb2_grpc.NotifyServiceServicer):
    def __init__(self, service: NotifyService, hydrate: Callable[[str], None]) -> None:
        self._service = service
        self._hydrate = hydrate  # folds a case's recovered facts on the service's thread

    def _case_id(self, case_id: str, context: grpc.ServicerContext) -> str:
        require(context, case_id, "case_id", "is required: a case id such as the one intake assigned")
        if len(case_id) > _MAX_ID:
            abort_invalid(context, "case_id", f"at most {_MAX_ID} characters, got {len(case_id)}")
        try:
            self._hydrate(case_id)
        except Exception:
            context.abort(grpc.StatusCode.UNAVAILABLE, "notify is busy rebuilding its state; retry shortly")
        return case_id

    def ListDeliveries(self, request: notify_pb2.ListDeliveriesRequest,
                       context: grpc.ServicerContext) -> notify_pb2.ListDeliveriesResponse:
        case_id = self._case_id(request.case_id, context)
        records = self._service.deliveries(case_id)
        if not records and self._service.case(case_id) is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no case {case_id!r} known to notify")
        return notify_pb2.ListDeliveriesResponse(deliveries=[delivery(r) for r in records])

    def PreviewNotification(self, request: notify_pb2.PreviewNotificationRequest,
                            context: grpc.ServicerContext) -> notify_pb2.PreviewNotificationResponse:
        require(context, request.rule_id, "rule_id", "is required: the id of a rule in the rule book")
        if request.locale and not _LOCALE.match(request.locale):
            abort_invalid(context, "locale", f"{request.locale!r} is not a locale; expected e.g. 'en' or 'da-DK'")
        case_id = self._case_id(request.case_id, context)
        if self._service.case(case_id) is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no case {case_id!r} known to notify")
        try:
            p = self._service.preview(request.rule_id, case_id, request.locale or None)
        except UnknownRule as e:
            context.abort(grpc.StatusCode.NOT_FOUND, str(e))
        return notify_pb2.PreviewNotificationResponse(
            subject=p.subject, body=p.body, channel=p.channel, recipient_role=p.recipient_role, locale=p.locale,
        )
